/**
 * The thumbnail worker thread: reads an image blob, renders its thumbnail (thumbnail-render.ts) and posts
 * the bytes back (transferred, not copied). One job at a time; the main thread queues them.
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { RenderError, renderThumbnail, type RenderLimits } from './thumbnail-render.ts';

/** A job for the worker. */
export interface ThumbnailJob {
  job: number;
  path: string;
  contentType: string;
  limits: RenderLimits;
}

/** The worker's answer to a job. */
export type ThumbnailJobResult =
  | { job: number; ok: true; width: number; height: number; contentType: string; bytes: Uint8Array }
  | { job: number; ok: false; code: 'image_too_large' | 'image_unreadable'; message: string };

const port = parentPort!;
port.on('message', (m: ThumbnailJob) => {
  void (async (): Promise<ThumbnailJobResult> => {
    try {
      const t = await renderThumbnail(m.contentType, await readFile(m.path), m.limits);
      return {
        job: m.job,
        ok: true,
        width: t.width,
        height: t.height,
        contentType: t.contentType,
        bytes: t.bytes,
      };
    } catch (err) {
      if (err instanceof RenderError) return { job: m.job, ok: false, code: err.code, message: err.message };
      return {
        job: m.job,
        ok: false,
        code: 'image_unreadable',
        message: String((err as Error)?.message ?? err),
      };
    }
  })().then((r) => {
    if (r.ok) {
      const bytes = new Uint8Array(r.bytes);
      port.postMessage({ ...r, bytes }, [bytes.buffer]);
    } else port.postMessage(r);
  });
});
port.postMessage('ready');
