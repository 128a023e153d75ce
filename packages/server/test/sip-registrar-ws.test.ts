/**
 * A browser softphone registers over SIP over WebSocket (RFC 7118): SIP.js from npm in Node (the
 * `ws` package as its WebSocket) registers with digest through the running server's /sip path; the
 * binding's flow is its WebSocket connection, Parley's keep-alive reaches it there, and
 * un-registering removes it. SIP.js digests with MD5 only and reads the last challenge, which is MD5
 * in the default order (SHA-256, MD5). Its un-REGISTER reuses the last Authorization with the same
 * nonce-count: that gets a fresh challenge (stale=true), not 403, so it un-registers (403 before).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Registerer, RegistererState, UserAgent } from 'sip.js';
import { DESK_PASSWORD, registrarSetup } from './helpers/registrar-setup.ts';

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

async function softphone(port: number, domain: string): Promise<UserAgent> {
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:desk@${domain}`),
    transportOptions: { server: `ws://127.0.0.1:${port}/sip` },
    authorizationUsername: 'desk',
    authorizationPassword: DESK_PASSWORD,
    logLevel: 'error',
  });
  await ua.start();
  return ua;
}

/** Registers (or un-registers) and resolves with the final status SIP.js saw. */
function register(reg: Registerer, expires?: 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const requestDelegate = {
      onAccept: () => resolve(200),
      onReject: (r: { message: { statusCode?: number } }) => resolve(r.message.statusCode ?? 0),
    };
    (expires === 0 ? reg.unregister({ requestDelegate }) : reg.register({ requestDelegate })).catch(reject);
  });
}

test('SIP.js over ws://.../sip registers with digest; the flow is its WebSocket; keep-alive reaches it; un-REGISTER removes it', async () => {
  const r = await registrarSetup();
  const ua = await softphone(r.s.app.config.port, r.t.domain);
  try {
    const reg = new Registerer(ua, { expires: 600 });
    assert.equal(await register(reg), 200);
    assert.equal(reg.state, RegistererState.Registered);
    const [b] = r.s.app.registrations.contactsOf(r.t.id, r.t.user.id);
    assert.ok(b, 'bound');
    assert.equal(b.flow.protocol, 'WS');
    assert.ok(b.flow.connectionId !== undefined);
    assert.match(b.contact, /transport=ws/);
    assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'available');
    assert.equal(await r.s.app.sip!.keepAlive!.probe(b), true, 'answered on the same WebSocket');
    assert.equal(await register(reg, 0), 200);
    assert.equal(r.s.app.registrations.size, 0);
    assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'offline');
  } finally {
    await ua.stop();
    await r.close();
  }
});
