/**
 * Interop with a real peer, SIPp (Debian's sip-tester): SIPp's built-in uac against the example
 * UAS (UDP and TCP), this stack as a UAC against SIPp's built-in uas, digest both ways, and a lossy
 * run where retransmissions still complete every call. Fails (never skips) when sipp is missing.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAudioOffer, PCMU, UserAgentCore } from '../src/index.ts';
import { startExampleUas, type ExampleUas } from '../examples/uas.ts';
import { freePort, runSipp, SCENARIOS, startSipp } from './sipp-harness.ts';
import { startLossyRelay } from './lossy-relay.ts';

const IP = '127.0.0.1';
const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function uas(opts: Partial<Parameters<typeof startExampleUas>[0]> = {}): Promise<ExampleUas> {
  const u = await startExampleUas({ address: IP, port: 0, tcp: true, ...opts });
  open.push(u);
  return u;
}

function calls(stats: Record<string, string>): { ok: number; failed: number; retrans: number } {
  return {
    ok: Number(stats['SuccessfulCall(C)'] ?? NaN),
    failed: Number(stats['FailedCall(C)'] ?? NaN),
    retrans: Number(stats['Retransmissions(C)'] ?? NaN),
  };
}

describe('SIPp against the example UAS', () => {
  test('sipp -sn uac over UDP: 200 calls at 100/s, all complete', async () => {
    const u = await uas();
    const r = await runSipp(
      [
        '-sn',
        'uac',
        '-i',
        IP,
        '-p',
        String(await freePort()),
        '-m',
        '200',
        '-r',
        '100',
        '-timeout',
        '30',
        `${IP}:${u.udpPort}`,
      ],
      40_000,
    );
    assert.equal(r.code, 0, r.errors);
    const c = calls(r.stats);
    assert.equal(c.ok, 200);
    assert.equal(c.failed, 0);
    assert.equal(u.stats.answered, 200);
    assert.equal(u.stats.byes, 200);
    assert.equal(u.dialogs(), 0);
  });

  test('sipp -sn uac over TCP (-t t1): 50 calls, all complete', async () => {
    const u = await uas();
    const r = await runSipp(
      [
        '-sn',
        'uac',
        '-t',
        't1',
        '-i',
        IP,
        '-p',
        String(await freePort()),
        '-m',
        '50',
        '-r',
        '50',
        '-timeout',
        '30',
        `${IP}:${u.tcpPort}`,
      ],
      40_000,
    );
    assert.equal(r.code, 0, r.errors);
    assert.equal(calls(r.stats).ok, 50);
    assert.equal(u.stats.byes, 50);
  });

  test('lossy UDP (10% of datagrams dropped each way): retransmissions complete every call', async () => {
    const u = await uas();
    const relay = await startLossyRelay({
      server: { address: IP, port: u.udpPort },
      lossRate: 0.1,
      seed: 4475,
    });
    open.push(relay);
    const r = await runSipp(
      [
        '-sn',
        'uac',
        '-i',
        IP,
        '-p',
        String(await freePort()),
        '-m',
        '60',
        '-r',
        '20',
        '-timeout',
        '90',
        `${IP}:${relay.port}`,
      ],
      100_000,
    );
    assert.equal(r.code, 0, r.errors);
    const c = calls(r.stats);
    assert.equal(c.ok, 60);
    assert.equal(c.failed, 0);
    assert.ok(relay.dropped > 10, `only ${relay.dropped} datagrams dropped`);
    assert.ok(c.retrans > 0, 'SIPp retransmitted nothing: the loss did not bite');
  });

  test('SIPp answers our digest challenge ([authentication], MD5, qop=auth)', async () => {
    const u = await uas({
      digest: { realm: 'parley.test', users: { alice: 'wonderland' }, algorithms: ['MD5'] },
    });
    const r = await runSipp(
      [
        '-sf',
        `${SCENARIOS}uac-auth.xml`,
        '-i',
        IP,
        '-p',
        String(await freePort()),
        '-m',
        '10',
        '-r',
        '10',
        '-timeout',
        '30',
        `${IP}:${u.udpPort}`,
      ],
      40_000,
    );
    assert.equal(r.code, 0, r.errors);
    assert.equal(calls(r.stats).ok, 10);
    assert.equal(u.stats.challenged, 10);
    assert.equal(u.stats.answered, 10);
  });

  test('a wrong password is challenged again and never answered with 200', async () => {
    const u = await uas({ digest: { realm: 'parley.test', users: { alice: 'other' }, algorithms: ['MD5'] } });
    const r = await runSipp(
      [
        '-sf',
        `${SCENARIOS}uac-auth.xml`,
        '-i',
        IP,
        '-p',
        String(await freePort()),
        '-m',
        '2',
        '-r',
        '10',
        '-timeout',
        '5',
        '-recv_timeout',
        '2000',
        `${IP}:${u.udpPort}`,
      ],
      20_000,
    );
    assert.notEqual(r.code, 0);
    assert.equal(u.stats.answered, 0);
  });
});

describe('this stack as a UAC against SIPp', () => {
  async function endpoint(): Promise<UserAgentCore> {
    const ua = new UserAgentCore({
      advertisedAddress: IP,
      policy: {
        allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'],
        supported: [],
        accept: ['application/sdp'],
        isLocalTarget: () => true,
      },
    });
    open.push(ua);
    await ua.endpoint.listenUdp(IP, 0);
    return ua;
  }

  test('INVITE, 200, ACK, BYE against sipp -sn uas (10 calls)', async () => {
    const port = await freePort();
    const sipp = startSipp(
      ['-sn', 'uas', '-i', IP, '-p', String(port), '-m', '10', '-timeout', '30'],
      40_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const ua = await endpoint();
    const local = ua.endpoint.transport('UDP')!.localPort;
    for (let i = 0; i < 10; i++) {
      const call = await ua.invite({
        target: `sip:service@${IP}:${port}`,
        from: `sip:parley@${IP}:${local}`,
        dest: { protocol: 'UDP', address: IP, port },
        sdp: createAudioOffer({ address: IP, port: 30000 + 2 * i, codecs: [PCMU] }),
      }).answered;
      assert.equal(call.dialog.state, 'confirmed');
      assert.ok(call.remoteSdp?.toString().includes('m=audio'));
      const bye = await call.bye();
      assert.equal(bye?.status, 200);
    }
    assert.equal(ua.dialogCount, 0);
    const r = await sipp.done;
    assert.equal(r.code, 0, r.errors);
    assert.equal(calls(r.stats).ok, 10);
  });

  test('digest client against SIPp <verifyauth> (5 calls)', async () => {
    const port = await freePort();
    const sipp = startSipp(
      ['-sf', `${SCENARIOS}uas-verifyauth.xml`, '-i', IP, '-p', String(port), '-m', '5', '-timeout', '30'],
      40_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const ua = await endpoint();
    const local = ua.endpoint.transport('UDP')!.localPort;
    for (let i = 0; i < 5; i++) {
      const call = await ua.invite({
        target: `sip:service@${IP}:${port}`,
        from: `sip:bob@${IP}:${local}`,
        dest: { protocol: 'UDP', address: IP, port },
        sdp: createAudioOffer({ address: IP, port: 31000, codecs: [PCMU] }),
        credentials: { username: 'bob', password: 'builder' },
      }).answered;
      assert.equal(call.state, 'confirmed');
      assert.equal((await call.bye())?.status, 200);
    }
    const r = await sipp.done;
    assert.equal(r.code, 0, r.errors);
    assert.equal(calls(r.stats).ok, 5);
  });
});
