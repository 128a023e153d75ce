/**
 * The thumbnailer: renders image thumbnails in a worker thread, one at a time, after the upload has been
 * answered (decoding a 12-megapixel JPEG in JavaScript takes a second or two of CPU, which must stall
 * neither the upload nor anyone's messages). A file's row says `pending` until its thumbnail is stored
 * in the blob store (`<file id>.thumb`) and the row says `ready`, or `failed` with the error code.
 *
 * Nothing is lost to a crash or to another node: a `pending` file whose job is not running here is
 * rendered when someone asks for its thumbnail (`ensure`), and the same file is never rendered twice at
 * once in one process. The worker starts on the first job and ends after a quiet minute, giving back the
 * decoders' memory; a worker that dies (out of memory despite the pixel bound) fails that one job.
 */
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../storage/schema.ts';
import type { BlobStore } from './files.ts';
import type { WriteQueue } from './write-queue.ts';
import type { RenderLimits } from './thumbnail-render.ts';
import type { ThumbnailJob, ThumbnailJobResult } from './thumbnail-worker.ts';

/** Loads the worker's TypeScript through tsx inside the worker thread (workers do not inherit loaders). */
function bootstrap(): string {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./thumbnail-worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
}

const IDLE_MS = 60_000;

export class Thumbnailer {
  private worker: Worker | null = null;
  private ready: Promise<Worker> | null = null;
  private readonly running = new Map<string, Promise<void>>();
  private chain: Promise<void> = Promise.resolve();
  private nextJob = 1;
  private readonly waiting = new Map<number, (r: ThumbnailJobResult) => void>();
  private idle: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: WriteQueue,
    private readonly blobs: BlobStore,
    private readonly limits: RenderLimits,
    private readonly log: Logger,
  ) {}

  /**
   * Renders the thumbnail of a `pending` file unless it is already being rendered here; resolves once
   * its row says `ready` or `failed` (never rejects: a failure is stored as the row's error).
   */
  ensure(tenantId: string, fileId: string, contentType: string): Promise<void> {
    let p = this.running.get(fileId);
    if (!p) {
      p = this.enqueue(() => this.render(tenantId, fileId, contentType)).finally(() =>
        this.running.delete(fileId),
      );
      this.running.set(fileId, p);
    }
    return p;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const p = this.chain.then(task, task);
    this.chain = p.catch(() => {});
    return p;
  }

  private async render(tenantId: string, fileId: string, contentType: string): Promise<void> {
    if (this.closed) return;
    const row = await this.db
      .selectFrom('files')
      .select('thumb_state')
      .where('id', '=', fileId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    if (row?.thumb_state !== 'pending') return;
    let r: ThumbnailJobResult;
    try {
      r = await this.run({ path: this.blobs.path(tenantId, fileId), contentType, limits: this.limits });
    } catch (err) {
      this.log.warn({ err, fileId }, 'thumbnail worker failed');
      r = { job: 0, ok: false, code: 'image_unreadable', message: String((err as Error).message) };
    }
    if (this.closed) return; // stays pending: rendered on demand after a restart
    if (r.ok) {
      await this.blobs.putBytes(tenantId, `${fileId}.thumb`, r.bytes);
      await this.writer.write((tx) =>
        tx
          .updateTable('files')
          .set({
            thumb_state: 'ready',
            thumb_width: r.width,
            thumb_height: r.height,
            thumb_type: r.contentType,
          })
          .where('id', '=', fileId)
          .where('tenant_id', '=', tenantId)
          .execute(),
      );
    } else {
      this.log.info({ fileId, code: r.code, reason: r.message }, 'no thumbnail');
      await this.writer.write((tx) =>
        tx
          .updateTable('files')
          .set({ thumb_state: 'failed', thumb_error: r.code })
          .where('id', '=', fileId)
          .where('tenant_id', '=', tenantId)
          .execute(),
      );
    }
  }

  /** Runs one job on the worker (starting it if needed). */
  private async run(job: Omit<ThumbnailJob, 'job'>): Promise<ThumbnailJobResult> {
    if (this.idle) clearTimeout(this.idle);
    const worker = await this.start();
    const id = this.nextJob++;
    try {
      return await new Promise<ThumbnailJobResult>((resolve) => {
        this.waiting.set(id, resolve);
        worker.postMessage({ ...job, job: id } satisfies ThumbnailJob);
      });
    } finally {
      this.idle = setTimeout(() => this.stopWorker(), IDLE_MS);
      this.idle.unref();
    }
  }

  private start(): Promise<Worker> {
    this.ready ??= new Promise<Worker>((resolve, reject) => {
      const w = new Worker(bootstrap(), { eval: true, resourceLimits: { maxOldGenerationSizeMb: 512 } });
      w.unref();
      this.worker = w;
      w.on('message', (m: ThumbnailJobResult | 'ready') => {
        if (m === 'ready') return resolve(w);
        const done = this.waiting.get(m.job);
        this.waiting.delete(m.job);
        done?.(m);
      });
      // An error or an exit fails the jobs in flight; the next job starts a new worker.
      const fail = (err: Error) => {
        if (this.worker !== w) return;
        this.worker = null;
        this.ready = null;
        reject(err);
        // Out of memory despite the pixel bound is still a too-large image; anything else is unreadable.
        const code =
          (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? 'image_too_large'
            : 'image_unreadable';
        for (const [job, done] of this.waiting)
          done({ job, ok: false, code, message: `the thumbnail worker stopped: ${err.message}` });
        this.waiting.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`exit ${code}`)));
    });
    return this.ready;
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) void w.terminate();
  }

  /** Stops the worker; pending files stay pending (rendered on demand later). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    const w = this.worker;
    this.stopWorker();
    for (const [job, done] of this.waiting)
      done({ job, ok: false, code: 'image_unreadable', message: 'the server is stopping' });
    this.waiting.clear();
    if (w) await w.terminate();
  }
}
