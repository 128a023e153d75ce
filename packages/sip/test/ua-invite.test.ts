/**
 * The user-agent core over the in-memory network: dialogs on both sides, in-dialog routing along
 * loose and strict route sets (RFC 3261 section 12.2.1.1), early dialogs and forked 2xx
 * (13.2.2.4), CANCEL (9.1) and Timer C, digest challenges for INVITE, REGISTER and in-dialog
 * requests (22.2), Replaces (RFC 3891).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createResponse,
  DigestServer,
  type InviteSession,
  type SipRequest,
  type SipResponse,
  SipRequestFailed,
} from '../src/index.ts';
import { flush, isReq, makeUa, peer, run, SDP, sent, settle, world } from './ua-helpers.ts';

const A = peer('10.0.0.1');
const B = peer('10.0.0.2');
const P = peer('10.0.0.3');

/** A answers nothing; B accepts every INVITE with the headers given. */
function pair(acceptHeaders: Array<[string, string]> = []) {
  const { net, clock } = world();
  const a = makeUa(net, clock, A.address);
  const sessions: InviteSession[] = [];
  const b = makeUa(net, clock, B.address, {
    handlers: {
      onInvite: (inv) => {
        const s = inv.accept({ body: SDP(4000), headers: acceptHeaders });
        if (s) sessions.push(s);
      },
    },
  });
  return { net, clock, a, b, sessions };
}

/** A bare node at P that records requests and answers each non-ACK with 200. */
function recorder(net: ReturnType<typeof world>['net']) {
  const got: SipRequest[] = [];
  const t = net.bind(P.address, P.port, {
    onMessage: (m, source) => {
      if (!m.isRequest) return;
      const r = m as SipRequest;
      got.push(r);
      if (r.method !== 'ACK') t.send(createResponse(r, 200).serialize(), source);
    },
    onParseError: () => {},
  });
  return got;
}

describe('dialogs and routing (12.1, 12.2.1.1)', () => {
  test('a call both ways: INVITE/200/ACK, then BYE ends both sides and empties both tables', async () => {
    const { clock, a, b, sessions } = pair();
    const call = await settle(
      clock,
      a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B, sdp: SDP(3000) }).answered,
    );
    await run(clock, 50);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.state, 'confirmed', 'the UAS saw the ACK');
    assert.equal(call.dialog.id.remoteTag, sessions[0]!.dialog.id.localTag);
    assert.equal(a.dialogCount, 1);
    assert.equal(b.dialogCount, 1);
    let ended: string | undefined;
    sessions[0]!.on('terminated', (r) => (ended = r));
    assert.equal((await settle(clock, call.bye()))?.status, 200);
    assert.equal(ended, 'bye');
    assert.equal(a.dialogCount, 0);
    assert.equal(b.dialogCount, 0);
  });

  test('UAC: a loose route from Record-Route takes ACK and BYE to the proxy, Request-URI the remote target', async () => {
    const { net, clock, a } = pair([['Record-Route', '<sip:10.0.0.3;lr>']]);
    const got = recorder(net);
    const call = await settle(
      clock,
      a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B }).answered,
    );
    await settle(clock, call.bye());
    assert.deepEqual(
      got.map((r) => r.method),
      ['ACK', 'BYE'],
    );
    assert.equal(got[1]!.uriText, 'sip:ua@10.0.0.2:5060');
    assert.deepEqual(got[1]!.getAll('route'), ['<sip:10.0.0.3;lr>']);
  });

  test('UAS: a strict route (no lr) becomes the Request-URI and the remote target goes last in Route', async () => {
    const { net, clock, a, sessions } = pair();
    const got = recorder(net);
    await settle(
      clock,
      a.invite({
        target: 'sip:b@10.0.0.2',
        from: 'sip:a@10.0.0.1',
        dest: B,
        headers: [['Record-Route', '<sip:10.0.0.3>']],
      }).answered,
    );
    await run(clock, 50);
    await settle(clock, sessions[0]!.bye());
    const bye = got.find((r) => r.method === 'BYE')!;
    assert.ok(bye, 'the BYE went to the strict router');
    assert.equal(bye.uriText, 'sip:10.0.0.3');
    assert.deepEqual(bye.getAll('route'), ['<sip:ua@10.0.0.1:5060>']);
  });

  test('a request naming an unknown dialog gets 481; an out-of-order CSeq gets 500 (12.2.2)', async () => {
    const { net, clock, a, b, sessions } = pair();
    const call = await settle(
      clock,
      a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B }).answered,
    );
    await run(clock, 50);
    const info = call.dialog.createRequest('INFO');
    info.set('CSeq', `1 INFO`); // below the INVITE's
    const res = await settle(clock, sendRaw(a, info, B));
    assert.equal(res.status, 500);
    const stray = call.dialog.createRequest('INFO');
    stray.set('Call-ID', 'nobody@here');
    assert.equal((await settle(clock, sendRaw(a, stray, B))).status, 481);
    assert.equal(b.dialogCount, 1);
    assert.equal(sessions[0]!.state, 'confirmed');
    void net;
  });
});

