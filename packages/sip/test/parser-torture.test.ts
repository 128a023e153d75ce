/**
 * All 49 RFC 4475 torture messages through the parser, validation and UAS screening, each
 * handled as manifest.tsv says.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkRequest,
  checkResponse,
  createErrorResponse,
  createResponse,
  parseDatagram,
  screenRequest,
  SipMessageError,
  SipRequest,
  SipResponse,
  StreamFramer,
  isSipUri,
  type SipMessage,
  type SipUri,
  type UasPolicy,
} from '../src/index.ts';
import { loadTorture } from './torture.ts';

const policy: UasPolicy = {
  allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'],
  supported: [],
  accept: ['application/sdp'],
  isLocalTarget: () => true,
};

/** What a UAS does with the message: a response status, 'drop', or 'accept' (process it). */
async function outcome(bytes: Buffer): Promise<{ result: number | 'drop' | 'accept'; msg?: SipMessage }> {
  let msg: SipMessage;
  try {
    msg = parseDatagram(bytes);
  } catch (e) {
    assert.ok(e instanceof SipMessageError, String(e));
    const res = createErrorResponse(e.partial, e.status);
    return { result: res ? res.status : 'drop' };
  }
  if (msg instanceof SipResponse)
    return { result: checkResponse(msg) === undefined ? 'accept' : 'drop', msg };
  const req = msg as SipRequest;
  const problem = checkRequest(req);
  if (problem) return { result: createResponse(req, problem.status).status, msg };
  const rejection = await screenRequest(req, policy);
  return { result: rejection ? rejection.status : 'accept', msg };
}

const uri = (m: SipMessage | undefined): SipUri => {
  const u = (m as SipRequest).uri;
  assert.ok(isSipUri(u));
  return u;
};

