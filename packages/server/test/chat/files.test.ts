/**
 * Chat files on both engines: streamed uploads (larger than the JSON body limit), sniffed types,
 * downloads only for members with headers that keep a browser from running them, size limits (413 by
 * Content-Length and while streaming, leaving no partial blob), attachments only from the same
 * conversation, and a removed member keeps only the files posted before leaving.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FileInfo, Message } from '@parley/protocol';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';
import { getBytes, openConversation } from './chat-helpers.ts';
import { contentDisposition, sniff } from '../../src/chat/files.ts';

const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(200)]);

test('sniffing and Content-Disposition', () => {
  assert.equal(sniff(png), 'image/png');
  assert.equal(sniff(Buffer.from('%PDF-1.7 ...')), 'application/pdf');
  assert.equal(sniff(Buffer.from('<html><script>alert(1)</script></html>')), 'text/plain');
  assert.equal(sniff(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), 'text/plain');
  assert.equal(sniff(Buffer.from([0, 1, 2, 3, 0xff])), 'application/octet-stream');
  assert.equal(sniff(Buffer.from('naïve café ☕')), 'text/plain');
  assert.equal(
    contentDisposition('a"b\\c\r\nd.html', 'text/plain'),
    `attachment; filename="a_b_c__d.html"; filename*=UTF-8''a%22b%5Cc%0D%0Ad.html`,
  );
  assert.equal(
    contentDisposition('été.png', 'image/png'),
    `inline; filename="_t_.png"; filename*=UTF-8''%C3%A9t%C3%A9.png`,
  );
});

/** A chunked upload (no Content-Length), in pieces. */
function chunkedUpload(s: TestServer, token: string, path: string, pieces: Buffer[]) {
  return new Promise<{ status: number; json: unknown }>((resolve, reject) => {
    const url = new URL(path, s.url);
    const req = http.request(
      {
        method: 'POST',
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString() || 'null'),
          }),
        );
      },
    );
    req.on('error', reject);
    for (const p of pieces) req.write(p);
    req.end();
  });
}

