/**
 * Calls with phones, signalling for real: call control and the phone-calls service on a Parley user
 * agent on 127.0.0.1, phones that are @parley/sip user agents on 127.0.0.2 and 127.0.0.3 (real UDP),
 * browsers that are fake realtime sessions, and a fake bridge (fake-phone-media.ts) standing for
 * packages/media. What a user would notice: every phone and browser rings, the losers stop (CANCEL
 * with the RFC 3326 Reason), key presses cross both ways, a phone reaches a colleague by extension or
 * address and never another tenant's user, phone to phone joins RTP to RTP, and a phone whose media
 * stop ends the call with a record saying so.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { type CallServerFrame, type Presence } from '@parley/protocol';
import {
  type IncomingInvite,
  type InviteSession,
  type Peer,
  SipRequestFailed,
  SipRequest,
  UserAgentCore,
} from '@parley/sip';
import { CallControl, type CallUser } from '../../src/calls/call-control.ts';
import type { CallSession } from '../../src/realtime/session.ts';
import { PhoneCalls, type AuthenticatedPhone, type PhoneBinding } from '../../src/sip/phone-calls.ts';
import { answerSdp, offer, recordingSink } from '../calls/call-devices.ts';
import { waitFor } from '../realtime/clients.ts';
import { FakeMedia, rtpSdp, type FakeLeg } from './fake-phone-media.ts';

const users: CallUser[] = [
  { id: 'usr_a', tenantId: 'ten_1', address: 'alice@one.example', displayName: 'Alice', enabled: true },
  { id: 'usr_b', tenantId: 'ten_1', address: 'bob@one.example', displayName: 'Bob', enabled: true },
  { id: 'usr_c', tenantId: 'ten_2', address: 'carol@two.example', displayName: 'Carol', enabled: true },
];
const extensions: Record<string, string> = { '201': 'usr_b', '200': 'usr_a' };

interface Browser extends CallSession {
  frames: CallServerFrame[];
}

/** A phone: a user agent of its own that keeps the INVITEs it gets and every request that arrives. */
interface Phone {
  ua: UserAgentCore;
  peer: Peer;
  invites: IncomingInvite[];
  requests: SipRequest[];
}

const policy = {
  allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'],
  supported: [],
  accept: ['application/sdp'],
  isLocalTarget: () => true,
};

async function phoneAt(address: string): Promise<Phone> {
  const invites: IncomingInvite[] = [];
  const requests: SipRequest[] = [];
  const ua = new UserAgentCore({
    advertisedAddress: address,
    policy,
    handlers: { onInvite: (inv) => void invites.push(inv) },
  });
  // CANCEL and BYE are answered below the application: the phone keeps every request to check them.
  const onMessage = ua.endpoint.onMessage.bind(ua.endpoint);
  ua.endpoint.onMessage = (msg, source) => {
    if (msg instanceof SipRequest) requests.push(msg);
    onMessage(msg, source);
  };
  const udp = await ua.endpoint.listenUdp(address, 0);
  return { ua, peer: { protocol: 'UDP', address, port: udp.localPort }, invites, requests };
}

const binding = (p: Phone, id: string): PhoneBinding => ({
  bindingId: `bnd_${id}`,
  deviceId: `dev_${id}`,
  contact: `sip:${id}@${p.peer.address}:${p.peer.port}`,
  flow: p.peer,
});

let world: Awaited<ReturnType<typeof setup>>;

