/**
 * SIPp (Debian's sip-tester) as a carrier calling into Parley, for the inbound trunk tests: the
 * scenarios in ./scenarios/uac-*.xml, run from a loopback address of the carrier's (127.0.0.2, ...),
 * SIP and media on free ports, the called number as SIPp's service (`-s`), the caller as keys. Every
 * run is killed when the test file ends (`stopAll`), also on failure.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startSipp, type SippResult, type SippRun } from '../../packages/sip/test/sipp-harness.ts';
import { apiSession, demo, type WebServer } from '../web/harness.ts';

export const SCENARIOS = new URL('./scenarios/', import.meta.url).pathname;
/** Debian's PCMA capture (copied from /usr/share/sip-tester): the caller's voice. */
export const G711A_PCAP = new URL('./data/g711a.pcap', import.meta.url).pathname;
/** Debian's RFC 4733 capture of the key 5 (copied from /usr/share/sip-tester): the caller presses 5. */
export const DTMF_5_PCAP = new URL('./data/dtmf_2833_5.pcap', import.meta.url).pathname;

export type InboundScenario =
  'answered-bye' | 'answered-wait' | 'cancel' | 'cancel-race' | 'compact' | 'late-offer' | 'retransmit';

export interface InboundCall {
  /** The address SIPp sends from (a carrier's allow-listed source, or not). */
  from: string;
  /** Parley's SIP UDP port. */
  port: number;
  /** The number called (Request-URI user part). */
  to: string;
  caller: string;
  callerName?: string;
  /** What the caller plays once answered (default g711a.pcap). */
  pcap?: string;
  /** `d` of SIPp's `<pause/>`: how long the carrier talks before BYE, or rings before CANCEL, ms. */
  pauseMs?: number;
}

export interface CarrierRun extends SippRun {
  /** SIPp's exit (0: the scenario passed), with the messages it traced when it did not. */
  result(): Promise<SippResult & { trace: string }>;
}

const runs: SippRun[] = [];
const folders: string[] = [];

function folder(): string {
  const f = mkdtempSync(join(tmpdir(), 'parley-trunk-in-'));
  folders.push(f);
  return f;
}

async function run(file: string, c: InboundCall, extra: string[] = []): Promise<CarrierRun> {
  const dir = folder();
  const messages = join(dir, 'messages.log');
  const r = startSipp(
    [
      `127.0.0.1:${c.port}`,
      '-sf',
      file,
      '-i',
      c.from,
      '-p',
      String(await freePort()),
      '-mi',
      c.from,
      '-mp',
      String(await freePort()),
      '-s',
      c.to,
      '-key',
      'caller',
      c.caller,
      '-key',
      'caller_name',
      c.callerName ?? '',
      '-key',
      'pcap',
      c.pcap ?? G711A_PCAP,
      '-d',
      String(c.pauseMs ?? 1000),
      '-timeout',
      '60',
      '-trace_msg',
      '-message_file',
      messages,
      ...(extra.includes('-m') ? [] : ['-m', '1']),
      ...extra,
    ],
    70_000,
  );
  runs.push(r);
  return {
    ...r,
    async result() {
      const res = await r.done;
      let trace = '';
      try {
        trace = readFileSync(messages, 'utf8').slice(-6000);
      } catch {
        trace = '(no trace)';
      }
      return { ...res, trace };
    },
  };
}

export interface CarrierSetup {
  name: string;
  /** The carrier's source address (its trunk's allow-list). */
  ip: string;
  /** Numbers of this carrier given to the demo tenant; `users` maps some to a user's address. */
  numbers: string[];
  users?: Record<string, string>;
  channelLimit?: number;
}

/**
 * Sets a carrier up as the operator and the tenant admin would, over HTTP: billing's carrier, its SIP
 * trunk (allow-listing `ip`), its numbers given to the demo tenant (Contoso), some of them to users
 * (by Alice, the tenant admin). Resolves to the carrier id.
 */
export async function addCarrier(web: WebServer, domain: string, c: CarrierSetup): Promise<string> {
  const op = await apiSession(web, demo.operator.address, demo.operator.password);
  const { id } = await op.call<{ id: string }>('POST', '/api/operator/billing/carriers', { name: c.name });
  await op.call('PUT', `/api/operator/telephony/carriers/${id}`, {
    addresses: [{ host: c.ip, port: 5060 }],
    allow: [c.ip],
    ...(c.channelLimit ? { channelLimit: c.channelLimit } : {}),
  });
  const tenant = await web.app.directory.findTenantByDomain(domain);
  for (const number of c.numbers)
    await op.call('POST', '/api/operator/telephony/numbers', { number, carrierId: id, tenantId: tenant!.id });
  const admin = await apiSession(web, demo.alice);
  for (const [number, address] of Object.entries(c.users ?? {}))
    await admin.call('PUT', `/api/telephony/numbers/${encodeURIComponent(number)}/user`, {
      userId: await admin.idOf(address),
    });
  return id;
}

/** A carrier's call playing one of the scenarios. */
export function carrierCalls(scenario: InboundScenario, c: InboundCall): Promise<CarrierRun> {
  return run(join(SCENARIOS, `uac-${scenario}.xml`), c);
}

/**
 * A carrier's call that expects `status` as the final answer (uac-refused.xml with it filled in);
 * `edit` may change the scenario's text first (a malformed INVITE).
 */
export function carrierRefused(
  status: number,
  c: InboundCall,
  extra: string[] = [],
  edit: (xml: string) => string = (x) => x,
): Promise<CarrierRun> {
  const file = join(folder(), `uac-refused-${status}.xml`);
  const xml = readFileSync(join(SCENARIOS, 'uac-refused.xml'), 'utf8').replace(
    'response="STATUS"',
    `response="${status}"`,
  );
  writeFileSync(file, edit(xml));
  return run(file, c, extra);
}

/** Waits for a run and fails with SIPp's errors and trace unless the scenario passed. */
export async function passed(r: CarrierRun, what: string): Promise<void> {
  const res = await r.result();
  if (res.code !== 0)
    throw new Error(`${what}: SIPp exited ${res.code}\n${res.errors.slice(0, 2000)}\n${res.trace}`);
}

/** Kills every SIPp still running and removes the folders (call in `after`). */
export function stopAll(): void {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  for (const f of folders) rmSync(f, { recursive: true, force: true });
}
