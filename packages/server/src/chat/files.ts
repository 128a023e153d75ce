/**
 * Chat files: uploads streamed to the blob store in the data folder (`blobs/<tenant>/<file id>`), never
 * held whole in memory, with a size limit enforced while the bytes arrive (413, and the partial blob is
 * removed). The content type is sniffed from the first bytes, never taken from the client, and is never
 * one a browser would run (no HTML or SVG: text is served as text/plain). A file belongs to the
 * conversation it was uploaded to: only that conversation's members (former ones included, as for the
 * history) may download it, and a message may attach only files of its own conversation.
 *
 * Images (PNG, JPEG, GIF, WebP) get their upright size from the header at upload, and a thumbnail
 * rendered afterwards by the Thumbnailer (thumbnails.ts), served by `thumbnail()` to the same members.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import { ParleyError, type ErrorCode, type FileInfo, type ImageInfo } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { TenantScope } from '../directory/scope.ts';
import { iso, newId } from '../ids.ts';
import type { ConversationStore } from './conversations.ts';
import type { WriteQueue } from './write-queue.ts';
import type { FilesTable } from './chat-tables.ts';
import { PROBE_BYTES, probeImage } from './image-probe.ts';
import { displaySize, exifOrientation, thumbnailSize } from './thumbnail-render.ts';
import type { Thumbnailer } from './thumbnails.ts';

/** The blob store: files under one folder, written to a temporary name and renamed when complete. */
export class BlobStore {
  constructor(private readonly root: string) {}

  path(tenantId: string, id: string): string {
    return join(this.root, tenantId, id);
  }

  /** Streams `source` into a new blob; `inspect` sees every chunk (and may throw to abort). */
  async put(tenantId: string, id: string, source: Readable, inspect: (chunk: Buffer) => void): Promise<void> {
    const dir = join(this.root, tenantId);
    await mkdir(dir, { recursive: true });
    const partial = join(dir, `${id}.partial`);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        try {
          inspect(chunk);
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
    });
    // A classic pipe, not pipeline(source, ...): a refused upload must not destroy the request (and its
    // socket) before the 413 is answered. A client that goes away fails the write.
    const gone = (err?: Error) => tap.destroy(err ?? new Error('upload aborted'));
    source.once('error', gone);
    source.once('aborted', () => gone());
    source.pipe(tap);
    try {
      await pipeline(tap, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, this.path(tenantId, id));
    } catch (err) {
      source.unpipe(tap);
      await unlink(partial).catch(() => {});
      throw err;
    } finally {
      source.off('error', gone);
    }
  }

  /** Writes a small blob whole (a thumbnail), atomically by rename. */
  async putBytes(tenantId: string, id: string, bytes: Uint8Array): Promise<void> {
    const dir = join(this.root, tenantId);
    await mkdir(dir, { recursive: true });
    const partial = join(dir, `${id}.${newId('tmp')}.partial`);
    try {
      await writeFile(partial, bytes);
      await rename(partial, this.path(tenantId, id));
    } catch (err) {
      await unlink(partial).catch(() => {});
      throw err;
    }
  }

  open(tenantId: string, id: string): Readable {
    return createReadStream(this.path(tenantId, id));
  }
}

/** The image columns of a new file's row: its upright size and what its thumbnail will be. */
export function imageColumns(
  contentType: string,
  head: Buffer,
  limits: { thumbnailMaxPixels: number; thumbnailSize: number },
): Pick<FilesTable, 'width' | 'height' | 'thumb_state' | 'thumb_width' | 'thumb_height' | 'thumb_error'> {
  const none = { thumb_width: null, thumb_height: null };
  if (!inlineTypes.has(contentType))
    return { width: null, height: null, thumb_state: null, thumb_error: null, ...none };
  const raw = probeImage(contentType, head);
  if (!raw)
    return { width: null, height: null, thumb_state: 'failed', thumb_error: 'image_unreadable', ...none };
  const size = displaySize(raw, contentType === 'image/jpeg' ? exifOrientation(head) : 1);
  if (raw.width * raw.height > limits.thumbnailMaxPixels)
    return { ...size, thumb_state: 'failed', thumb_error: 'image_too_large', ...none };
  const t = thumbnailSize(size, limits.thumbnailSize);
  return { ...size, thumb_state: 'pending', thumb_error: null, thumb_width: t.width, thumb_height: t.height };
}

