/** Prompts spoken by the real espeak-ng (installed by scripts/test-all.sh), cached by text and voice. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { MediaError, PromptCache, readWav, rmsDbfs } from '../src/index.ts';

test('a prompt is spoken once, then read from the cache (espeak-ng does not run again)', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'parley-prompts-'));
  try {
    const cache = new PromptCache({ folder });
    assert.equal(await cache.available(), true);
    const first = await cache.prompt('Welcome to the Parley echo test.');
    assert.equal(first.cached, false);
    assert.equal(cache.synthesized, 1);
    const pcm = await readWav(first.path);
    assert.equal(pcm.sampleRate, 22050);
    assert.ok(pcm.samples.length > 22050, 'more than a second of speech');
    assert.ok(rmsDbfs(pcm.samples) > -40, 'speech, not silence');
    const mtime = (await stat(first.path)).mtimeMs;

    const second = await cache.prompt('Welcome to the Parley echo test.');
    assert.deepEqual(second, { path: first.path, cached: true });
    assert.equal(cache.synthesized, 1);
    assert.equal((await stat(first.path)).mtimeMs, mtime);
    // Even with no engine at all, a cached prompt is served from the folder.
    const offline = new PromptCache({ folder, command: '/nonexistent/espeak-ng' });
    assert.equal((await offline.prompt('Welcome to the Parley echo test.')).cached, true);

    // Another voice or text is another file; concurrent requests share one synthesis.
    const [a, b] = await Promise.all([cache.prompt('Goodbye.', 'en-us'), cache.prompt('Goodbye.', 'en-us')]);
    assert.equal(a.path, b.path);
    assert.notEqual(a.path, first.path);
    assert.equal(cache.synthesized, 2);
    assert.deepEqual(
      (await readdir(folder)).sort(),
      [first.path, a.path].map((p) => p.slice(folder.length + 1)).sort(),
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('a missing espeak-ng says so with tts_unavailable; bad text and voices are refused', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'parley-prompts-'));
  try {
    const missing = new PromptCache({ folder, command: '/nonexistent/espeak-ng' });
    assert.equal(await missing.available(), false);
    await assert.rejects(missing.prompt('Hello.'), (e: MediaError) => {
      assert.equal(e.code, 'tts_unavailable');
      assert.match(e.message, /not installed.*apt-get install espeak-ng.*tones/);
      return true;
    });
    const cache = new PromptCache({ folder });
    await assert.rejects(cache.prompt('   '), (e: MediaError) => e.code === 'tts_failed');
    await assert.rejects(cache.prompt('x'.repeat(2001)), (e: MediaError) => e.code === 'tts_failed');
    await assert.rejects(cache.prompt('Hello.', '--evil'), (e: MediaError) => e.code === 'tts_failed');
    await assert.rejects(cache.prompt('Hello.', 'nosuchvoice'), (e: MediaError) => {
      assert.equal(e.code, 'tts_failed');
      assert.match(e.message, /voice does not exist/);
      return true;
    });
    // Text that looks like an option is spoken, not parsed (it goes on stdin).
    assert.equal((await cache.prompt('--version')).cached, false);
    assert.deepEqual(
      (await readdir(folder)).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