/** Sends a prepared request through A's endpoint and resolves with its final response. */
function sendRaw(ua: ReturnType<typeof makeUa>, req: SipRequest, dest: typeof B): Promise<SipResponse> {
  return new Promise((resolve) =>
    ua.endpoint.sendRequest(req, dest, { onResponse: (r) => r.status >= 200 && resolve(r) }),
  );
}

describe('early dialogs and forking (12.1.2, 13.2.2.4)', () => {
  test('two forks ring (two early dialogs); both answer: the first is the call, the second is ACKed and BYEd', async () => {
    const { net, clock } = world();
    const a = makeUa(net, clock, A.address);
    // A forking proxy at P: two 180s and two 200s with different To tags for the one INVITE.
    const t = net.bind(P.address, P.port, {
      onMessage: (m, source) => {
        if (!m.isRequest) return;
        const r = m as SipRequest;
        if (r.method === 'INVITE') {
          for (const tag of ['f1', 'f2'])
            t.send(
              createResponse(r, 180, {
                toTag: tag,
                headers: [['Contact', `<sip:${tag}@10.0.0.3>`]],
              }).serialize(),
              source,
            );
          for (const tag of ['f1', 'f2'])
            t.send(
              createResponse(r, 200, {
                toTag: tag,
                headers: [['Contact', `<sip:${tag}@10.0.0.3>`]],
              }).serialize(),
              source,
            );
        } else if (r.method === 'BYE') t.send(createResponse(r, 200).serialize(), source);
      },
      onParseError: () => {},
    });
    const out = a.invite({ target: 'sip:b@10.0.0.3', from: 'sip:a@10.0.0.1', dest: P });
    const early: string[] = [];
    out.on('progress', (_res, d) => d && early.push(d.id.remoteTag));
    let forked = 0;
    out.on('forked', () => forked++);
    const call = await settle(clock, out.answered);
    await run(clock, 100);
    assert.deepEqual(early, ['f1', 'f2']);
    assert.equal(call.dialog.id.remoteTag, 'f1');
    assert.equal(forked, 1);
    const acks = sent(net, (m) => isReq(m, 'ACK')).map((e) => (e.msg as SipRequest).uriText);
    assert.deepEqual(acks, ['sip:f1@10.0.0.3', 'sip:f2@10.0.0.3']);
    const byes = sent(net, (m) => isReq(m, 'BYE')).map((e) => (e.msg as SipRequest).uriText);
    assert.deepEqual(byes, ['sip:f2@10.0.0.3']);
    assert.equal(a.dialogCount, 1, 'only the answered dialog is left');
  });
});

