/**
 * The running server's SIP listener answers every RFC 4475 torture message over UDP and over TCP as
 * the RFC says for a UAS (or drops it), and answers OPTIONS afterwards; it says nothing about who
 * exists before authentication.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { answerChallenge, parseMessage, SipResponse, StreamFramer } from '@parley/sip';
import { startServer, type TestServer } from './helpers/server.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { trustedScope } from '../src/directory/scope.ts';
import { loadTorture } from '../../sip/test/torture.ts';
import { InMemoryCarriers } from '../src/sip/peers.ts';
import { InMemorySipDevices } from '../src/sip/in-memory-devices.ts';
import { UdpSipClient } from './helpers/sip-client.ts';

/** The RFC 4475 corpus from the sip package's fixtures (inside the repository). */
const corpus = loadTorture();

type Want = number | number[] | 'drop';
/**
 * UDP answer per file (example.com is a tenant domain; the other domains are not). The sender is an
 * unknown source: INVITE and REGISTER to a local domain are challenged (407, 401) before anything is
 * said about the user.
 */
const UDP: Record<string, Want> = {
  'wsinv.dat': 404,
  'intmeth.dat': 501,
  'esc01.dat': 404,
  'escnull.dat': 401,
  'esc02.dat': 501,
  'lwsdisp.dat': 200,
  'longreq.dat': 407,
  'dblreq.dat': 401,
  'semiuri.dat': 200,
  'transports.dat': 200,
  'mpart01.dat': 405,
  'unreason.dat': 'drop',
  'noreason.dat': 'drop',
  'badinv01.dat': 400,
  'clerr.dat': 400,
  'ncl.dat': 400,
  'scalar02.dat': 400,
  'scalarlg.dat': 'drop',
  'quotbal.dat': 400,
  'ltgtruri.dat': 400,
  'lwsruri.dat': 400,
  'lwsstart.dat': 400,
  'trws.dat': 400,
  'escruri.dat': 400,
  'baddate.dat': 407,
  'regbadct.dat': 400,
  'badaspec.dat': 400,
  'baddn.dat': 400,
  'badvers.dat': 505,
  'mismatch01.dat': 400,
  'mismatch02.dat': 501,
  'bigcode.dat': 'drop',
  'badbranch.dat': 400,
  'insuf.dat': 400,
  'unkscm.dat': 416,
  'novelsc.dat': 416,
  'unksm2.dat': 401,
  'bext01.dat': 420,
  'invut.dat': 415,
  'regaut01.dat': 401,
  'multi01.dat': 400,
  'mcl01.dat': 400,
  'bcast.dat': 'drop',
  'zeromf.dat': 200,
  'cparam01.dat': 401,
  'cparam02.dat': 401,
  'regescrt.dat': 401,
  'sdp01.dat': 406,
  'inv2543.dat': 407,
};
/**
 * Over TCP, framing differs (RFC 4475 sections 3.1.2.2, 3.1.2.3, 3.3.9 and 3.1.1.8): a short body
 * or a missing blank line waits for more data until the idle timeout closes the connection, and a
 * missing Content-Length cannot be framed (400, then close).
 */
const TCP: Record<string, Want> = {
  ...UDP,
  'clerr.dat': 'drop',
  'baddn.dat': 'drop',
  'inv2543.dat': 400,
  // On a stream the octets after the REGISTER are the next message, an INVITE (407); the bytes
  // after it cannot be framed, so the connection is closed after both answers.
  'dblreq.dat': [401, 407],
};

/** Unframeable streams are closed: after the 400 for a bad Content-Length, or by the idle timer. */
const CLOSED_OVER_TCP = ['ncl.dat', 'mcl01.dat', 'inv2543.dat', 'clerr.dat', 'baddn.dat', 'dblreq.dat'];
/** The longest an expected answer may take on a loaded machine. */
const LATE_MS = 10_000;
/** How long a message that must get no answer is watched. */
const QUIET_MS = 1_000;
/** After the expected answers, how long to watch for one more that should not come. */
const SETTLE_MS = 250;

interface Answer {
  responses: SipResponse[];
  closed: boolean;
}

