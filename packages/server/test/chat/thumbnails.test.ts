/**
 * Image thumbnails on both engines: an uploaded PNG, JPEG (turned upright by its EXIF orientation), GIF
 * or WebP gets its size in the file's metadata and a thumbnail of at most PARLEY_FILE_THUMBNAIL_SIZE px
 * that shows the same picture, served only to the conversation's members; a decompression bomb is
 * refused from its header with image_too_large (no pixels decoded), a broken image with
 * image_unreadable, a text file has none.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jpegJs from 'jpeg-js';
import { PNG } from 'pngjs';
import type { FileInfo, Message } from '@parley/protocol';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { getBytes, openConversation } from './chat-helpers.ts';
import { probeImage } from '../../src/chat/image-probe.ts';
import { renderThumbnail, RenderError } from '../../src/chat/thumbnail-render.ts';
import { gifOf, jpegBomb, jpegOf, pngBomb, pngOf, webpOf, type Pixel } from './image-fixtures.ts';

/** Red on the left half, blue on the right. */
const leftRed =
  (width: number): Pixel =>
  (x) =>
    x < width / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255];
/** Red on the top half, blue below. */
const topRed =
  (height: number): Pixel =>
  (_x, y) =>
    y < height / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255];

function decodeThumb(type: string, bytes: Buffer): { width: number; height: number; data: Uint8Array } {
  if (type.startsWith('image/jpeg')) return jpegJs.decode(bytes, { useTArray: true, formatAsRGBA: true });
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}
const at = (img: { width: number; data: Uint8Array }, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
const isRed = (p: number[]) => p[0]! > 200 && p[2]! < 60;
const isBlue = (p: number[]) => p[2]! > 200 && p[0]! < 60;

test('image headers give the size without decoding', async () => {
  assert.deepEqual(probeImage('image/png', pngOf(7, 5, leftRed(7))), { width: 7, height: 5 });
  assert.deepEqual(probeImage('image/jpeg', jpegOf(33, 17, leftRed(33), 6)), { width: 33, height: 17 });
  assert.deepEqual(
    probeImage(
      'image/gif',
      gifOf(9, 4, () => 0),
    ),
    { width: 9, height: 4 },
  );
  assert.deepEqual(probeImage('image/webp', await webpOf(21, 13, leftRed(21))), { width: 21, height: 13 });
  assert.deepEqual(probeImage('image/jpeg', jpegBomb(60000, 50000)), { width: 60000, height: 50000 });
  assert.equal(probeImage('image/png', Buffer.from('\x89PNG\r\n\x1a\n garbage')), null);
});

test('a thumbnail shows the picture, upright, at most the size asked, never enlarged', async () => {
  const limits = { maxPixels: 10_000_000, maxSide: 64 };
  const wide = await renderThumbnail('image/png', pngOf(400, 200, leftRed(400)), limits);
  assert.deepEqual([wide.width, wide.height, wide.contentType], [64, 32, 'image/jpeg']);
  const w = decodeThumb(wide.contentType, wide.bytes);
  assert.ok(isRed(at(w, 8, 16)) && isBlue(at(w, 56, 16)));
  // Orientation 6: the camera was turned a quarter clockwise; the stored top becomes the right side.
  const turned = await renderThumbnail('image/jpeg', jpegOf(200, 100, topRed(100), 6), limits);
  assert.deepEqual([turned.width, turned.height], [32, 64]);
  const t = decodeThumb(turned.contentType, turned.bytes);
  assert.ok(isBlue(at(t, 4, 32)), `left ${at(t, 4, 32)}`);
  assert.ok(isRed(at(t, 28, 32)), `right ${at(t, 28, 32)}`);
  // Transparency survives as PNG; a small image keeps its size.
  const clear = await renderThumbnail(
    'image/png',
    pngOf(10, 10, (x) => [0, 255, 0, x < 5 ? 0 : 255]),
    limits,
  );
  assert.deepEqual([clear.width, clear.height, clear.contentType], [10, 10, 'image/png']);
  assert.equal(at(decodeThumb('image/png', clear.bytes), 1, 1)[3], 0);
  await assert.rejects(renderThumbnail('image/png', pngBomb(4000, 4000), limits), (e: RenderError) => {
    assert.equal(e.code, 'image_too_large');
    return true;
  });
});

const get = getBytes;
const errorCode = (body: Buffer) => (JSON.parse(body.toString()) as { error: { code: string } }).error.code;

for (const engine of engines) {
  describe(`chat image thumbnails (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let alice: { id: string; token: string };
    let bob: { id: string; token: string };
    let carol: { id: string; token: string };
    let conversationId: string;
    before(async () => {
      s = await startServer(engine, { fileThumbnailMaxPixels: 4_000_000, fileThumbnailSize: 320 });
      t = await makeTenant(s, 'thumbs');
      alice = await makeUser(s, t.id, `alice@${t.domain}`);
      bob = await makeUser(s, t.id, `bob@${t.domain}`);
      carol = await makeUser(s, t.id, `carol@${t.domain}`);
      conversationId = (await openConversation(s, alice.token, [bob.id], 'Pictures')).id;
    });
    after(() => s.close());

    const upload = async (name: string, bytes: Buffer) => {
      const r = await s.http.request(
        'POST',
        `/api/files?conversationId=${conversationId}&name=${encodeURIComponent(name)}`,
        undefined,
        { token: alice.token, raw: bytes, contentType: 'application/octet-stream' },
      );
      assert.equal(r.status, 201, r.text);
      return r.json as FileInfo;
    };

    test('PNG, JPEG, GIF and WebP uploads get their size and a thumbnail members can fetch', async () => {
      const cases: Array<
        [string, Buffer, { width: number; height: number }, { width: number; height: number }]
      > = [
        [
          'wide.png',
          pngOf(1000, 500, leftRed(1000)),
          { width: 1000, height: 500 },
          { width: 320, height: 160 },
        ],
        // Stored 640 x 400 with the top red; shown upright it is 400 x 640 with the red on the right.
        [
          'phone.jpg',
          jpegOf(640, 400, topRed(400), 6),
          { width: 400, height: 640 },
          { width: 200, height: 320 },
        ],
        [
          'small.gif',
          gifOf(100, 50, (x) => (x < 50 ? 0 : 1)),
          { width: 100, height: 50 },
          { width: 100, height: 50 },
        ],
        [
          'photo.webp',
          await webpOf(800, 600, leftRed(800)),
          { width: 800, height: 600 },
          { width: 320, height: 240 },
        ],
      ];
      for (const [name, bytes, size, thumb] of cases) {
        const info = await upload(name, bytes);
        assert.deepEqual(info.image, { ...size, thumbnail: thumb }, name);
        const got = await get(s, bob.token, `/api/files/${info.id}/thumbnail`);
        assert.equal(got.status, 200, `${name}: ${got.body.toString()}`);
        assert.match(String(got.headers['content-type']), /^image\/(jpeg|png)$/);
        assert.equal(got.headers['x-content-type-options'], 'nosniff');
        const img = decodeThumb(String(got.headers['content-type']), got.body);
        assert.deepEqual({ width: img.width, height: img.height }, thumb, name);
        const mid = Math.floor(img.height / 2);
        const [left, right] = [
          at(img, Math.floor(img.width * 0.15), mid),
          at(img, Math.floor(img.width * 0.85), mid),
        ];
        if (name === 'phone.jpg') assert.ok(isBlue(left) && isRed(right), `${name}: ${left} ${right}`);
        else assert.ok(isRed(left) && isBlue(right), `${name}: ${left} ${right}`);
        // Not a member of the conversation: no such file.
        assert.equal((await get(s, carol.token, `/api/files/${info.id}/thumbnail`)).status, 404);
      }
    });

    test('a message attaching an image carries its size for the preview', async () => {
      const info = await upload('chart.png', pngOf(640, 480, leftRed(640)));
      const r = await s.http.post(
        `/api/conversations/${conversationId}/messages`,
        { text: 'the chart', clientMessageId: 'thumb-1', attachments: [info.id] },
        { token: alice.token },
      );
      assert.equal(r.status, 201, r.text);
      const m = r.json as Message;
      assert.deepEqual(m.attachments[0]!.image, {
        width: 640,
        height: 480,
        thumbnail: { width: 320, height: 240 },
      });
    });

    test('bombs are refused from their header, broken images and text have no thumbnail', async () => {
      // 3,000 x 3,000 RGBA (36 MB of pixels) in a few kilobytes: over the 4-megapixel setting.
      const bomb = pngBomb(3000, 3000, 3000);
      assert.ok(bomb.length < 100_000, `${bomb.length} bytes`);
      const b = await upload('bomb.png', bomb);
      assert.deepEqual(b.image, { width: 3000, height: 3000, thumbnail: null });
      const refused = await get(s, alice.token, `/api/files/${b.id}/thumbnail`);
      assert.equal(refused.status, 422);
      assert.equal(errorCode(refused.body), 'image_too_large');
      const jb = await upload('bomb.jpg', jpegBomb(60000, 60000));
      const jr = await get(s, alice.token, `/api/files/${jb.id}/thumbnail`);
      assert.equal(errorCode(jr.body), 'image_too_large');
      // Its header is fine but the pixels stop after 4 rows: found out when rendering.
      const broken = await upload('broken.png', pngBomb(200, 100, 4));
      assert.deepEqual(broken.image, { width: 200, height: 100, thumbnail: { width: 200, height: 100 } });
      const br = await get(s, alice.token, `/api/files/${broken.id}/thumbnail`);
      assert.equal(br.status, 422);
      assert.equal(errorCode(br.body), 'image_unreadable');
      const text = await upload('notes.txt', Buffer.from('just words'));
      assert.equal(text.image, null);
      const none = await get(s, alice.token, `/api/files/${text.id}/thumbnail`);
      assert.equal(none.status, 404);
      assert.equal(errorCode(none.body), 'not_found');
      // The originals are still there, byte for byte.
      assert.ok((await get(s, bob.token, `/api/files/${b.id}`)).body.equals(bomb));
    });
  });
}
