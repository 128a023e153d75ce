/**
 * Issue 20 item 6, "rated calls visible": a phone call the user placed shows in their history with its
 * price and why (pool minutes, the rate, the prefix and increments, the deck version), on both
 * engines. The callee of a call, a colleague, and an unrated call see no price.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, makeTenant, makeUser, startServer, type TestServer } from '../helpers/server.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { newId } from '../../src/ids.ts';
import { historyOf, type User } from './call-helpers.ts';

const DECK = [
  'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment',
  '44,United Kingdom fixed,domestic,0.0100,0,60,60',
  '447,United Kingdom mobile,mobile,0.12,0.05,1,1',
].join('\n');

for (const engine of engines) {
  describe(`call prices in the history (${engine})`, () => {
    let s: TestServer;
    let tenant: string;
    let alice: User, bob: User;

    before(async () => {
      s = await startServer(engine);
      const t = await makeTenant(s, 'priced');
      tenant = t.id;
      alice = await makeUser(s, t.id, `alice@${t.domain}`, 'user', 'Alice Archer');
      bob = await makeUser(s, t.id, `bob@${t.domain}`, 'user', 'Bob Baker');
      const billing = s.app.billing;
      const scope = trustedScope(tenant);
      const deck = await billing.decks.createDeck({ name: `Retail ${engine}`, kind: 'sell' });
      await billing.decks.importVersion(deck.id, DECK, 0);
      const plan = await billing.plans.createPlan({
        name: `Calling ${engine}`,
        pricePerUserMonth: 5_000_000,
        services: ['calling'],
        allowedClasses: ['domestic', 'mobile'],
        sellDeckId: deck.id,
        includedMinutes: [{ country: 'GB', cls: 'domestic', minutes: 100 }],
      });
      await billing.plans.setSeats(scope, plan.id, 2);
      await billing.plans.assign(scope, alice.id, plan.id);
      await billing.plans.assign(scope, bob.id, plan.id);
      await billing.wallet.topUp(scope, 10_000_000, { note: 'test credit' });
    });
    after(() => s.close());

    /** Alice's call to `number`, answered a second after it was placed, lasting `seconds`; rated when `rate`. */
    async function aliceCalls(number: string, seconds: number, rate = true): Promise<string> {
      const callId = newId('call');
      const at = Date.now() - 120_000;
      const rec = s.app.callRecords;
      await rec.opened({
        callId,
        caller: { tenantId: tenant, userId: alice.id, number: '+442079460018' },
        callee: { tenantId: tenant, userId: null, number },
        callerDevice: `dev-${alice.id}`,
        video: false,
        at,
      });
      await rec.answered(callId, at + 1_000, 'trunk/x/1');
      await rec.ended(callId, at + 1_000 + seconds * 1000, 'hangup', alice.id);
      if (!rate) return callId;
      // As the trunk leg does: authorised before it rings, committed with the real times at its end.
      const grant = await s.app.billing.credit.authorise({
        scope: trustedScope(tenant),
        userId: alice.id,
        destination: number,
        callId,
      });
      assert.ok(grant.ok && !grant.emergency, JSON.stringify(grant));
      await s.app.billing.credit.commit(grant.reservationId, {
        id: callId,
        tenantId: tenant,
        userId: alice.id,
        direction: 'outbound',
        destination: number,
        startedAt: at,
        answeredAt: at + 1_000,
        endedAt: at + 1_000 + seconds * 1000,
      });
      return callId;
    }

    test('a call in the pool: price 0, two included minutes, the rate and deck that priced it', async () => {
      const callId = await aliceCalls('+442079460999', 75);
      const e = (await historyOf(s, alice)).calls.find((c) => c.callId === callId)!;
      assert.ok(e.price, 'the call carries its price');
      assert.equal(e.price.amount, '0');
      assert.equal(e.price.reason, 'pool');
      assert.equal(e.price.poolMinutes, 2, '75 s in 60 s increments draws two minutes');
      assert.equal(e.price.billableSeconds, 120);
      assert.equal(e.price.matchedPrefix, '44');
      assert.equal(e.price.destinationName, 'United Kingdom fixed');
      assert.equal(e.price.ratePerMinute, '0.01');
      assert.equal(e.price.firstIncrement, 60);
      assert.equal(e.price.deck?.version, 1);
    });

    test('a call paid from credit: 30 s at 0.12 per second-billed minute plus the 0.05 fee is 0.11', async () => {
      const callId = await aliceCalls('+447700900123', 30);
      const e = (await historyOf(s, alice)).calls.find((c) => c.callId === callId)!;
      assert.equal(e.price?.amount, '0.11');
      assert.equal(e.price?.reason, 'credits');
      assert.equal(e.price?.creditSeconds, 30);
      assert.equal(e.price?.connectionFee, '0.05');
      assert.equal(e.price?.matchedPrefix, '447');
    });

    test('a call not rated has no price; a colleague sees none of Alice’s', async () => {
      const unrated = await aliceCalls('+442079460998', 10, false);
      const mine = (await historyOf(s, alice)).calls.find((c) => c.callId === unrated)!;
      assert.equal(mine.price, undefined);
      const bobs = (await historyOf(s, bob)).calls;
      assert.equal(bobs.length, 0, 'Bob placed and received nothing');
    });
  });
}
