/**
 * The calls API against a scripted realtime link (no server; real werift media): incoming calls and
 * their answer, the guarded state machine (stale updates ignored, ending closes the media), pushes that
 * overtake the answer to `call.place`, the welcome after a reconnection (resume with an ICE restart, end
 * what the server no longer lists, hang up what this client cannot resume), ICE server caching.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CallServerFrame, CallView, ClientFrame, IceServersResponse, Welcome } from '@parley/protocol';
import { ParleyError } from '@parley/protocol';
import { CallsApi } from '../src/calls-api.ts';
import { resolveWebRtc } from '../src/call-webrtc.ts';
import type { ConnectionState } from '../src/realtime-link.ts';
import { closeWerift, weriftWebRtc } from './helpers/werift.ts';
import { waitFor, waitUntil } from './helpers/wait.ts';

type Sent = { t: ClientFrame['t'] } & Record<string, unknown>;

function harness(opts: { now?: () => number; ice?: () => IceServersResponse } = {}) {
  const sent: Sent[] = [];
  const link = {
    state: 'open' as ConnectionState,
    answer: (f: Sent): unknown => {
      if (link.state !== 'open') throw new ParleyError('unavailable', 'not connected');
      return {};
    },
    request: (async (f: Sent) => {
      sent.push(f);
      return link.answer(f);
    }) as never,
  };
  let iceFetches = 0;
  const rest = {
    request: (async (_m: string, path: string) => {
      if (path !== '/api/calls/ice-servers') throw new Error(`unexpected ${path}`);
      iceFetches++;
      return opts.ice ? opts.ice() : { iceServers: [], expiresAt: null };
    }) as never,
  };
  const webrtc = resolveWebRtc({ ...weriftWebRtc(), qualityIntervalMs: 0 });
  const api = new CallsApi(rest, link, webrtc, () => 'me', opts.now);
  return { api, link, sent, fetches: () => iceFetches };
}

let seq = 0;
function view(over: Partial<CallView> = {}): CallView {
  return {
    id: `call${++seq}`,
    direction: 'incoming',
    state: 'ringing',
    video: false,
    peer: { userId: 'alice', displayName: 'Alice', address: 'alice@x.example', number: null },
    createdAt: new Date().toISOString(),
    answeredAt: null,
    endedAt: null,
    endReason: null,
    endedBy: null,
    ...over,
  };
}

const welcome = (calls: CallView[]): Welcome => ({
  v: 1,
  connectionId: 'c',
  userId: 'me',
  heartbeatMs: 25_000,
  resume: 'resumed',
  lastSeq: 0,
  limits: { maxFrameBytes: 65536, maxSubscriptions: 1000, messagesPerSecond: 20 },
  calls,
});

/** A real offer from a werift caller, to ring with. */
async function callerOffer() {
  const { api, link } = harness();
  let offer: unknown;
  link.answer = (f) => {
    if (f.t === 'call.place') offer = f.offer;
    return view({ direction: 'outgoing', state: 'dialing' });
  };
  const call = await api.place({ userId: 'bob' });
  return { offer: offer as { type: 'offer'; sdp: string }, close: () => call.hangup() };
}