async function setup() {
  const sink = recordingSink();
  const activity: Array<[string, string | null]> = [];
  const sessions = new Map<string, Browser[]>();
  const registered = new Map<string, PhoneBinding[]>();
  const changes = new Set<(c: { type: string; binding: { bindingId: string } }) => void>();
  /** The registrar drops a binding (un-REGISTER, lapse, keep-alive unanswered). */
  const unregister = (userId: string, bindingId: string) => {
    const b = registered.get(userId)?.find((x) => x.bindingId === bindingId);
    registered.set(
      userId,
      (registered.get(userId) ?? []).filter((x) => x !== b),
    );
    for (const l of changes) l({ type: 'removed', binding: b! });
  };
  const media = new FakeMedia();
  const log = pino({ level: 'silent' });
  const control = new CallControl({
    directory: {
      userById: async (id) => users.find((u) => u.id === id) ?? null,
      userByAddress: async (a) => users.find((u) => u.address === a) ?? null,
    },
    phones: { devicesOf: (u) => phones.devicesOf(u) },
    presence: {
      get: (userId) => ({ userId, availability: 'available' }) as Presence,
      setActivity: (_t, userId, act) => void activity.push([userId, act]),
    },
    records: sink,
    limits: { ringTimeoutMs: 30_000, lostGraceMs: 20_000, maxPerUser: 4 },
    log,
  });
  control.attach({ sessionsOf: (id) => sessions.get(id) ?? [] });
  // Who the INVITEs come from: the listener authenticates them; here each phone is a fixed device.
  const authenticated = new Map<string, AuthenticatedPhone>();
  const server = new UserAgentCore({
    advertisedAddress: '127.0.0.1',
    policy,
    handlers: {
      onInvite: (inv): Promise<void> | void => {
        const who = authenticated.get(inv.tx.peer.address);
        if (!who) return inv.reject(403);
        return phones.invite(inv, who);
      },
    },
  });
  const udp = await server.endpoint.listenUdp('127.0.0.1', 0);
  const phones: PhoneCalls = new PhoneCalls({
    ua: server,
    control,
    registrations: {
      contactsOf: (_t, userId) => registered.get(userId) ?? [],
      onChange: (l) => {
        changes.add(l);
        return () => changes.delete(l);
      },
    },
    devices: {
      deviceByUsername: async () => null,
      userByExtension: async (tenantId, ext) => {
        const id = extensions[ext];
        const u = users.find((x) => x.id === id);
        return u && u.tenantId === tenantId ? { userId: u.id } : null;
      },
    },
    media,
    isLocalDomain: async (d) => d === 'one.example' || d === 'two.example',
    log,
  });
  const browser = (userId: string, key: string): Browser => {
    const s: Browser = {
      tenantId: users.find((u) => u.id === userId)!.tenantId,
      userId,
      deviceKey: key,
      frames: [],
      push(f) {
        this.frames.push(f);
      },
    };
    sessions.set(userId, [...(sessions.get(userId) ?? []), s]);
    control.welcome(s);
    return s;
  };
  const p2 = await phoneAt('127.0.0.2');
  const p3 = await phoneAt('127.0.0.3');
  const serverPeer: Peer = { protocol: 'UDP', address: '127.0.0.1', port: udp.localPort };
  return {
    sink,
    activity,
    registered,
    unregister,
    media,
    control,
    server,
    serverPeer,
    phones,
    browser,
    p2,
    p3,
    authenticated,
  };
}

beforeEach(async () => {
  world = await setup();
});

afterEach(async () => {
  await world.control.close();
  await Promise.all([world.server.close(), world.p2.ua.close(), world.p3.ua.close()]);
});

const frame = (s: Browser, pred: (f: CallServerFrame) => boolean, what: string) =>
  waitFor(() => s.frames.find(pred), 3000, what);
const ended = (s: Browser, reason: string) =>
  frame(s, (f) => f.t === 'call.update' && f.call.state === 'ended' && f.call.endReason === reason, reason);
const place = (control: CallControl, s: CallSession, to: string) =>
  control.frame(s, {
    t: 'call.place',
    id: 1,
    to: { userId: to },
    video: false,
    offer: offer() as never,
  }) as Promise<{
    id: string;
  }>;

/** A phone dials `target` (a Request-URI user part at the server) with an RTP/AVP offer. */
function dial(phone: Phone, user: string, host = '127.0.0.1') {
  const { serverPeer } = world;
  return phone.ua.invite({
    target: `sip:${user}@${host}:${serverPeer.port}`,
    from: `sip:alice@one.example`,
    dest: serverPeer,
    sdp: rtpSdp(5004),
  });
}

async function failure(p: Promise<InviteSession>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SipRequestFailed) return e.status;
    throw e;
  }
  assert.fail('the INVITE was answered');
}

