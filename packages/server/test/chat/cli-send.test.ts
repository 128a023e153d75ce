/** `parley chat send`: through the running server's API, delivered live to the recipient's socket. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Message } from '@parley/protocol';
import { PASSWORD, makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { chatSocket } from './chat-helpers.ts';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;

function parley(args: string[], env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, PARLEY_LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('parley chat send', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite');
  });
  after(() => s.close());

  test('signs in as the sender and the message reaches the recipient live', async () => {
    const t = await makeTenant(s, 'cli');
    const alice = await makeUser(s, t.id, `alice@${t.domain}`);
    const bob = await makeUser(s, t.id, `bob@${t.domain}`);
    const socket = await chatSocket(s, bob.token);
    try {
      const r = await parley(
        [
          'chat',
          'send',
          '--from',
          alice.address,
          '--to',
          bob.address,
          '--text',
          'smoke <b>test</b>',
          '--url',
          s.url,
          '--json',
        ],
        { PARLEY_PASSWORD: PASSWORD },
      );
      assert.equal(r.status, 0, r.stderr);
      const sent = JSON.parse(r.stdout) as Message;
      assert.equal(sent.text, 'smoke <b>test</b>');
      const pushed = await socket.waitFrame((f) => f.t === 'chat.message');
      assert.equal((pushed.message as Message).id, sent.id);
      const unknown = await parley(
        [
          'chat',
          'send',
          '--from',
          alice.address,
          '--to',
          `nobody@${t.domain}`,
          '--text',
          'x',
          '--url',
          s.url,
        ],
        {
          PARLEY_PASSWORD: PASSWORD,
        },
      );
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /not_found/);
      const wrong = await parley(
        ['chat', 'send', '--from', alice.address, '--to', bob.address, '--text', 'x', '--url', s.url],
        {
          PARLEY_PASSWORD: 'not the password',
        },
      );
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /invalid_credentials/);
      const usage = await parley(['chat', 'send', '--from', alice.address], {});
      assert.equal(usage.status, 2);
    } finally {
      await socket.close();
    }
  });
});
