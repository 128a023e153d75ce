/**
 * The presence table as two nodes see it: two services sharing one bus (as two processes share Redis).
 * A device on node A is aggregated on node B; A's grace decides when it leaves; expiries agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Presence } from '@parley/protocol';
import { InProcessBus, type Bus, type BusEvents, type BusListener } from '../../src/bus/bus.ts';
import { PresenceService } from '../../src/presence/presence-service.ts';
import { fakeTime } from '../helpers/fake-time.ts';

/** Two nodes on one bus, each with its own clock (as two machines), both moved by `advance`. */
function nodes(graceMs: number) {
  const bus = new InProcessBus((err) => {
    throw err;
  });
  const start = Date.now();
  const timeA = fakeTime(start);
  const timeB = fakeTime(start);
  const a = new PresenceService(bus, { graceMs, ...timeA });
  const b = new PresenceService(bus, { graceMs, ...timeB });
  const seenOnB: Presence[] = [];
  b.onChange((_t, _u, p) => seenOnB.push(p));
  const advance = (ms: number) => (timeA.advance(ms), timeB.advance(ms));
  return { a, b, seenOnB, advance, now: timeA.now, close: () => (a.close(), b.close()) };
}

test("a device connected to node A shows on node B; A's grace removes it; settings travel too", async () => {
  const { a, b, seenOnB, advance, close } = nodes(80);
  a.deviceConnected('ten_1', 'usr_1', 'ses_1/laptop');
  assert.equal(b.get('usr_1').availability, 'available');
  a.publish('ten_1', 'usr_1', 'ses_1/laptop', { activity: 'in_a_call' });
  assert.deepEqual([b.get('usr_1').availability, b.get('usr_1').activity], ['busy', 'in_a_call']);
  await a.set('ten_1', 'usr_1', { note: { text: 'On the road', until: null } });
  assert.equal(b.get('usr_1').note?.text, 'On the road');

  a.deviceDisconnected('ses_1/laptop', false);
  advance(30);
  assert.equal(b.get('usr_1').availability, 'busy', 'still there within the grace');
  // The same device comes back within the grace: no change at all, then or when the grace would end.
  const before = seenOnB.length;
  a.deviceConnected('ten_1', 'usr_1', 'ses_1/laptop');
  advance(100);
  assert.equal(seenOnB.length, before);
  a.deviceDisconnected('ses_1/laptop', false);
  advance(79);
  assert.equal(b.get('usr_1').availability, 'busy', 'one millisecond before the grace ends');
  advance(1);
  assert.equal(b.get('usr_1').availability, 'offline');
  assert.equal(b.get('usr_1').note?.text, 'On the road', 'the note outlives the devices');
  await a.set('ten_1', 'usr_1', { note: null });
  assert.equal(a.size + b.size, 0, 'both tables forget the user');
  close();
});

test('a manual state expires on every node at the same instant', async () => {
  const { a, b, advance, now, close } = nodes(0);
  a.deviceConnected('ten_1', 'usr_2', 'ses_2/phone');
  await a.set('ten_1', 'usr_2', {
    manual: { availability: 'do_not_disturb', until: new Date(now() + 60).toISOString() },
  });
  assert.equal(a.get('usr_2').availability, 'do_not_disturb');
  assert.equal(b.get('usr_2').availability, 'do_not_disturb');
  advance(60);
  assert.equal(b.get('usr_2').availability, 'do_not_disturb', 'until the instant itself');
  advance(1);
  assert.equal(a.get('usr_2').availability, 'available');
  assert.equal(b.get('usr_2').availability, 'available');
  a.deviceDisconnected('ses_2/phone', true);
  assert.equal(b.get('usr_2').availability, 'offline');
  close();
});

/** A bus that delivers only when told to, as Redis delivers some time after the publish returns. */
class DeferredBus implements Bus {
  private readonly inner = new InProcessBus((err) => {
    throw err;
  });
  private readonly queue: Array<() => void> = [];

  publish<K extends keyof BusEvents>(topic: K, event: BusEvents[K]): void {
    this.queue.push(() => this.inner.publish(topic, event));
  }