describe('calls with phones', () => {
  test('forking: the browser and both phones ring; one phone answers, the others stop', async () => {
    const { control, browser, registered, p2, p3, media, activity } = world;
    registered.set('usr_b', [binding(p2, 'desk'), binding(p3, 'soft')]);
    const alice = browser('usr_a', 'ses/a');
    const bob = browser('usr_b', 'ses/b');
    const call = await place(control, alice, 'usr_b');
    await frame(bob, (f) => f.t === 'call.incoming', 'the browser rings');
    const [desk, soft] = await Promise.all([
      waitFor(() => p2.invites[0], 3000, 'the desk phone rings'),
      waitFor(() => p3.invites[0], 3000, 'the softphone rings'),
    ]);
    for (const inv of [desk, soft]) {
      assert.match(inv.request.body.toString(), /m=audio \d+ RTP\/AVP 0 8 101/);
      assert.match(inv.request.get('from')!, /alice@one\.example/);
      inv.progress(180);
    }
    desk.accept({ body: rtpSdp(6000) });
    await ended(bob, 'answered_elsewhere');
    const answer = await frame(alice, (f) => f.t === 'call.sdp', 'the answer reaches the caller');
    const web = media.legs.find((l) => l.kind === 'webrtc' && l.role === 'answer')!;
    assert.equal(answer.t === 'call.sdp' && answer.description.sdp, web.sdp);
    assert.equal(web.remoteOffer, offer().sdp, "Parley answered the browser's own offer");
    // The losing phone's CANCEL says the call was completed elsewhere, so it logs no missed call.
    const cancel = await waitFor(() => p3.requests.find((r) => r.method === 'CANCEL'), 3000, 'CANCEL');
    assert.equal(cancel.get('reason'), 'SIP;cause=200;text="Call completed elsewhere"');
    assert.equal(soft.state, 'rejected');
    assert.equal(media.bridges.length, 1);
    const rtp = media.bridges[0]![1];
    assert.equal(rtp.accepted, rtpSdp(6000), "the phone's answer applied to its RTP leg");
    assert.deepEqual(activity, [
      ['usr_a', 'in_a_call'],
      ['usr_b', 'in_a_call'],
    ]);

    // Key presses both ways: the phone's RFC 4733 digit reaches the browser, the browser's the phone.
    rtp.happen('dtmf', '5');
    await frame(alice, (f) => f.t === 'call.dtmf' && f.digits === '5', 'the digit');
    await control.frame(alice, { t: 'call.dtmf', id: 7, callId: call.id, digits: '12#' });
    assert.deepEqual(rtp.dtmfSent, ['12#']);

    // The browser hangs up: the phone gets BYE, every leg closes.
    await control.frame(alice, { t: 'call.hangup', id: 8, callId: call.id });
    await waitFor(() => p2.requests.find((r) => r.method === 'BYE'), 3000, 'BYE to the phone');
    await waitFor(() => (media.open.length === 0 ? true : undefined), 3000, 'every media leg closed');
    assert.ok(control.idle);
    assert.equal(world.phones.size, 0);
  });

  test('a phone whose registration goes away while it rings stops ringing; the others ring on', async () => {
    const { control, browser, registered, unregister, p2, p3, phones } = world;
    registered.set('usr_b', [binding(p2, 'desk'), binding(p3, 'soft')]);
    const alice = browser('usr_a', 'ses/a');
    const call = await place(control, alice, 'usr_b');
    const [desk, soft] = await Promise.all([
      waitFor(() => p2.invites[0], 3000, 'desk'),
      waitFor(() => p3.invites[0], 3000, 'soft'),
    ]);
    desk.progress(180);
    soft.progress(180);
    unregister('usr_b', 'bnd_desk');
    await waitFor(() => p2.requests.find((r) => r.method === 'CANCEL'), 3000, 'CANCEL to the vanished phone');
    assert.equal(control.get(call.id)?.ringingLegs().length, 1, 'the softphone still rings');
    unregister('usr_b', 'bnd_soft');
    await ended(alice, 'unavailable');
    await waitFor(() => (phones.size === 0 ? true : undefined), 3000, 'nothing left');
    assert.ok(control.idle);
  });

  test('a phone dials an extension: the browser rings with a WebRTC offer, answers, and the phone gets 200', async () => {
    const { browser, authenticated, p2, media, activity, control } = world;
    authenticated.set('127.0.0.2', {
      deviceId: 'dev_desk',
      tenantId: 'ten_1',
      userId: 'usr_a',
      domain: 'one.example',
    });
    const bob = browser('usr_b', 'ses/b');
    const out = dial(p2, '201');
    const ringing = new Promise<number>((resolve) =>
      out.on('progress', (r) => r.status === 180 && resolve(180)),
    );
    const incoming = await frame(bob, (f) => f.t === 'call.incoming', 'the browser rings');
    assert.equal(await ringing, 180, 'the phone hears ringing');
    assert.ok(incoming.t === 'call.incoming');
    assert.equal(incoming.call.peer.displayName, 'Alice', 'Bob sees who calls');
    const webOffer = media.legs.find((l) => l.kind === 'webrtc' && l.role === 'offer')!;
    assert.equal(incoming.offer.sdp, webOffer.sdp, "the server's own WebRTC offer");
    const rtp = media.legs.find((l) => l.kind === 'rtp' && l.role === 'answer')!;
    assert.equal(rtp.remoteOffer, rtpSdp(5004), "the phone's offer answered by an RTP leg");
    await control.frame(bob, {
      t: 'call.answer',
      id: 2,
      callId: incoming.call.id,
      answer: answerSdp() as never,
    });
    const dialog = await out.answered;
    assert.equal(dialog.remoteSdp?.toString(), rtp.sdp, 'the 200 carries the RTP answer');
    assert.equal(webOffer.accepted, answerSdp().sdp, "the browser's answer applied");
    assert.deepEqual(media.bridges, [[webOffer, rtp]]);
    assert.deepEqual(activity, [
      ['usr_a', 'in_a_call'],
      ['usr_b', 'in_a_call'],
    ]);
    // The browser's digits reach the phone; the phone's reach the browser.
    await control.frame(bob, { t: 'call.dtmf', id: 3, callId: incoming.call.id, digits: '9' });
    assert.deepEqual(rtp.dtmfSent, ['9']);
    rtp.happen('dtmf', '#');
    await frame(bob, (f) => f.t === 'call.dtmf' && f.digits === '#', 'the digit');
    // The phone hangs up.
    await dialog.bye();
    await ended(bob, 'hangup');
    const last = bob.frames.at(-1)!;
    assert.equal(last.t === 'call.update' && last.call.endedBy, 'usr_a');
    await waitFor(() => (media.open.length === 0 ? true : undefined), 3000, 'media closed');
    assert.ok(control.idle);
    assert.equal(world.phones.size, 0);
  });

  test('a phone dials by address and by user part; another tenant and nobody are refused', async () => {
    const { browser, authenticated, p2, control, media } = world;
    authenticated.set('127.0.0.2', {
      deviceId: 'dev_desk',
      tenantId: 'ten_1',
      userId: 'usr_a',
      domain: 'one.example',
    });
    const bob = browser('usr_b', 'ses/b');
    browser('usr_c', 'ses/c');
    assert.equal(await failure(dial(p2, 'carol', 'two.example').answered), 403, 'another tenant');
    assert.equal(await failure(dial(p2, 'nobody').answered), 404);
    assert.equal(await failure(dial(p2, 'alice').answered), 403, 'yourself');
    // A bare user part at the server's address is that user in the caller's own domain.
    const byUser = dial(p2, 'bob');
    const first = await frame(bob, (f) => f.t === 'call.incoming', 'rung by user part');
    byUser.cancel();
    await ended(bob, 'cancelled');
    assert.equal(await failure(byUser.answered), 487);
    bob.frames.length = 0;
    const byAddress = dial(p2, 'bob', 'one.example');
    const second = await frame(bob, (f) => f.t === 'call.incoming', 'rung by address');
    assert.notEqual(
      first.t === 'call.incoming' && first.call.id,
      second.t === 'call.incoming' && second.call.id,
    );
    await control.frame(bob, {
      t: 'call.decline',
      id: 4,
      callId: second.t === 'call.incoming' ? second.call.id : '',
    });
    assert.equal(await failure(byAddress.answered), 603, 'a decline is 603 to the phone');
    await waitFor(() => (media.open.length === 0 ? true : undefined), 3000, 'media closed');
    assert.ok(control.idle);
  });

  test('phone to phone: the callee phone answers and the two RTP legs are joined', async () => {
    const { authenticated, registered, p2, p3, media, control, sink } = world;
    authenticated.set('127.0.0.2', {
      deviceId: 'dev_desk',
      tenantId: 'ten_1',
      userId: 'usr_a',
      domain: 'one.example',
    });
    registered.set('usr_b', [binding(p3, 'bobdesk')]);
    const out = dial(p2, '201');
    const rung = await waitFor(() => p3.invites[0], 3000, "Bob's phone rings");
    rung.progress(180);
    rung.accept({ body: rtpSdp(7000) });
    const dialog = await out.answered;
    const callerRtp = media.legs.find((l) => l.kind === 'rtp' && l.role === 'answer')!;
    const calleeRtp = media.legs.find((l) => l.kind === 'rtp' && l.role === 'offer')!;
    assert.equal(dialog.remoteSdp?.toString(), callerRtp.sdp);
    assert.deepEqual(media.bridges, [[callerRtp, calleeRtp]], 'anchored RTP to RTP');
    const webOffer = media.legs.find((l) => l.kind === 'webrtc')!;
    assert.ok(webOffer.closed, 'the WebRTC offer made for browsers is closed unused');
    assert.equal(media.legs.filter((l) => l.kind === 'webrtc').length, 1, 'no WebRTC answer was made');
    // Bob's phone hangs up: Alice's phone gets BYE.
    await waitFor(() => sink.log.find((e) => e.step === 'answered'), 3000, 'answered stored');
    await dialog.bye();
    await waitFor(() => p3.requests.find((r) => r.method === 'BYE'), 3000, "BYE to Bob's phone");
    await waitFor(() => (media.open.length === 0 ? true : undefined), 3000, 'media closed');
    assert.ok(control.idle);
  });

  test("a phone's media stop: the call ends as media_timeout, both sides told, the record says why", async () => {
    const { browser, registered, p2, media, control, sink } = world;
    registered.set('usr_b', [binding(p2, 'desk')]);
    const alice = browser('usr_a', 'ses/a');
    const call = await place(control, alice, 'usr_b');
    const inv = await waitFor(() => p2.invites[0], 3000, 'the phone rings');
    inv.accept({ body: rtpSdp(6000) });
    await frame(alice, (f) => f.t === 'call.update' && f.call.state === 'connected', 'connected');
    const rtp = media.legs.find((l) => l.kind === 'rtp')!;
    rtp.happen('timeout');
    await ended(alice, 'media_timeout');
    await waitFor(() => p2.requests.find((r) => r.method === 'BYE'), 3000, 'BYE to the phone');
    await control.close();
    const end = sink.log.find((e) => e.callId === call.id && e.step === 'ended')!;
    assert.equal((end.data as { reason: string }).reason, 'media_timeout');
  });

  test('a phone that declines (603) declines the call; one that fails otherwise only stops ringing', async () => {
    const { browser, registered, p2, p3, control } = world;
    registered.set('usr_b', [binding(p2, 'desk'), binding(p3, 'soft')]);
    const alice = browser('usr_a', 'ses/a');
    const call = await place(control, alice, 'usr_b');
    const [desk, soft] = await Promise.all([
      waitFor(() => p2.invites[0], 3000, 'desk'),
      waitFor(() => p3.invites[0], 3000, 'soft'),
    ]);
    soft.reject(486);
    await waitFor(
      () => (control.get(call.id)?.ringingLegs().length === 1 ? true : undefined),
      3000,
      'the softphone out of the call',
    );
    assert.ok(!alice.frames.some((f) => f.t === 'call.update' && f.call.state === 'ended'), 'still ringing');
    desk.reject(603);
    await ended(alice, 'declined');
    assert.ok(control.idle);
  });
});