/** Magic numbers of the types served as themselves; anything else is text (valid UTF-8) or octet-stream. */
const signatures: Array<[string, (b: Buffer) => boolean]> = [
  [
    'image/png',
    (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  ],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/gif', (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1'))],
  [
    'image/webp',
    (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
  [
    'audio/wav',
    (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WAVE',
  ],
  ['application/pdf', (b) => b.subarray(0, 5).toString('latin1') === '%PDF-'],
  ['application/zip', (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04],
  ['audio/ogg', (b) => b.subarray(0, 4).toString('latin1') === 'OggS'],
  ['audio/mpeg', (b) => b.subarray(0, 3).toString('latin1') === 'ID3'],
  ['video/mp4', (b) => b.subarray(4, 8).toString('latin1') === 'ftyp'],
];

/** The content type of a file from its first bytes (at most 512 needed). */
export function sniff(head: Buffer): string {
  for (const [type, test] of signatures) if (test(head)) return type;
  if (head.length === 0 || head.includes(0)) return 'application/octet-stream';
  // Text when the bytes are UTF-8 (a multi-byte sequence cut at the end of the head is allowed).
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const bad = (text.match(/\uFFFD/g) ?? []).length;
  return bad <= 1 && !text.slice(0, -1).includes('\uFFFD') ? 'text/plain' : 'application/octet-stream';
}

/** Types a browser may show inline; everything else downloads. */
const inlineTypes = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * A Content-Disposition that names the file safely (RFC 6266 §4.1, RFC 8187): an ASCII fallback with
 * quotes, backslashes and controls replaced, and the exact name percent-encoded in `filename*`.
 */
export function contentDisposition(name: string, contentType: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  const kind = inlineTypes.has(contentType) ? 'inline' : 'attachment';
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

export class FileStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: WriteQueue,
    private readonly blobs: BlobStore,
    private readonly conversations: Pick<ConversationStore, 'access'>,
    private readonly thumbnails: Pick<Thumbnailer, 'ensure'>,
    private readonly limits: { maxBytes: number; thumbnailMaxPixels: number; thumbnailSize: number },
  ) {}

  /**
   * Stores an upload for a conversation the caller is a current member of. `declaredLength` (the
   * Content-Length) lets an oversize upload be refused before a byte is read.
   */
  async upload(
    scope: TenantScope,
    userId: string,
    conversationId: string,
    name: string,
    source: Readable | undefined,
    declaredLength: number | undefined,
  ): Promise<FileInfo> {
    await this.conversations.access(scope, userId, conversationId, 'write');
    const max = this.limits.maxBytes;
    if (declaredLength !== undefined && declaredLength > max)
      throw new ParleyError('payload_too_large', `files are at most ${max} bytes`);
    if (!source)
      throw new ParleyError('validation_failed', 'send the file as the request body', { field: 'body' });
    const id = newId('fil');
    const hash = createHash('sha256');
    let size = 0;
    const heads: Buffer[] = [];
    let headBytes = 0;
    await this.blobs.put(scope.tenantId, id, source, (chunk) => {
      size += chunk.length;
      if (size > max) throw new ParleyError('payload_too_large', `files are at most ${max} bytes`);
      hash.update(chunk);
      // The first bytes: the type, and an image's header (a JPEG's frame header follows its EXIF).
      if (headBytes < PROBE_BYTES) {
        heads.push(chunk.subarray(0, PROBE_BYTES - headBytes));
        headBytes += Math.min(chunk.length, PROBE_BYTES - headBytes);
      }
    });
    if (size === 0) {
      await unlink(this.blobs.path(scope.tenantId, id)).catch(() => {});
      throw new ParleyError('validation_failed', 'the file is empty', { field: 'body' });
    }
    const head = Buffer.concat(heads);
    const contentType = sniff(head.subarray(0, 512));
    const row = {
      id,
      tenant_id: scope.tenantId,
      conversation_id: conversationId,
      uploader_id: userId,
      name,
      content_type: contentType,
      size,
      sha256: hash.digest('hex'),
      created_at: Date.now(),
      ...imageColumns(contentType, head, this.limits),
      thumb_type: null,
    };
    await this.writer.write((tx) => tx.insertInto('files').values(row).execute());
    // Rendered after the answer; a GET of the thumbnail waits for it.
    if (row.thumb_state === 'pending') void this.thumbnails.ensure(scope.tenantId, id, contentType);
    return fileOut(row);
  }

  /** The file's row, for a member (current or former) of its conversation; else 404. */
  private async readable(scope: TenantScope, userId: string, fileId: string): Promise<FilesTable> {
    const row = await this.db
      .selectFrom('files')
      .selectAll()
      .where('id', '=', fileId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (!row) throw new ParleyError('not_found', 'no such file');
    const a = await this.conversations.access(scope, userId, row.conversation_id, 'read').catch(() => null);
    // A former member keeps the files posted before they left, like the history.
    if (!a || (a.member.left_at !== null && Number(row.created_at) > a.member.left_at))
      throw new ParleyError('not_found', 'no such file');
    return row;
  }

  /** The file and a stream of its bytes, for a member (current or former) of its conversation; else 404. */
  async download(
    scope: TenantScope,
    userId: string,
    fileId: string,
  ): Promise<{ info: FileInfo; stream: Readable }> {
    const row = await this.readable(scope, userId, fileId);
    return { info: fileOut(row), stream: this.blobs.open(scope.tenantId, fileId) };
  }

  /**
   * An image file's thumbnail, for the same members as the file, waiting for it if it is still being
   * rendered. Not an image: not_found; refused: its code (image_too_large, image_unreadable).
   */
  async thumbnail(
    scope: TenantScope,
    userId: string,
    fileId: string,
  ): Promise<{ info: FileInfo; contentType: string; stream: Readable }> {
    let row = await this.readable(scope, userId, fileId);
    if (row.thumb_state === 'pending') {
      await this.thumbnails.ensure(scope.tenantId, fileId, row.content_type);
      row = await this.readable(scope, userId, fileId);
    }
    switch (row.thumb_state) {
      case null:
        throw new ParleyError('not_found', 'this file is not an image: it has no thumbnail');
      case 'failed': {
        const code = (row.thumb_error ?? 'image_unreadable') as ErrorCode;
        throw new ParleyError(
          code,
          code === 'image_too_large'
            ? `the image is too large (${row.width} x ${row.height} pixels) for a thumbnail`
            : 'the image could not be read: it has no thumbnail',
        );
      }
      case 'pending':
        throw new ParleyError('unavailable', 'the thumbnail is not ready yet: try again shortly');
      case 'ready':
        return {
          info: fileOut(row),
          contentType: row.thumb_type ?? 'image/jpeg',
          stream: this.blobs.open(scope.tenantId, `${fileId}.thumb`),
        };
    }
  }
}

/** The image part of a file's metadata (null: not an image). */
export function imageOut(
  r: Pick<FilesTable, 'width' | 'height' | 'thumb_state' | 'thumb_width' | 'thumb_height'>,
): ImageInfo | null {
  if (r.thumb_state === null || r.width === null || r.height === null) return null;
  const thumbnail =
    r.thumb_state !== 'failed' && r.thumb_width !== null && r.thumb_height !== null
      ? { width: Number(r.thumb_width), height: Number(r.thumb_height) }
      : null;
  return { width: Number(r.width), height: Number(r.height), thumbnail };
}

function fileOut(r: FilesTable): FileInfo {
  return {
    image: imageOut(r),
    id: r.id,
    conversationId: r.conversation_id,
    uploaderId: r.uploader_id,
    name: r.name,
    contentType: r.content_type,
    size: Number(r.size),
    sha256: r.sha256,
    createdAt: iso(Number(r.created_at)),
  };
}
