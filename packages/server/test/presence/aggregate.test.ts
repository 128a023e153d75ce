/** The aggregation rules, without sockets: several devices, activities, idle, manual states and expiry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate } from '../../src/presence/aggregate.ts';
import {
  emptySettings,
  type DevicePresenceState,
  type UserPresenceSettings,
} from '../../src/presence/presence-state.ts';

const dev = (x: Partial<DevicePresenceState> = {}): DevicePresenceState => ({
  availability: 'available',
  activity: 'none',
  idle: false,
  ...x,
});
const settings = (x: Partial<UserPresenceSettings> = {}): UserPresenceSettings => ({
  ...emptySettings(),
  ...x,
});
const NOW = 1_000_000;
const avail = (devices: DevicePresenceState[], s = settings(), now = NOW) =>
  aggregate(devices, s, now).availability;

test('the highest priority across devices wins: DND > Busy > BRB > Away > Available', () => {
  assert.equal(
    avail([dev(), dev({ availability: 'do_not_disturb' }), dev({ availability: 'busy' })]),
    'do_not_disturb',
  );
  assert.equal(avail([dev({ availability: 'be_right_back' }), dev({ availability: 'busy' })]), 'busy');
  assert.equal(
    avail([dev({ availability: 'away' }), dev({ availability: 'be_right_back' })]),
    'be_right_back',
  );
  assert.equal(avail([dev(), dev({ availability: 'away' })]), 'away');
  assert.equal(avail([dev()]), 'available');
});

test('no devices is Offline, even with a manual state', () => {
  assert.equal(avail([]), 'offline');
  assert.equal(avail([], settings({ manual: { availability: 'busy', until: null } })), 'offline');
});

test('activities imply availability: in a call is Busy, presenting is Do not disturb; the highest activity shows', () => {
  const a = aggregate([dev({ activity: 'in_a_call' }), dev()], emptySettings(), NOW);
  assert.deepEqual([a.availability, a.activity], ['busy', 'in_a_call']);
  const b = aggregate(
    [dev({ activity: 'in_a_call' }), dev({ activity: 'presenting' })],
    emptySettings(),
    NOW,
  );
  assert.deepEqual([b.availability, b.activity], ['do_not_disturb', 'presenting']);
});

test('idle makes a device Away, unless another device is active', () => {
  assert.equal(avail([dev({ idle: true })]), 'away');
  assert.equal(avail([dev({ idle: true }), dev({ idle: true })]), 'away');
  assert.equal(avail([dev({ idle: true }), dev()]), 'available');
  // Idle does not lower what a device reports beyond Available.
  assert.equal(avail([dev({ idle: true, availability: 'busy' })]), 'busy');
  assert.equal(avail([dev({ idle: true, activity: 'in_a_call' })]), 'busy');
});

test('a manual state replaces the devices (idle included) but activities above it still show', () => {
  const manual = (availability: 'available' | 'busy' | 'do_not_disturb' | 'away') =>
    settings({ manual: { availability, until: null } });
  assert.equal(avail([dev({ idle: true })], manual('available')), 'available');
  assert.equal(avail([dev({ availability: 'do_not_disturb' })], manual('away')), 'away');
  assert.equal(avail([dev({ activity: 'in_a_call' })], manual('available')), 'busy');
  assert.equal(avail([dev({ activity: 'in_a_call' })], manual('do_not_disturb')), 'do_not_disturb');
});

test('a manual state expires; nextExpiry says when to look again', () => {
  const s = settings({ manual: { availability: 'busy', until: NOW + 3_600_000 } });
  const before = aggregate([dev()], s, NOW);
  assert.equal(before.availability, 'busy');
  assert.equal(before.manualUntil, NOW + 3_600_000);
  assert.equal(before.nextExpiry, NOW + 3_600_000);
  const after = aggregate([dev()], s, NOW + 3_600_000);
  assert.equal(after.availability, 'available');
  assert.equal(after.manualUntil, null);
  assert.equal(after.nextExpiry, null);
});

test('appear offline hides availability and activity, but keeps the note and out-of-office message', () => {
  const s = settings({
    manual: { availability: 'appear_offline', until: null },
    note: { text: 'Heads down on the Q3 plan', until: null },
    outOfOffice: { message: 'Back on Monday', until: NOW + 1000 },
  });
  const a = aggregate([dev({ activity: 'presenting' })], s, NOW);
  assert.equal(a.availability, 'offline');
  assert.equal(a.activity, 'none');
  assert.equal(a.note?.text, 'Heads down on the Q3 plan');
  assert.equal(a.outOfOffice?.message, 'Back on Monday');
  assert.equal(aggregate([dev()], s, NOW + 1000).outOfOffice, null);
});

test('a server-set activity (In a call) counts like a device activity, needs a device, yields to higher ones', () => {
  const inCall = (devices: DevicePresenceState[], s = settings()) => aggregate(devices, s, NOW, 'in_a_call');
  assert.deepEqual(
    [inCall([dev(), dev({ idle: true })]).availability, inCall([dev()]).activity],
    ['busy', 'in_a_call'],
  );
  assert.equal(inCall([dev({ idle: true })]).availability, 'busy', 'idle does not hide a call');
  assert.equal(inCall([dev({ activity: 'presenting' })]).activity, 'presenting');
  assert.equal(inCall([dev({ availability: 'do_not_disturb' })]).availability, 'do_not_disturb');
  assert.equal(
    inCall([dev()], settings({ manual: { availability: 'available', until: null } })).availability,
    'busy',
  );
  assert.deepEqual([inCall([]).availability, inCall([]).activity], ['offline', 'none']);
  assert.equal(
    inCall([dev()], settings({ manual: { availability: 'appear_offline', until: null } })).availability,
    'offline',
  );
});