/** Expected outcome per file, with value checks for the messages that parse. */
const EXPECT: Record<string, [number | 'drop' | 'accept', ((m: SipMessage) => void)?]> = {
  'wsinv.dat': [
    'accept',
    (m) => {
      assert.equal(m.via.length, 3);
      assert.equal(m.via[1]!.transport, 'TCP');
      assert.equal(m.via[2]!.branch, 'z9hG4bK30239');
      assert.equal(m.maxForwards, 68);
      assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
      assert.equal(m.get('content-length'), '150');
      assert.equal(m.body.length, 150);
      assert.equal(m.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
      assert.equal(m.get('NewFangledHeader'), 'newfangled value continued newfangled value');
      assert.equal(m.to.tag, '1918181833n');
      assert.equal(m.from.displayName, 'J Rosenberg \\"');
      assert.equal(m.from.tag, '98asjd8');
      assert.equal(m.get('subject'), '');
      const c = m.contact[0]!;
      assert.equal(c.displayName, 'Quoted string ""');
      assert.equal(c.params.get('newparam'), 'newvalue');
      assert.equal(c.params.get('secondparam'), null);
      assert.equal(c.params.get('q'), '0.33');
      assert.equal(uri(m).param('unknownparam'), null);
    },
  ],
  'intmeth.dat': [
    501,
    (m) => {
      assert.equal((m as SipRequest).method, "!interesting-Method0123456789_*+`.%indeed'~");
      assert.equal(uri(m).user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      assert.equal(uri(m).password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
      assert.equal(m.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
      assert.equal(m.from.displayName, "token1~` token2'+_ token3*%!.-");
      assert.equal(m.from.tag, "_token~1'+`*%!-.");
      assert.equal(m.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    },
  ],
  'esc01.dat': [
    'accept',
    (m) => {
      assert.equal(uri(m).user, 'sips:user@example.com');
      assert.equal((m.to.uri as SipUri).user, 'user');
      assert.equal((m.from.uri as SipUri).user, 'I have spaces');
      const c = m.contact[0]!.uri as SipUri;
      assert.equal(c.user, 'caller');
      assert.equal(c.param('lr'), null);
      assert.equal(c.param('name'), 'value%41');
    },
  ],
  'escnull.dat': [
    405,
    (m) => {
      assert.equal((m.to.uri as SipUri).user, 'null-\0-null');
      assert.deepEqual(
        m.contact.map((c) => (c.uri as SipUri).user),
        ['\0', '\0\0'],
      );
    },
  ],
  'esc02.dat': [
    501,
    (m) => {
      assert.equal((m as SipRequest).method, 'RE%47IST%45R');
      assert.equal(m.to.displayName, '%Z%45');
      assert.equal(m.contact.length, 2);
      assert.equal(m.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
    },
  ],
  'lwsdisp.dat': ['accept', (m) => assert.equal(m.from.displayName, 'caller')],
  'longreq.dat': [
    'accept',
    (m) => {
      assert.equal(m.via.length, 34);
      assert.equal(m.body.length, 150);
      assert.ok(m.to.displayName!.includes('extremeextreme'));
      assert.ok(m.callId.length > 100);
    },
  ],
  'dblreq.dat': [
    405,
    (m) => {
      assert.equal((m as SipRequest).method, 'REGISTER');
      assert.equal(m.body.length, 0);
    },
  ],
  'semiuri.dat': [
    'accept',
    (m) => {
      assert.equal(uri(m).user, 'user;par=u@example.net');
      assert.equal(uri(m).host, 'example.com');
      assert.equal(uri(m).params.length, 0);
    },
  ],
  'transports.dat': [
    'accept',
    (m) => {
      assert.deepEqual(
        m.via.map((v) => v.transport),
        ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'],
      );
    },
  ],
  'mpart01.dat': [
    405,
    (m) => {
      assert.equal(m.body.length, 553);
      assert.equal(m.contentType, 'multipart/mixed');
    },
  ],
  'unreason.dat': [
    'accept',
    (m) => {
      assert.equal((m as SipResponse).status, 200);
      assert.ok((m as SipResponse).reason.startsWith('= 2**3 * 5**2 '));
      assert.ok(/[^\x00-\x7f]/.test((m as SipResponse).reason));
    },
  ],
  'noreason.dat': [
    'accept',
    (m) => {
      assert.equal((m as SipResponse).status, 100);
      assert.equal((m as SipResponse).reason, '');
    },
  ],
  'badinv01.dat': [400],
  'clerr.dat': [400],
  'ncl.dat': [400],
  'scalar02.dat': [400],
  'scalarlg.dat': ['drop'],
  'quotbal.dat': [400],
  'ltgtruri.dat': [400],
  'lwsruri.dat': [400],
  'lwsstart.dat': [400],
  'trws.dat': [400],
  'escruri.dat': [400],
  'baddate.dat': ['accept'],
  'regbadct.dat': [400],
  'badaspec.dat': [400],
  'baddn.dat': [400],
  'badvers.dat': [505],
  'mismatch01.dat': [400],
  'mismatch02.dat': [501],
  'bigcode.dat': ['drop'],
  'badbranch.dat': [400],
  'insuf.dat': [400],
  'unkscm.dat': [416],
  'novelsc.dat': [416],
  'unksm2.dat': [405, (m) => assert.equal(m.to.uri.scheme, 'isbn')],
  'bext01.dat': [420],
  'invut.dat': [415],
  'regaut01.dat': [405],
  'multi01.dat': [400],
  'mcl01.dat': [400],
  'bcast.dat': ['drop'],
  'zeromf.dat': ['accept', (m) => assert.equal(m.maxForwards, 0)],
  'cparam01.dat': [
    405,
    (m) => {
      const c = m.contact[0]!;
      assert.equal((c.uri as SipUri).params.length, 0);
      assert.equal(c.params.get('unknownparam'), null);
    },
  ],
  'cparam02.dat': [
    405,
    (m) => {
      const c = m.contact[0]!;
      assert.equal((c.uri as SipUri).param('unknownparam'), null);
      assert.equal(c.params.list.length, 0);
    },
  ],
  'regescrt.dat': [
    405,
    (m) => {
      assert.deepEqual((m.contact[0]!.uri as SipUri).headers, [['Route', '<sip:sip.example.com>']]);
    },
  ],
  'sdp01.dat': [406],
  'inv2543.dat': [
    'accept',
    (m) => {
      assert.equal(m.topVia.branch, undefined);
      assert.equal(m.from.tag, undefined);
      assert.ok(m.body.toString().startsWith('v=0'));
    },
  ],
};

describe('RFC 4475 torture messages', () => {
  const cases = loadTorture();
  test('all 49 messages are present and covered', () => {
    assert.equal(cases.length, 49);
    assert.deepEqual(cases.map((c) => c.file).sort(), Object.keys(EXPECT).sort());
  });
  for (const c of cases) {
    test(`${c.file} (${c.section} ${c.title}, ${c.expected})`, async () => {
      const [want, check] = EXPECT[c.file]!;
      const got = await outcome(c.bytes);
      assert.equal(got.result, want);
      if (check) check(got.msg!);
      if (got.msg && want !== 'drop') {
        // What parses re-serializes to something that parses to the same core values.
        const again = parseDatagram(got.msg.serialize());
        assert.equal(again.get('call-id'), got.msg.get('call-id'));
        assert.equal(again.body.length, got.msg.body.length);
      }
    });
  }

  test('clerr over a stream waits for the missing body instead of answering', () => {
    const clerr = cases.find((c) => c.file === 'clerr.dat')!;
    const framer = new StreamFramer();
    assert.deepEqual(framer.push(clerr.bytes), []);
    assert.ok(framer.buffered > 0);
  });

  test('ncl and mcl01 over a stream are fatal framing errors that can still be answered', () => {
    for (const f of ['ncl.dat', 'mcl01.dat']) {
      const events = new StreamFramer().push(cases.find((c) => c.file === f)!.bytes);
      assert.equal(events.length, 1);
      const ev = events[0]!;
      assert.equal(ev.kind, 'fatal');
      if (ev.kind === 'fatal')
        assert.equal(createErrorResponse(ev.error.partial, ev.error.status)?.status, 400);
    }
  });

  test('baddn without its closing blank line does not stall a stream forever: it stays buffered, bounded', () => {
    const baddn = cases.find((c) => c.file === 'baddn.dat')!;
    const framer = new StreamFramer();
    assert.deepEqual(framer.push(baddn.bytes), []);
    // Followed by the missing CRLF, the message completes and is then rejected by validation.
    const events = framer.push(Buffer.from('\r\n'));
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind, 'message');
  });

  test('dblreq: the trailing INVITE in the datagram is ignored', () => {
    const m = parseDatagram(cases.find((c) => c.file === 'dblreq.dat')!.bytes);
    assert.ok(!m.serialize().toString().includes('INVITE'));
  });
});
