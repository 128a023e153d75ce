/**
 * File routes: `POST /api/files?conversationId=&name=` streams the request body (any content type; it
 * is sniffed) into the blob store; `GET /api/files/:id` streams it back to a member of its conversation
 * with headers that keep a browser from running it; `GET /api/files/:id/thumbnail` an image's thumbnail
 * (at most PARLEY_FILE_THUMBNAIL_SIZE px on its longer side, JPEG or PNG) to the same members.
 */
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { FileInfo, Id, UploadQuery } from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import { contentDisposition, type FileStore } from './files.ts';
import { chatUser } from './routes.ts';

/** Headers that keep a browser from sniffing or running what a file route serves. */
const inert = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
};

export function fileRoutes(files: FileStore): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/files',
      tag: 'chat',
      summary:
        'Upload a file to a conversation (the request body is the file, streamed; at most PARLEY_FILE_MAX_BYTES, else 413). Attach it to a message by id',
      access: 'user',
      query: UploadQuery,
      rawBody: true,
      response: FileInfo,
      handler: async (ctx) => {
        const length = ctx.reply.request.headers['content-length'];
        try {
          const info = await files.upload(
            ctx.scope,
            chatUser(ctx),
            ctx.query.conversationId,
            ctx.query.name,
            ctx.body as unknown as Readable | undefined,
            length === undefined ? undefined : Number(length),
          );
          ctx.reply.status(201);
          return info;
        } catch (err) {
          // The rest of a refused body is never read: close the connection after the answer.
          void ctx.reply.header('connection', 'close');
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/files/:id',
      tag: 'chat',
      summary:
        'Download a file (members of its conversation only); served with its sniffed type, nosniff, a sandboxing CSP and a safe Content-Disposition',
      access: 'user',
      params: z.strictObject({ id: Id }),
      resources: { id: 'file' },
      rawReply: true,
      response: z.unknown(),
      handler: async (ctx) => {
        const { info, stream } = await files.download(ctx.scope, chatUser(ctx), ctx.params.id);
        const type = info.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : info.contentType;
        return ctx.reply
          .header('content-type', type)
          .header('content-length', String(info.size))
          .headers(inert)
          .header('content-disposition', contentDisposition(info.name, info.contentType))
          .header('cache-control', 'private, max-age=0')
          .header('etag', `"${info.sha256}"`)
          .send(stream);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/files/:id/thumbnail',
      tag: 'chat',
      summary:
        "An image file's thumbnail (members of its conversation only; JPEG, or PNG when transparent; waits while it is rendered). Not an image: 404; too many pixels: 422 image_too_large; undecodable: 422 image_unreadable",
      access: 'user',
      params: z.strictObject({ id: Id }),
      resources: { id: 'file' },
      rawReply: true,
      response: z.unknown(),
      handler: async (ctx) => {
        const { info, contentType, stream } = await files.thumbnail(ctx.scope, chatUser(ctx), ctx.params.id);
        return ctx.reply
          .header('content-type', contentType)
          .headers(inert)
          .header('content-disposition', 'inline')
          .header('cache-control', 'private, max-age=86400, immutable')
          .header('etag', `"${info.sha256}-thumb"`)
          .send(stream);
      },
    }),
  ];
}
