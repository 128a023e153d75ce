/**
 * A SIPp carrier for the outbound trunk tests: Debian's SIPp as the UAS on 127.0.0.2 (its media
 * too, echoing what it receives with `-rtp_echo`), one call per run (`-m 1`), playing a scenario of
 * tests/trunks/scenarios/ with its keywords (`-key`), and Parley's trunk set to reach it: a billing
 * carrier and its SIP trunk on the app, Alice given a number (her caller ID) and Contoso's dial plan
 * in GB. The run is killed after its timeout, and by `stopAll` when a test file ends.
 */
import { giveCalling as giveCallingTo } from '../../packages/server/test/helpers/calling.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { freePort, startSipp, type SippResult, type SippRun } from '../../packages/sip/test/sipp-harness.ts';
import type { App } from '../../packages/server/src/app.ts';
import { IP_TRUNK, type TrunkCarrier } from '../../packages/server/src/telephony/carriers.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';

export const CARRIER_IP = '127.0.0.2';
/** Alice's number (her caller ID) and the number she calls, typed as a GB user would. */
export const ALICE_NUMBER = '+442079460018';
export const CALLED_TYPED = '020 7946 0999';
export const CALLED_E164 = '+442079460999';

const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));

export interface CarrierRun {
  port: number;
  run: SippRun;
  /** Resolves when SIPp exits (its statistics, errors). */
  done: Promise<SippResult>;
}

const running: SippRun[] = [];
const folders: string[] = [];

/**
 * Starts SIPp as the carrier with `scenario` (a file name under scenarios/), `keys` its keywords, and
 * `pauseMs` the length of its `<pause/>` (the early-media phase).
 */
export async function startCarrier(
  scenario: string,
  o: {
    keys?: Record<string, string>;
    /** `__NAME__` placeholders written into the scenario first (a status line's code and phrase). */
    fill?: Record<string, string>;
    pauseMs?: number;
    timeoutMs?: number;
    /** The carrier's address (CARRIER_IP unless given: a secondary SBC on 127.0.0.3). */
    ip?: string;
    /** Its SIP port (a free one unless given: an address the trunk already names). */
    port?: number;
    /** Calls before SIPp exits (1; an OPTIONS answerer takes one per ping). */
    calls?: number;
    /** `tcp`: SIPp listens on TCP (`-t t1`) instead of UDP. */
    transport?: 'udp' | 'tcp';
  } = {},
): Promise<CarrierRun> {
  let file = `${SCENARIOS}${scenario}`;
  if (o.fill) {
    let text = readFileSync(file, 'utf8');
    for (const [k, v] of Object.entries(o.fill)) text = text.replaceAll(`__${k}__`, v);
    const dir = mkdtempSync(join(tmpdir(), 'parley-carrier-'));
    folders.push(dir);
    file = join(dir, scenario);
    writeFileSync(file, text);
  }
  const ip = o.ip ?? CARRIER_IP;
  const port = o.port ?? (await freePort());
  const mediaPort = await freePort();
  const keys = Object.entries(o.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]);
  const run = startSipp(
    [
      '-sf',
      file,
      '-i',
      ip,
      '-p',
      String(port),
      '-mi',
      ip,
      '-mp',
      String(mediaPort),
      '-rtp_echo',
      '-m',
      String(o.calls ?? 1),
      '-d',
      String(o.pauseMs ?? 1000),
      ...(o.transport === 'tcp' ? ['-t', 't1'] : []),
      ...keys,
    ],
    o.timeoutMs ?? 40_000,
  );
  running.push(run);
  // SIPp binds its socket a moment after it starts.
  await new Promise((r) => setTimeout(r, 300));
  return { port, run, done: run.done };
}

/** Kills every SIPp still running (a test's `after`, also when it failed). */
export function stopAll(): void {
  for (const r of running.splice(0))
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
}

/** SIPp ran its scenario to the end with every check passing (one successful call). */
export function assertCarrierPassed(r: SippResult): void {
  assert.equal(r.code, 0, `SIPp's carrier scenario failed (exit ${r.code}):\n${r.errors}`);
  assert.equal(
    r.stats['SuccessfulCall(C)'],
    '1',
    `one successful call at the carrier: ${JSON.stringify(r.stats)}`,
  );
}

/** The trunk of one test: a billing carrier, its SIP side at `port`, Alice's number on it. */
export async function setUpTrunk(
  app: App,
  port: number,
  o: Partial<Omit<TrunkCarrier, 'id' | 'name'>> & { name?: string } = {},
): Promise<TrunkCarrier> {
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  const scope = trustedScope(tenant.id);
  const name = o.name ?? 'SIPp Telecom';
  const existing = (await app.telephony.listTrunks()).find((t) => t.name === name);
  const carrierId = existing?.id ?? (await app.billing.decks.createCarrier(name)).id;
  const trunk = await app.telephony.putTrunk({
    id: carrierId,
    tenantId: o.tenantId ?? null,
    addresses: o.addresses ?? [{ host: CARRIER_IP, port }],
    transport: o.transport ?? 'udp',
    allow: o.allow ?? [CARRIER_IP],
    codecs: o.codecs ?? ['PCMU', 'PCMA'],
    callerIdFormat: o.callerIdFormat ?? 'e164',
    channelLimit: o.channelLimit ?? null,
    enabled: o.enabled ?? true,
    auth: o.auth ?? IP_TRUNK.auth,
    registration: o.registration ?? IP_TRUNK.registration,
    identity: o.identity ?? IP_TRUNK.identity,
    healthCheck: o.healthCheck ?? IP_TRUNK.healthCheck,
    emergency: o.emergency ?? false,
    pidfLo: o.pidfLo ?? false,
  });
  if (!(await app.telephony.byNumber(ALICE_NUMBER))) {
    const alice = (await app.directory.findUserRecordByAddress('alice@contoso.example'))!;
    await app.telephony.addNumber({
      number: ALICE_NUMBER,
      carrierId,
      tenantId: tenant.id,
      userId: alice.id,
    });
  }
  await app.telephony.setDialPlanCountry(scope, 'GB');
  await giveCalling(app);
  return trunk;
}

const calling = new WeakMap<App, Promise<void>>();

/**
 * Credit control is on every call out: Contoso's users get a calling plan (every class but premium)
 * on a sell deck reaching every number (helpers/calling.ts), and Contoso credit for hours of calls. Once per app (setUpTrunk calls it);
 * the credit tests change balances, plans and decks after it.
 */
export function giveCalling(app: App): Promise<void> {
  let p = calling.get(app);
  if (!p) {
    p = (async () => {
      const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
      await giveCallingTo(app, tenant.id);
    })();
    calling.set(app, p);
    p.catch(() => calling.delete(app));
  }
  return p;
}