describe('CANCEL, Timer C, challenges', () => {
  test('cancel() after a provisional: CANCEL, 487, the callee hears it, no dialog is left', async () => {
    const { net, clock } = world();
    const a = makeUa(net, clock, A.address);
    let cancelled = 0;
    const b = makeUa(net, clock, B.address, {
      handlers: {
        onInvite: (inv) => {
          inv.progress(180);
          inv.on('cancelled', () => cancelled++);
        },
      },
    });
    const out = a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B });
    await run(clock, 50);
    assert.equal(b.dialogCount, 1, 'early dialog on the UAS');
    assert.equal(out.cancel(), true);
    const err = await settle(clock, out.answered).catch((e: unknown) => e);
    assert.ok(err instanceof SipRequestFailed && err.status === 487);
    assert.equal(cancelled, 1);
    assert.equal(a.dialogCount, 0);
    assert.equal(b.dialogCount, 0);
    assert.equal(out.cancel(), false, 'too late now');
  });

  test('cancel() before any provisional waits for one (9.1)', async () => {
    const { net, clock } = world();
    const a = makeUa(net, clock, A.address);
    let ring: (() => void) | undefined;
    makeUa(net, clock, B.address, { handlers: { onInvite: (inv) => void (ring = () => inv.progress(180)) } });
    const out = a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B });
    await flush();
    out.cancel();
    await run(clock, 100);
    assert.equal(sent(net, (m) => isReq(m, 'CANCEL')).length, 0, 'no CANCEL before a provisional');
    ring!();
    const err = await settle(clock, out.answered).catch((e: unknown) => e);
    assert.equal((err as SipRequestFailed).status, 487);
    assert.equal(sent(net, (m) => isReq(m, 'CANCEL')).length, 1);
  });

  test('Timer C: ringing with no answer is cancelled after timerCMs', async () => {
    const { net, clock } = world();
    const a = makeUa(net, clock, A.address, { timerCMs: 30_000 });
    makeUa(net, clock, B.address, { handlers: { onInvite: (inv) => inv.progress(180) } });
    const t0 = clock.now();
    const err = await settle(
      clock,
      a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B }).answered,
    ).catch((e: unknown) => e);
    assert.equal((err as SipRequestFailed).status, 487);
    assert.ok(clock.now() - t0 >= 30_000 && clock.now() - t0 < 31_000, `${clock.now() - t0} ms`);
  });

  test('401 answered for INVITE, REGISTER and a request inside the dialog', async () => {
    const { net, clock } = world();
    const digest = new DigestServer({ realm: 'b.test', algorithms: ['MD5'] });
    const lookup = async (u: string) => (u === 'alice' ? { password: 'secret' } : undefined);
    const challenged: string[] = [];
    const check = async (req: SipRequest, respond: (r: SipResponse) => void): Promise<boolean> => {
      if ((await digest.verify(req, lookup)).ok) return true;
      challenged.push(req.method);
      respond(
        createResponse(req, 401, {
          headers: digest.challenge().map((c) => ['WWW-Authenticate', c] as [string, string]),
        }),
      );
      return false;
    };
    const b = makeUa(net, clock, B.address, {
      handlers: {
        onInvite: async (inv) => {
          if (
            !(await check(inv.request, (r) =>
              inv.reject(401, {
                headers: r.getAll('www-authenticate').map((v) => ['WWW-Authenticate', v] as [string, string]),
              }),
            ))
          )
            return;
          const s = inv.accept();
          s?.on(
            'request',
            (tx) =>
              void check(tx.request, (r) => tx.respond(r)).then(
                (ok) => ok && tx.respond(createResponse(tx.request, 200)),
              ),
          );
        },
        onRequest: async (tx) => {
          if (await check(tx.request, (r) => tx.respond(r))) tx.respond(createResponse(tx.request, 200));
        },
      },
      policy: {
        allow: [...['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'REGISTER']],
        supported: [],
        accept: ['application/sdp'],
        isLocalTarget: () => true,
      },
    });
    void b;
    const credentials = { username: 'alice', password: 'secret' };
    const a = makeUa(net, clock, A.address);
    const reg = await settle(
      clock,
      a.request({
        method: 'REGISTER',
        target: 'sip:10.0.0.2',
        from: 'sip:alice@b.test',
        to: 'sip:alice@b.test',
        dest: B,
        credentials,
        headers: [
          ['Contact', a.contact()],
          ['Expires', 60],
        ],
      }),
    );
    assert.equal(reg.response.status, 200);
    const call = await settle(
      clock,
      a.invite({
        target: 'sip:b@10.0.0.2',
        from: 'sip:alice@b.test',
        dest: B,
        credentials,
        session: { credentials },
      }).answered,
    );
    const ack = sent(net, (m) => isReq(m, 'ACK')).at(-1)!.msg as SipRequest;
    assert.ok(ack.get('authorization'), 'the ACK of the 2xx carries the INVITE credentials (13.2.2.4)');
    const info = await settle(clock, call.sendInDialog('INFO'));
    assert.equal(info.status, 200);
    assert.deepEqual(challenged, ['REGISTER', 'INVITE', 'INFO']);
    // The retried INFO took the dialog's next CSeq.
    const infos = sent(net, (m) => isReq(m, 'INFO')).map((e) => e.msg.cseq.seq);
    assert.equal(infos[1], infos[0]! + 1);
  });
});

describe('Replaces (RFC 3891)', () => {
  test('an INVITE with Replaces names the session it replaces; an unknown dialog gets 481', async () => {
    const { net, clock } = world();
    const replaced: Array<InviteSession | undefined> = [];
    const b = makeUa(net, clock, B.address, {
      handlers: {
        onInvite: (inv) => {
          replaced.push(inv.replaces);
          inv.accept();
        },
      },
    });
    const a = makeUa(net, clock, A.address);
    const first = await settle(
      clock,
      a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B }).answered,
    );
    await run(clock, 50);
    const d = first.dialog.id;
    // From B's side: to-tag is B's local tag (A's remote), from-tag is A's tag.
    const replaces = `${d.callId};to-tag=${d.remoteTag};from-tag=${d.localTag}`;
    await settle(
      clock,
      a.invite({
        target: 'sip:b@10.0.0.2',
        from: 'sip:a@10.0.0.1',
        dest: B,
        headers: [['Replaces', replaces]],
      }).answered,
    );
    assert.equal(replaced.length, 2);
    assert.equal(replaced[1]?.dialog.id.localTag, d.remoteTag);
    const err = await settle(
      clock,
      a.invite({
        target: 'sip:b@10.0.0.2',
        from: 'sip:a@10.0.0.1',
        dest: B,
        headers: [['Replaces', 'nope;to-tag=1;from-tag=2']],
      }).answered,
    ).catch((e: unknown) => e);
    assert.equal((err as SipRequestFailed).status, 481);
    void b;
  });
});
