/**
 * Issue 16's storm: SIPp (Debian's sip-tester) registers again and again with a wrong password from
 * 127.0.0.2 while a good phone on 127.0.0.3 keeps registering. The storm's source is blocked after
 * PARLEY_SIP_AUTH_FAILURES failures (its datagrams dropped before parsing), every registration of the
 * good phone succeeds throughout, and a restart keeps the good phone's binding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registrarSetup } from './helpers/registrar-setup.ts';
import { UdpSipClient } from './helpers/sip-client.ts';

/**
 * A SIPp scenario: REGISTER, answer the 401's SHA-256 challenge with a response no password makes,
 * expect 403. (SIPp's own `[authentication]` computes MD5 only and reads the first challenge, which
 * is SHA-256 as RFC 8760 orders them, so the answer is written here from the nonce it caught.)
 */
function wrongPasswordScenario(domain: string): string {
  const register = (cseq: number, auth: string) => `
  <send retrans="500">
    <![CDATA[
      REGISTER sip:${domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:desk@${domain}>;tag=[call_number]
      To: <sip:desk@${domain}>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:desk@[local_ip]:[local_port]>${
        auth &&
        `
      ${auth}`
      }
      Max-Forwards: 70
      Expires: 600
      Content-Length: 0

    ]]>
  </send>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register with a wrong password">${register(1, '')}
  <recv response="401">
    <action>
      <ereg regexp="nonce=&quot;([^&quot;]*)&quot;" search_in="hdr" header="WWW-Authenticate:" check_it="true" assign_to="all,nonce"/>
    </action>
  </recv>${register(
    2,
    `Authorization: Digest username="desk", realm="${domain}", nonce="[$nonce]", uri="sip:${domain}", ` +
      `response="${'0'.repeat(64)}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="[call_number]"`,
  )}
  <recv response="403"/>
  <Reference variables="all"/>
</scenario>
`;
}

/** Runs SIPp to completion; resolves with its exit code. */
function sipp(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === null || code > 1 ? reject(new Error(`sipp: ${code} ${err}`)) : resolve(code),
    );
  });
}

test('a SIPp wrong-password storm from 127.0.0.2 is blocked while a good phone on 127.0.0.3 keeps registering; a restart keeps it', async () => {
  const r = await registrarSetup({ sipAuthFailures: 5, sipAuthWindowMs: 60_000, sipBlockMs: 600_000 });
  const dir = mkdtempSync(join(tmpdir(), 'parley-sipp-'));
  try {
    const scenario = join(dir, 'wrong.xml');
    writeFileSync(scenario, wrongPasswordScenario(r.t.domain));
    const phone = await r.phone({ address: '127.0.0.3' });
    const storm = sipp([
      '-sf',
      scenario,
      '-i',
      '127.0.0.2',
      '-p',
      '0',
      `127.0.0.1:${r.s.app.sip!.udpPort}`,
      '-m',
      '200',
      '-r',
      '100',
      '-l',
      '50',
      '-recv_timeout',
      '1000',
      '-timeout',
      '20',
      '-nostdin',
    ]);
    let stormDone = false;
    void storm.finally(() => (stormDone = true));
    const statuses: number[] = [];
    while (!stormDone || statuses.length < 5) {
      statuses.push((await phone.register({ expires: 600 })).status);
      if (statuses.length >= 200) break;
    }
    assert.equal(await storm, 1, 'SIPp saw its calls fail (no answer once blocked)');
    assert.ok(
      statuses.every((s) => s === 200),
      `every good registration succeeded: ${statuses.join(',')}`,
    );
    assert.ok(statuses.length >= 5);
    const peers = r.s.app.sip!.peers;
    assert.ok(peers.stats.blockedDropped > 0, 'the storm was dropped before parsing once blocked');
    const probe = await UdpSipClient.open('127.0.0.2', r.s.app.sip!.udpPort);
    try {
      const answer = await probe.exchange(probe.request({ method: 'OPTIONS', target: r.t.domain }), 1000);
      assert.equal(answer, undefined, '127.0.0.2 is blocked');
    } finally {
      await probe.close();
    }
    assert.equal(r.s.app.registrations.size, 1, 'only the good phone is bound');
    await r.restart();
    const after = r.s.app.registrations.contactsOf(r.t.id, r.t.user.id);
    assert.equal(after.length, 1);
    assert.equal(after[0]!.flow.address, '127.0.0.3');
    assert.equal(await r.s.app.sip!.keepAlive!.probe(after[0]!), true, 'reachable after the restart');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await r.close();
  }
});