describe('calls API (scripted link)', () => {
  after(closeWerift);

  test('an incoming call rings, is answered with media, and trickles only after its answer won', async () => {
    const { api, link, sent } = harness();
    const caller = await callerOffer();
    const rang: string[] = [];
    api.on('incoming', (c) => rang.push(c.id));
    const v = view();
    api.received({ t: 'call.incoming', call: v, offer: caller.offer, candidates: [] });
    assert.deepEqual(rang, [v.id]);
    const call = api.get(v.id)!;
    assert.equal(call.state, 'ringing');
    assert.equal(call.peerConnection, null, 'no media before the answer');
    const states: string[] = [];
    call.on('state', (s) => states.push(s));
    link.answer = (f) =>
      f.t === 'call.answer' ? { ...v, state: 'connected', answeredAt: new Date().toISOString() } : {};
    await call.answer();
    assert.equal(call.state, 'connected');
    assert.deepEqual(states, ['connected']);
    const answerAt = sent.findIndex((f) => f.t === 'call.answer');
    const firstIce = sent.findIndex((f) => f.t === 'call.ice');
    assert.ok(answerAt >= 0);
    await waitUntil(() => sent.some((f) => f.t === 'call.ice'), 3000, 'trickled candidates');
    assert.ok(firstIce === -1 || firstIce > answerAt, 'no candidate before the answer');
    assert.match((sent[answerAt] as unknown as { answer: { sdp: string } }).answer.sdp, /^v=0/);
    // A stale update (ringing after connected) is ignored; the end closes the media.
    api.received({ t: 'call.update', call: { ...v, state: 'ringing' } });
    assert.equal(call.state, 'connected');
    const ended: unknown[] = [];
    call.on('ended', (e) => ended.push(e));
    const mic = call.localStream!.getAudioTracks()[0] as unknown as { stopped: boolean };
    api.received({ t: 'call.update', call: { ...v, state: 'ended', endReason: 'hangup', endedBy: 'alice' } });
    assert.deepEqual(ended, [{ reason: 'hangup', endedBy: 'alice' }]);
    assert.equal(mic.stopped, true, 'the microphone stopped');
    assert.equal(api.current.length, 0);
    await caller.close();
  });

  test('answering a call another device won rejects with call_state and opens nothing', async () => {
    const { api, link } = harness();
    const caller = await callerOffer();
    const v = view();
    api.received({ t: 'call.incoming', call: v, offer: caller.offer, candidates: [] });
    const call = api.get(v.id)!;
    link.answer = (f) => {
      if (f.t !== 'call.answer') return {};
      queueMicrotask(() =>
        api.received({ t: 'call.update', call: { ...v, state: 'ended', endReason: 'answered_elsewhere' } }),
      );
      throw new ParleyError('call_state', 'answered on another device');
    };
    await assert.rejects(call.answer(), (e: ParleyError) => e.code === 'call_state');
    await waitUntil(() => call.state === 'ended', 1000, 'ended');
    assert.equal(call.endReason, 'answered_elsewhere');
    assert.equal(call.peerConnection, null);
    await caller.close();
  });

  test('a push that overtakes the answer to call.place is applied once the call exists', async () => {
    const { api, link } = harness();
    const v = view({ direction: 'outgoing', state: 'dialing' });
    link.answer = (f) => {
      if (f.t !== 'call.place') return {};
      api.received({ t: 'call.update', call: { ...v, state: 'ringing' } });
      return v;
    };
    const call = await api.place({ address: 'bob@x.example' });
    assert.equal(call.state, 'ringing');
    assert.equal(call.direction, 'outgoing');
    // Late pushes for a call that ended here are dropped, not held.
    api.received({ t: 'call.update', call: { ...v, state: 'ended', endReason: 'declined' } });
    assert.equal(call.endReason, 'declined');
    api.received({ t: 'call.ice', callId: v.id, candidate: { candidate: '' } } as CallServerFrame);
    assert.equal(api.current.length, 0);
  });

  test('after a reconnection: a listed call restarts ICE, an absent one ends lost, an unknown one is hung up', async () => {
    const { api, link, sent } = harness();
    const a = view({ direction: 'outgoing', state: 'dialing' });
    const b = view({ direction: 'outgoing', state: 'dialing' });
    const stranger = view({ state: 'connected' });
    for (const v of [a, b]) {
      link.answer = (f) => (f.t === 'call.place' ? v : {});
      await api.place({ userId: 'bob' });
    }
    const callA = api.get(a.id)!;
    const callB = api.get(b.id)!;
    // Connect call A with a real answer from a werift callee.
    const callee = harness();
    const placed = sent.filter((f) => f.t === 'call.place') as unknown as Array<{
      offer: { type: 'offer'; sdp: string };
    }>;
    callee.api.received({
      t: 'call.incoming',
      call: { ...a, direction: 'incoming', state: 'ringing' },
      offer: placed[0]!.offer,
      candidates: [],
    });
    callee.link.answer = (f) =>
      f.t === 'call.answer' ? { ...a, direction: 'incoming', state: 'connected' } : {};
    await callee.api.get(a.id)!.answer();
    const answer = callee.sent.find((f) => f.t === 'call.answer') as unknown as {
      answer: { type: 'answer'; sdp: string };
    };
    api.received({ t: 'call.update', call: { ...a, state: 'connected' } });
    api.received({ t: 'call.sdp', callId: a.id, description: answer.answer });
    await waitUntil(() => callA.peerConnection!.signalingState === 'stable', 3000, 'answer applied');
    const before = sent.length;
    api.resumed(welcome([{ ...a, state: 'connected' }, stranger]));
    assert.equal(callB.state, 'ended');
    assert.equal(callB.endReason, 'lost', 'the server no longer holds this device in it');
    assert.equal(callA.state, 'connected');
    const offer = await waitFor(
      () =>
        sent.slice(before).find((f) => f.t === 'call.sdp') as
          { callId: string; description: { type: string; sdp: string } } | undefined,
      3000,
      'an ICE restart offer',
    );
    assert.equal(offer.callId, a.id);
    assert.equal(offer.description.type, 'offer');
    assert.notEqual(
      /ice-ufrag:(\S+)/.exec(offer.description.sdp)?.[1],
      /ice-ufrag:(\S+)/.exec(placed[0]!.offer.sdp)?.[1],
    );
    assert.ok(
      sent.some((f) => f.t === 'call.hangup' && f.callId === stranger.id),
      'the unknown call is hung up',
    );
    // The next welcome no longer lists A: the call was lost while away.
    api.resumed(welcome([]));
    assert.equal(callA.endReason, 'lost');
    await callee.api.get(a.id)?.hangup();
  });

  test('declining while the link is down ends the call here as declined', async () => {
    const { api, link } = harness();
    const caller = await callerOffer();
    const v = view();
    api.received({ t: 'call.incoming', call: v, offer: caller.offer, candidates: [] });
    link.state = 'resuming';
    await api.get(v.id)!.decline();
    assert.equal(api.get(v.id), undefined);
    await caller.close();
  });

  test('ICE servers are fetched once and again only when their credentials near expiry', async () => {
    let now = 1_000_000;
    const { api, fetches } = harness({
      now: () => now,
      ice: () => ({
        iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }],
        expiresAt: new Date(now + 3_600_000).toISOString(),
      }),
    });
    await Promise.all([api.iceServers(), api.iceServers()]);
    assert.equal(fetches(), 1);
    now += 3_600_000 - 400_000; // 400 s left: more than 10 % of an hour, still fine
    await api.iceServers();
    assert.equal(fetches(), 1);
    now += 100_000; // 300 s left: under 10 % of the lifetime
    await api.iceServers();
    assert.equal(fetches(), 2);
  });
});
