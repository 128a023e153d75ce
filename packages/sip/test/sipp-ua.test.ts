/**
 * The user-agent core against SIPp: a call with hold both ways (re-INVITE from SIPp, then from
 * us), an INVITE from SIPp cancelled by a CANCEL from another UDP port (RFC 3261 section 9.2
 * matching by branch), and a SUBSCRIBE/NOTIFY exchange with SIPp as the notifier (RFC 6665).
 * (A call answered after a digest challenge is in sipp.test.ts.) Fails, never skips, without sipp.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import {
  createAudioOffer,
  directionOf,
  headerFields,
  type InviteSession,
  PCMU,
  SipRequest,
  type SubscriptionStateHeader,
  UserAgentCore,
  type UserAgentHandlers,
} from '../src/index.ts';
import { freePort, runSipp, SCENARIOS, startSipp } from './sipp-harness.ts';

const IP = '127.0.0.1';
const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function core(handlers: UserAgentHandlers = {}): Promise<{ ua: UserAgentCore; port: number }> {
  const ua = new UserAgentCore({
    advertisedAddress: IP,
    policy: {
      allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY'],
      supported: [],
      accept: ['application/sdp', 'text/plain'],
      isLocalTarget: () => true,
    },
    handlers,
  });
  open.push(ua);
  const t = await ua.endpoint.listenUdp(IP, 0);
  return { ua, port: t.localPort };
}

const sdp = (dir = 'sendrecv') =>
  createAudioOffer({ address: IP, port: 32000, codecs: [PCMU] }).replace(/\r\n$/, `\r\na=${dir}\r\n`);

describe('the user-agent core against SIPp', () => {
  test('hold both ways: SIPp re-INVITEs with sendonly (answered recvonly), then we do (3 calls)', async () => {
    const ours: number[] = [];
    const theirs: string[] = [];
    const { port } = await core({
      onInvite: (inv) => {
        const s = inv.accept({ body: sdp() });
        s?.on('modified', (c) => {
          if (!c.remote) return;
          theirs.push(directionOf(c.answer!));
          // Our turn once their re-INVITE is ACKed.
          setTimeout(
            () =>
              void (s as InviteSession).reinvite({ body: sdp('sendonly') }).then((r) => ours.push(r.status)),
            100,
          );
        });
      },
    });
    const r = await runSipp(
      [
        '-sf',
        `${SCENARIOS}uac-hold.xml`,
        '-i',
        IP,
        '-p',
        String(await freePort()),
        '-m',
        '3',
        '-r',
        '5',
        '-timeout',
        '30',
        `${IP}:${port}`,
      ],
      40_000,
    );
    assert.equal(r.code, 0, r.errors);
    assert.equal(Number(r.stats['SuccessfulCall(C)']), 3);
    assert.deepEqual(theirs, ['recvonly', 'recvonly', 'recvonly']);
    assert.deepEqual(ours, [200, 200, 200]);
  });

  test('SIPp INVITEs; a Node socket on another port CANCELs it: 200 to that socket, 487 to SIPp', async () => {
    const cancelAnswers: string[] = [];
    let cancelled = 0;
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, IP, () => r()));
    sock.on('message', (m) => cancelAnswers.push(m.toString().split('\r\n')[0]!));
    open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
    const { port } = await core({
      onInvite: (inv) => {
        inv.progress(180);
        inv.on('cancelled', () => cancelled++);
        const req = inv.request;
        // The CANCEL a UAC behind a NAT sends: same Via (branch, sent-by), other source port,
        // asking with rport (RFC 3581) to be answered there rather than at the sent-by port.
        const cancel = new SipRequest(
          'CANCEL',
          req.uriText,
          headerFields([
            [
              'Via',
              req
                .getAll('via')[0]!
                .split(',')[0]!
                .replace(/;received=[^;]*|;rport=\d+/g, '') + ';rport',
            ],
            ['Max-Forwards', 70],
            ['From', req.get('from')!],
            ['To', req.get('to')!],
            ['Call-ID', req.callId],
            ['CSeq', `${req.cseq.seq} CANCEL`],
          ]),
        );
        setTimeout(() => sock.send(cancel.serialize(), port, IP), 50);
      },
    });
    const r = await runSipp(
      [
        '-sf',
        `${SCENARIOS}uac-cancelled.xml`,
        '-i',
        IP,
        '-p',
        String(await freePort()),
        '-m',
        '1',
        '-timeout',
        '20',
        `${IP}:${port}`,
      ],
      30_000,
    );
    assert.equal(r.code, 0, r.errors);
    assert.equal(Number(r.stats['SuccessfulCall(C)']), 1);
    assert.equal(cancelled, 1);
    assert.deepEqual(cancelAnswers, ['SIP/2.0 200 OK']);
  });

  test('SUBSCRIBE to SIPp as notifier: NOTIFY active with a body, unsubscribe, NOTIFY terminated', async () => {
    const sippPort = await freePort();
    const sipp = startSipp(
      ['-sf', `${SCENARIOS}uas-notifier.xml`, '-i', IP, '-p', String(sippPort), '-m', '1', '-timeout', '20'],
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const { ua, port } = await core();
    const sub = ua.subscribe({
      target: `sip:presentity@${IP}:${sippPort}`,
      from: `sip:watcher@${IP}:${port}`,
      event: 'presence',
      accept: ['text/plain'],
      expires: 600,
      dest: { protocol: 'UDP', address: IP, port: sippPort },
    });
    const notes: Array<[SubscriptionStateHeader, string]> = [];
    const active = new Promise<void>((resolve) =>
      sub.on('notify', (req, st) => {
        notes.push([st, req.body.toString().trim()]);
        if (st.state === 'active') resolve();
      }),
    );
    assert.equal((await sub.subscribed).status, 200);
    await active;
    assert.equal(sub.expires, 60);
    const ended = new Promise<string>((resolve) => sub.on('terminated', resolve));
    await sub.unsubscribe();
    assert.equal(await ended, 'timeout');
    const r = await sipp.done;
    assert.equal(r.code, 0, r.errors);
    assert.deepEqual(
      notes.map(([st, body]) => `${st.state} ${body}`),
      ['active open', 'terminated '],
    );
    assert.equal(ua.dialogCount, 0);
  });
});
