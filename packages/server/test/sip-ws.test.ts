/**
 * The running server's SIP over WebSocket at /sip on its HTTP port (RFC 7118): SIP.js from npm in
 * Node (the `ws` package as its WebSocket) exchanges OPTIONS with Parley's listener; the realtime
 * gateway's own path and the 404 for unknown upgrade paths are unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer } from './helpers/server.ts';
import { sipjsOptions, sipjsPeer } from '../../sip/test/sipjs-peer.ts';

test('SIP.js over ws://.../sip: OPTIONS gets 200 with Allow; other upgrade paths still get 404', async () => {
  const s = await startServer('sqlite');
  const phone = await sipjsPeer(`ws://127.0.0.1:${s.app.config.port}/sip`);
  try {
    const res = await sipjsOptions(phone, `sip:127.0.0.1:${s.app.config.port};transport=ws`);
    assert.equal(res.statusCode, 200);
    assert.match(res.getHeader('allow') ?? '', /INVITE/);
    // Our Via was popped; the response travelled back on the same WebSocket connection.
    assert.match(res.getHeader('via') ?? '', /^SIP\/2\.0\/WSS? [^;]+\.invalid;.*received=127\.0\.0\.1/);
    assert.equal(s.app.sip!.ws!.connectionCount, 1);
    const status = await new Promise<number>((resolve) => {
      const c = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/nowhere`, 'sip');
      c.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      c.on('open', () => resolve(101));
      c.on('error', () => {});
    });
    assert.equal(status, 404);
  } finally {
    await phone.stop();
    await s.close();
  }
});