for (const engine of engines) {
  describe(`chat files (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let alice: { id: string; token: string };
    let bob: { id: string; token: string };
    let carol: { id: string; token: string };
    before(async () => {
      s = await startServer(engine, { fileMaxBytes: 8 * 1024 * 1024, chatSendBurst: 1000 });
      t = await makeTenant(s, 'files');
      alice = await makeUser(s, t.id, `alice@${t.domain}`);
      bob = await makeUser(s, t.id, `bob@${t.domain}`);
      carol = await makeUser(s, t.id, `carol@${t.domain}`);
    });
    after(() => s.close());

    const upload = (
      token: string,
      conversationId: string,
      name: string,
      bytes: Buffer,
      contentType = 'application/octet-stream',
    ) =>
      s.http.request(
        'POST',
        `/api/files?conversationId=${conversationId}&name=${encodeURIComponent(name)}`,
        undefined,
        {
          token,
          raw: bytes,
          contentType,
        },
      );
    const download = (token: string, id: string) => getBytes(s, token, `/api/files/${id}`);

    test('an image and an HTML file: sniffed, served to members with safe headers, byte for byte', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Files');
      const up = await upload(alice.token, id, '"><img src=x onerror=alert(1)>.png', png, 'text/html');
      assert.equal(up.status, 201, up.text);
      const info = up.json as FileInfo;
      assert.equal(info.contentType, 'image/png', 'the client’s content type is ignored');
      assert.equal(info.size, png.length);
      assert.equal(info.name, '"><img src=x onerror=alert(1)>.png', 'the name is stored verbatim');
      const got = await download(bob.token, info.id);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(png));
      assert.equal(got.headers['content-type'], 'image/png');
      assert.equal(got.headers['x-content-type-options'], 'nosniff');
      assert.match(String(got.headers['content-security-policy']), /sandbox/);
      assert.match(
        String(got.headers['content-disposition']),
        /^inline; filename="_><img src=x onerror=alert\(1\)>\.png"; filename\*=UTF-8''%22%3E%3Cimg/,
      );
      const html = await upload(
        alice.token,
        id,
        'page.html',
        Buffer.from('<html><script>alert(1)</script></html>'),
        'text/html',
      );
      const page = await download(alice.token, (html.json as FileInfo).id);
      assert.equal(page.headers['content-type'], 'text/plain; charset=utf-8');
      assert.match(String(page.headers['content-disposition']), /^attachment;/);
      // Not a member: no such file.
      const denied = await download(carol.token, info.id);
      assert.equal(denied.status, 404);
      const upDenied = await upload(carol.token, id, 'x.txt', Buffer.from('hi'));
      assert.equal(upDenied.status, 404);
    });

    test('a file larger than the JSON body limit streams in whole; over the file limit is 413 with nothing left behind', async () => {
      const { id } = await openConversation(s, alice.token, [bob.id], 'Big files');
      const big = randomBytes(5 * 1024 * 1024); // five times PARLEY_BODY_LIMIT
      const r = await upload(alice.token, id, 'big.bin', big);
      assert.equal(r.status, 201, r.text);
      assert.equal((r.json as FileInfo).sha256, createHash('sha256').update(big).digest('hex'));
      assert.ok((await download(bob.token, (r.json as FileInfo).id)).body.equals(big));
      const tooBig = randomBytes(9 * 1024 * 1024);
      const declared = await upload(alice.token, id, 'huge.bin', tooBig);
      assert.equal(declared.status, 413);
      assert.equal(code(declared), 'payload_too_large');
      const streamed = await chunkedUpload(s, alice.token, `/api/files?conversationId=${id}&name=huge.bin`, [
        tooBig.subarray(0, 4 * 1024 * 1024),
        tooBig.subarray(4 * 1024 * 1024),
      ]);
      assert.equal(streamed.status, 413);
      const left = readdirSync(join(s.dataDir, 'blobs', t.id));
      assert.ok(!left.some((f) => f.endsWith('.partial')), left.join());
      assert.equal(left.length, 3, 'the two earlier files and big.bin');
      const empty = await upload(alice.token, id, 'empty.txt', Buffer.alloc(0));
      assert.equal(empty.status, 400);
      const badName = await upload(alice.token, id, '../../etc/passwd', Buffer.from('x'));
      assert.equal(badName.status, 400);
    });

    test('attachments come only from the same conversation; a removed member keeps only earlier files', async () => {
      const a = await openConversation(s, alice.token, [bob.id, carol.id], 'Attach A');
      const b = await openConversation(s, alice.token, [bob.id], 'Attach B');
      const fa = (await upload(alice.token, a.id, 'a.txt', Buffer.from('file in A'))).json as FileInfo;
      const fb = (await upload(alice.token, b.id, 'b.txt', Buffer.from('file in B'))).json as FileInfo;
      const ok = await s.http.post(
        `/api/conversations/${a.id}/messages`,
        { text: 'see attached', clientMessageId: 'att-1', attachments: [fa.id] },
        { token: alice.token },
      );
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual((ok.json as Message).attachments, [
        { id: fa.id, name: 'a.txt', contentType: 'text/plain', size: 9 },
      ]);
      const cross = await s.http.post(
        `/api/conversations/${a.id}/messages`,
        { text: 'smuggle', clientMessageId: 'att-2', attachments: [fb.id] },
        { token: alice.token },
      );
      assert.equal(cross.status, 404);
      assert.equal((await download(carol.token, fb.id)).status, 404);
      await s.http.delete(`/api/conversations/${a.id}/members/${carol.id}`, { token: alice.token });
      const later = (await upload(alice.token, a.id, 'later.txt', Buffer.from('after carol left')))
        .json as FileInfo;
      assert.equal((await download(carol.token, fa.id)).status, 200);
      assert.equal((await download(carol.token, later.id)).status, 404);
    });
  });
}