/**
 * Sends `data` and collects answers until `done(answer)` holds, or `waitMs` has passed. Expected answers
 * end the wait as soon as they arrive (a loaded machine answers late, not never); a message that must
 * get no answer is given the whole quiet window.
 */
function overUdp(
  port: number,
  data: Buffer,
  waitMs: number,
  done: (a: Answer) => boolean = () => false,
  from: { address: string; port: number } = { address: '127.0.0.1', port: 0 },
): Promise<Answer> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const answer: Answer = { responses: [], closed: false };
    const finish = () => {
      clearTimeout(timer);
      s.close(() => resolve(answer));
    };
    let settling = false;
    s.on('message', (m) => {
      answer.responses.push(parseMessage(m) as SipResponse);
      // Done: a short settle still catches an answer that should not have come.
      if (!settling && done(answer)) ((settling = true), setTimeout(finish, SETTLE_MS));
    });
    s.bind(from.port, from.address, () => s.send(data, port, '127.0.0.1'));
    const timer = setTimeout(finish, waitMs);
  });
}

/**
 * Where a UDP answer goes (RFC 3261 section 18.2.2): without rport, to the source address at the
 * top Via's sent-by port, 5060 when it names none (5061 for a TLS Via). Each message is sent from
 * its own loopback address, from the port its answer must reach.
 */
const SENT_BY_PORT: Record<string, number> = { 'quotbal.dat': 5050, 'bext01.dat': 5061 };
const udpFrom = (i: number, file: string) => ({
  address: `127.0.0.${10 + i}`,
  port: SENT_BY_PORT[file] ?? 5060,
});

/** Opens a stream to the listener: plain TCP, or TLS trusting the server's certificate. */
type Dial = (port: number, onOpen: () => void) => Socket;
const tcpDial: Dial = (port, onOpen) => connect({ port, host: '127.0.0.1' }, onOpen);
const tlsDial =
  (ca: string): Dial =>
  (port, onOpen) =>
    tlsConnect({ port, host: '127.0.0.1', ca }, onOpen);

function overTcp(
  port: number,
  data: Buffer,
  waitMs: number,
  done: (a: Answer) => boolean = () => false,
  dial: Dial = tcpDial,
): Promise<Answer> {
  return new Promise((resolve) => {
    const answer: Answer = { responses: [], closed: false };
    const framer = new StreamFramer();
    let finished = false;
    let settling = false;
    const settle = () => {
      if (!settling && done(answer)) ((settling = true), setTimeout(finish, SETTLE_MS));
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(answer);
    };
    const sock = dial(port, () => sock.write(data));
    sock.on('data', (c) => {
      for (const ev of framer.push(c))
        if (ev.kind === 'message') answer.responses.push(ev.message as SipResponse);
      settle();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      answer.closed = true;
      settle();
    });
    const timer = setTimeout(finish, waitMs);
  });
}

function checkHeaders(file: string, r: SipResponse): void {
  if (r.status === 401) assert.match(r.get('www-authenticate') ?? '', /^Digest realm=/, `${file}: challenge`);
  if (r.status === 407)
    assert.match(r.get('proxy-authenticate') ?? '', /^Digest realm=/, `${file}: challenge`);
  if (r.status === 405 || r.status === 501) assert.match(r.get('allow') ?? '', /OPTIONS/, `${file}: Allow`);
  if (r.status === 420) assert.equal(r.get('unsupported'), 'nothingSupportsThis, nothingSupportsThisEither');
  if (r.status === 415) assert.equal(r.get('accept'), 'application/sdp');
  assert.ok(r.get('call-id') !== undefined || r.status === 400, `${file}: Call-ID copied`);
}

async function server(): Promise<TestServer> {
  const s = await startServer('sqlite', { sipTcpIdleMs: 800 });
  const t = await s.app.directory.createTenant({
    name: 'Example',
    domains: ['example.com'],
    country: 'GB',
    timeZone: 'Europe/London',
  });
  // The users the torture INVITEs call (challenged all the same: 407).
  for (const local of ['user', 'userb', 'joe']) {
    await s.app.directory.createUser(trustedScope(t.id), {
      address: `${local}@example.com`,
      displayName: local,
      passwordHash: null,
      role: 'user',
    });
  }
  return s;
}