  subscribe<K extends keyof BusEvents>(topic: K, listener: BusListener<K>): () => void {
    return this.inner.subscribe(topic, listener);
  }

  /** Delivers everything published so far, in order. */
  deliver(): void {
    for (const d of this.queue.splice(0)) d();
  }
}

test('on a bus that delivers later, publish and set answer what they decided, and the next call builds on it', async () => {
  const bus = new DeferredBus();
  const a = new PresenceService(bus, { graceMs: 0 });
  const b = new PresenceService(bus, { graceMs: 0 });
  a.deviceConnected('ten_1', 'usr_3', 'ses_3/laptop');
  const inCall = a.publish('ten_1', 'usr_3', 'ses_3/laptop', { activity: 'in_a_call' });
  assert.deepEqual([inCall.availability, inCall.activity], ['busy', 'in_a_call']);
  // Sent before the bus delivered the first: it patches the state just decided, not an old one.
  const idleToo = a.publish('ten_1', 'usr_3', 'ses_3/laptop', { idle: true });
  assert.deepEqual([idleToo.availability, idleToo.activity], ['busy', 'in_a_call']);

  // The second set is sent before the first has resolved (been stored): it still builds on the first.
  const [dnd, noted] = await Promise.all([
    a.set('ten_1', 'usr_3', { manual: { availability: 'do_not_disturb', until: null } }),
    a.set('ten_1', 'usr_3', { note: { text: 'Board meeting', until: null } }),
  ]);
  assert.equal(dnd.availability, 'do_not_disturb');
  assert.deepEqual([noted.availability, noted.note?.text], ['do_not_disturb', 'Board meeting']);
  assert.equal(b.get('usr_3').availability, 'offline', 'node B has heard nothing yet');

  bus.deliver();
  for (const node of [a, b]) {
    const p = node.get('usr_3');
    assert.deepEqual(
      [p.availability, p.activity, p.note?.text],
      ['do_not_disturb', 'in_a_call', 'Board meeting'],
    );
  }
  a.deviceDisconnected('ses_3/laptop', true);
  await a.set('ten_1', 'usr_3', { manual: null, note: null });
  assert.equal(a.get('usr_3').availability, 'offline');
  bus.deliver();
  assert.equal(a.size + b.size, 0, 'both tables forget the user');
  a.close();
  b.close();
});

test("a server-set activity (In a call) shows on every node beside the devices' own, and clears", () => {
  const { a, b, close } = nodes(0);
  a.deviceConnected('ten_1', 'usr_1', 'ses_1/laptop');
  a.deviceConnected('ten_1', 'usr_1', 'ses_1/phone');
  a.setActivity('ten_1', 'usr_1', 'in_a_call');
  for (const node of [a, b])
    assert.deepEqual([node.get('usr_1').availability, node.get('usr_1').activity], ['busy', 'in_a_call']);
  // A device's own higher activity still wins, and its own "none" does not clear the server's.
  a.publish('ten_1', 'usr_1', 'ses_1/phone', { activity: 'presenting' });
  assert.equal(b.get('usr_1').activity, 'presenting');
  a.publish('ten_1', 'usr_1', 'ses_1/phone', { activity: 'none' });
  assert.equal(b.get('usr_1').activity, 'in_a_call');
  // Kept while every device is away for a moment (the user is offline meanwhile), then cleared.
  a.deviceDisconnected('ses_1/laptop', true);
  a.deviceDisconnected('ses_1/phone', true);
  assert.equal(b.get('usr_1').availability, 'offline');
  a.deviceConnected('ten_1', 'usr_1', 'ses_1/laptop');
  assert.equal(b.get('usr_1').activity, 'in_a_call');
  a.setActivity('ten_1', 'usr_1', null);
  for (const node of [a, b])
    assert.deepEqual([node.get('usr_1').availability, node.get('usr_1').activity], ['available', 'none']);
  a.deviceDisconnected('ses_1/laptop', true);
  assert.equal(a.size + b.size, 0, 'both tables forget the user');
  close();
});
