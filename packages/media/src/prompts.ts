/**
 * Spoken prompts from text, made on this machine by Debian's `espeak-ng` (never downloaded) and kept
 * in a cache folder named by a hash of everything that shapes the sound (engine, voice, speed,
 * text), so each prompt is spoken once per installation and later calls only read a file.
 *
 * When espeak-ng is not installed the error is `tts_unavailable` with a message the server can log
 * as is; the caller then plays tones instead ({@link PromptCache.available} asks up front).
 * The text goes to espeak-ng on stdin, never as an argument, so no text is read as an option.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from './errors.ts';
import { readWav, type Pcm } from './wav.ts';

export interface PromptCacheOptions {
  /** Folder for the cached WAV files (created when missing). */
  readonly folder: string;
  /** espeak-ng voice (default 'en'). */
  readonly voice?: string;
  /** Words per minute (default 160, a little slower than espeak's 175, for the phone). */
  readonly speed?: number;
  /** The program (default 'espeak-ng' on the PATH). */
  readonly command?: string;
  /** How long one synthesis may take (default 20 s). */
  readonly timeoutMs?: number;
}

export interface Prompt {
  readonly path: string;
  /** True when the file was already in the cache (espeak-ng did not run). */
  readonly cached: boolean;
}

/** Longest prompt text: prompts are sentences, not documents. */
export const MAX_PROMPT_CHARS = 2000;

export class PromptCache {
  private readonly inFlight = new Map<string, Promise<Prompt>>();
  /** How many times espeak-ng ran (for tests and logs). */
  synthesized = 0;

  constructor(private readonly options: PromptCacheOptions) {}

  private get command(): string {
    return this.options.command ?? 'espeak-ng';
  }

  /** Whether the engine runs here (`espeak-ng --version`). */
  async available(): Promise<boolean> {
    try {
      await this.run(['--version'], '');
      return true;
    } catch {
      return false;
    }
  }

  /** The cached WAV for `text`, speaking it first if needed. Concurrent calls share one synthesis. */
  prompt(text: string, voice = this.options.voice ?? 'en'): Promise<Prompt> {
    const clean = text.trim();
    if (clean.length === 0 || clean.length > MAX_PROMPT_CHARS)
      return Promise.reject(
        new MediaError('tts_failed', `prompt text must be 1 to ${MAX_PROMPT_CHARS} characters`),
      );
    if (!/^[A-Za-z0-9_+-]{1,40}$/.test(voice))
      return Promise.reject(new MediaError('tts_failed', `not an espeak-ng voice name: ${voice}`));
    const speed = this.options.speed ?? 160;
    const key = createHash('sha256')
      .update(JSON.stringify(['espeak-ng', voice, speed, clean]))
      .digest('hex');
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.make(key, clean, voice, speed).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  /** The prompt's PCM (espeak-ng speaks at 22,050 Hz; the player converts). */
  async load(text: string, voice?: string): Promise<Pcm> {
    return readWav((await this.prompt(text, voice)).path);
  }

  private async make(key: string, text: string, voice: string, speed: number): Promise<Prompt> {
    const path = join(this.options.folder, `${key.slice(0, 40)}.wav`);
    try {
      if ((await stat(path)).size > 44) return { path, cached: true };
    } catch {
      // not cached yet
    }
    await mkdir(this.options.folder, { recursive: true });
    const tmp = join(this.options.folder, `.${randomUUID()}.tmp`);
    try {
      await this.run(['-v', voice, '-s', String(speed), '-w', tmp, '--stdin'], text);
      this.synthesized++;
      await readWav(tmp); // refuse to cache something that is not a WAV
      await rename(tmp, path); // atomic: a reader never sees half a file
    } finally {
      await rm(tmp, { force: true });
    }
    return { path, cached: false };
  }

  private run(args: string[], stdin: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), this.options.timeoutMs ?? 20_000);
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < 2000) stderr += d.toString();
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          err.code === 'ENOENT'
            ? new MediaError(
                'tts_unavailable',
                `${this.command} is not installed (Debian: apt-get install espeak-ng); prompts fall back to tones`,
                { cause: err },
              )
            : new MediaError('tts_failed', `${this.command} could not start: ${err.message}`, { cause: err }),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else
          reject(
            new MediaError(
              'tts_failed',
              `${this.command} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}`,
            ),
          );
      });
      child.stdin.on('error', () => {}); // EPIPE when the program exits early: reported by 'close'
      child.stdin.end(stdin);
    });
  }
}