/** Distinct statuses: a non-2xx to INVITE is retransmitted over UDP until an ACK (Timer G). */
const statuses = (a: Answer): number[] => [...new Set(a.responses.map((r) => r.status))];

describe('SIP listener and the RFC 4475 torture messages', () => {
  // One server per transport: the same torture message over TCP would otherwise match the UDP one's
  // live transaction (same branch and sent-by) and be absorbed as a retransmission, as RFC 3261 says.
  let s: TestServer;
  let s2: TestServer;
  let s3: TestServer;
  before(async () => {
    [s, s2, s3] = await Promise.all([server(), server(), server()]);
  });
  after(async () => {
    await Promise.all([s.close(), s2.close(), s3.close()]);
  });

  test('all 49 over UDP', async () => {
    const sip = s.app.sip!;
    const answers = await Promise.all(
      corpus.map((c, i) => {
        const answered = UDP[c.file] !== 'drop';
        return overUdp(
          sip.udpPort,
          c.bytes,
          answered ? LATE_MS : QUIET_MS,
          (a) => answered && a.responses.length > 0,
          udpFrom(i, c.file),
        ).then((a) => [c.file, a] as const);
      }),
    );
    for (const [f, a] of answers) {
      const want = UDP[f];
      assert.ok(want !== undefined, `${f} has an expectation`);
      if (want === 'drop') assert.equal(a.responses.length, 0, `${f}: dropped`);
      else {
        assert.deepEqual(statuses(a), [want], `${f}: ${want}`);
        checkHeaders(f, a.responses[0]!);
      }
    }
  });

  /** Over TCP, and over TLS (the same framing; the certificate is the one generated into the data folder). */
  const overStream = async (server: TestServer, tls: boolean) => {
    const sip = server.app.sip!;
    const ca = tls ? readFileSync(join(server.dataDir, 'sip-tls', 'self-signed-cert.pem'), 'utf8') : '';
    const port = tls ? sip.tlsPort! : sip.tcpPort;
    const dial = tls ? tlsDial(ca) : tcpDial;
    const answers = await Promise.all(
      corpus.map((c) => {
        const want = TCP[c.file]!;
        const count = want === 'drop' ? 0 : Array.isArray(want) ? want.length : 1;
        const mustClose = CLOSED_OVER_TCP.includes(c.file);
        // Every expected answer arrived and, where the stream must be closed, it was.
        const done = (a: Answer) =>
          a.responses.length >= count && (!mustClose || a.closed) && (count > 0 || mustClose);
        return overTcp(port, c.bytes, count > 0 || mustClose ? LATE_MS : QUIET_MS, done, dial).then(
          (a) => [c.file, a] as const,
        );
      }),
    );
    if (process.env.SIP_DEBUG)
      for (const [f, a] of answers)
        console.log(
          f,
          a.responses.map((r) => r.status),
          a.closed,
        );
    for (const [f, a] of answers) {
      const want = TCP[f]!;
      if (want === 'drop') assert.equal(a.responses.length, 0, `${f}: no answer`);
      else {
        assert.deepEqual(
          a.responses.map((r) => r.status),
          Array.isArray(want) ? want : [want],
          `${f}: ${want}`,
        );
        checkHeaders(f, a.responses[0]!);
      }
    }
    // Unframeable streams are closed: after the 400 for a bad Content-Length, or by the idle timer.
    for (const f of CLOSED_OVER_TCP) {
      assert.equal(answers.find(([x]) => x === f)![1].closed, true, `${f}: connection closed`);
    }
  };

  test('all 49 over TCP', () => overStream(s2, false));

  test('all 49 over TLS', () => overStream(s3, true));

  test('afterwards, OPTIONS gets 200 with Allow, Accept and Supported over UDP and TCP', async () => {
    const sip = s.app.sip!;
    const options = (transport: string) =>
      Buffer.from(
        `OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/${transport} client.invalid:9;rport;branch=z9hG4bK-opt-${transport}\r\n` +
          'Max-Forwards: 70\r\nFrom: <sip:probe@example.org>;tag=p1\r\nTo: <sip:example.com>\r\n' +
          `Call-ID: options-${transport}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
      );
    for (const a of [
      await overUdp(sip.udpPort, options('UDP'), LATE_MS, (a) => a.responses.length > 0),
      await overTcp(sip.tcpPort, options('TCP'), LATE_MS, (a) => a.responses.length > 0),
    ]) {
      assert.equal(a.responses.length, 1);
      const r = a.responses[0]!;
      assert.equal(r.status, 200);
      assert.equal(r.get('allow'), 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE');
      assert.equal(r.get('accept'), 'application/sdp');
      assert.ok(r.has('supported'));
      assert.ok(r.to.tag, 'a To tag on the final response');
      // received and rport (RFC 3581): the response went back to the source, whatever the Via said.
      assert.equal(r.topVia.received, '127.0.0.1');
      assert.ok(Number(r.topVia.rport) > 9);
    }
  });
});

/** A desk phone's G.711 offer: an authenticated INVITE with it is placed as a call. */
const PHONE_OFFER =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
  'm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n' +
  'a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

describe('no user enumeration', () => {
  test('INVITE and REGISTER get the same challenge for existing and unknown users of every tenant and the operator; bad credentials 403', async () => {
    // The device is added once its tenant and user exist (the phone calls look its user up).
    const phones = new InMemorySipDevices();
    const s = await startServer(
      'sqlite',
      {},
      { sipPeers: { carriers: new InMemoryCarriers(), credentials: phones, devices: phones } },
    );
    const sip = await UdpSipClient.open('127.0.0.1', s.app.sip!.udpPort);
    try {
      const other = await s.app.directory.createTenant({
        name: 'Other',
        domains: ['other.example'],
        country: 'GB',
        timeZone: 'Europe/London',
      });
      const example = await s.app.directory.createTenant({
        name: 'Example',
        domains: ['example.com'],
        country: 'GB',
        timeZone: 'Europe/London',
      });
      const operator = await s.app.directory.operatorTenant('operator.example');
      for (const [tenant, address] of [
        [example, 'user@example.com'],
        [other, 'ann@other.example'],
        [operator, 'root@operator.example'],
      ] as const) {
        await s.app.directory.createUser(trustedScope(tenant.id), {
          address,
          displayName: address,
          passwordHash: null,
          role: 'user',
        });
      }
      // The SIP user name `user` is the desk phone of a colleague of user@example.com.
      const owner = await s.app.directory.createUser(trustedScope(example.id), {
        address: 'desk.owner@example.com',
        displayName: 'Desk Owner',
        passwordHash: null,
        role: 'user',
      });
      phones.add({
        deviceId: 'dev_user',
        tenantId: example.id,
        userId: owner.id,
        name: 'Desk phone',
        username: 'user',
        domain: 'example.com',
        password: 'right',
      });
      /** Status and challenge header (its nonce blanked) for a request without credentials. */
      const answer = async (method: 'INVITE' | 'REGISTER', target: string) => {
        const r = (await sip.exchange(sip.request({ method, target })))!;
        const header = method === 'INVITE' ? 'proxy-authenticate' : 'www-authenticate';
        return [r.status, r.getAll(header).map((c) => c.replace(/nonce="[^"]*"/, 'nonce=""'))] as const;
      };
      const pairs: Array<[string, string]> = [
        ['user@example.com', 'nobody@example.com'],
        ['ann@other.example', 'nobody@other.example'],
        ['root@operator.example', 'nobody@operator.example'],
        ['user@127.0.0.1', 'nobody@127.0.0.1'],
      ];
      for (const [known, unknown] of pairs) {
        const invite = await answer('INVITE', known);
        assert.equal(invite[0], 407, known);
        assert.ok(invite[1].length > 0);
        assert.deepEqual(await answer('INVITE', unknown), invite, `${unknown} is answered as ${known}`);
        const domain = known.split('@')[1]!;
        const register = await answer('REGISTER', domain);
        assert.equal(register[0], 401, domain);
        assert.deepEqual(await answer('REGISTER', `${unknown.split('@')[0]}@${domain}`), register);
      }
      // A domain that is no tenant's is not ours: 404 says nothing about users.
      assert.equal((await answer('INVITE', 'user@not-a-tenant.example'))[0], 404);

      /** Answers the challenge with `username` and `password` and returns the final status. */
      const withCredentials = async (target: string, username: string, password: string) => {
        const callId = `auth-${target}-${username}-${password}`;
        const first = (await sip.exchange(sip.request({ method: 'INVITE', target, callId })))!;
        const auth = answerChallenge(
          first.get('proxy-authenticate')!,
          { username, password },
          'INVITE',
          `sip:${target}`,
        )!;
        const r = await sip.exchange(
          sip.request({
            method: 'INVITE',
            target,
            callId,
            cseq: 2,
            headers: [['Proxy-Authorization', auth]],
            sdp: PHONE_OFFER,
          }),
        );
        return r!.status;
      };
      // The caller (example.org) is not a tenant: the realm is the called domain.
      assert.equal(await withCredentials('user@example.com', 'user', 'wrong'), 403);
      assert.equal(await withCredentials('user@example.com', 'nobody', 'wrong'), 403);
      assert.equal(await withCredentials('nobody@example.com', 'user', 'wrong'), 403);
      // An authenticated device may learn who exists: 480 (no device yet), 404, 404 when disabled.
      assert.equal(await withCredentials('user@example.com', 'user', 'right'), 480);
      assert.equal(await withCredentials('nobody@example.com', 'user', 'right'), 404);
      const joe = await s.app.directory.findUserRecordByAddress('user@example.com');
      await s.app.directory.updateUser(trustedScope(joe!.tenant_id), joe!.id, { enabled: false });
      assert.equal(await withCredentials('user@example.com', 'user', 'right'), 404);
    } finally {
      await sip.close();
      await s.close();
    }
  });
});

describe('SIP settings and per-source limits', () => {
  test('PARLEY_SIP_* settings: defaults, values, and bad values stop the start', () => {
    const d = loadConfig({});
    assert.equal(d.sipPort, 5060);
    assert.equal(d.sipAddress, '127.0.0.1');
    const c = loadConfig({ PARLEY_SIP_PORT: '0', PARLEY_SIP_ADDRESS: '192.0.2.10', PARLEY_SIP_RATE: '50' });
    assert.equal(c.sipPort, 0);
    assert.equal(c.sipAddress, '192.0.2.10');
    assert.equal(c.sipRate, 50);
    assert.equal(d.sipTlsPort, 5061);
    assert.equal(d.sipTlsVerify, true);
    assert.equal(loadConfig({ PARLEY_SIP_TLS_VERIFY: 'false' }).sipTlsVerify, false);
    assert.throws(
      () => loadConfig({ PARLEY_SIP_TLS_CERT: '/x/cert.pem' }),
      (e: unknown) => e instanceof ConfigError && /PARLEY_SIP_TLS_KEY/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ PARLEY_SIP_PORT: '70000' }),
      (e: unknown) => e instanceof ConfigError && /PARLEY_SIP_PORT/.test(e.message),
    );
  });

  test('a source over its message rate is dropped while another source is still answered', async () => {
    const s = await startServer('sqlite', { sipRate: 5, sipBurst: 5 });
    try {
      const port = s.app.sip!.udpPort;
      const opts = (n: number) =>
        Buffer.from(
          `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-rate-${n}\r\nMax-Forwards: 70\r\n` +
            `From: <sip:probe@example.org>;tag=p${n}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: rate-${n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
        );
      const sock = createSocket('udp4');
      const got: number[] = [];
      sock.on('message', (m) => got.push((parseMessage(m) as SipResponse).status));
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      for (let i = 0; i < 20; i++) sock.send(opts(i), port, '127.0.0.1');
      const other = overUdpFrom('127.0.0.2', port, opts(100), 500);
      await new Promise((r) => setTimeout(r, 500));
      sock.close();
      assert.deepEqual(got, [200, 200, 200, 200, 200]);
      assert.deepEqual(statuses(await other), [200]);
    } finally {
      await s.close();
    }
  });
});

function overUdpFrom(address: string, port: number, data: Buffer, waitMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const responses: SipResponse[] = [];
    s.on('message', (m) => responses.push(parseMessage(m) as SipResponse));
    s.bind(0, address, () => s.send(data, port, '127.0.0.1'));
    setTimeout(() => s.close(() => resolve({ responses, closed: false })), waitMs);
  });
}
