/**
 * bench/sip-flood: datagrams per second one core drops before parsing, when one unknown address
 * floods the SIP port (issue 12: the peer policy's pre-parse rate limit through the transports'
 * admission hook).
 *
 * A child process floods OPTIONS datagrams from 127.0.0.2 as fast as it can; this process receives.
 * Each figure is datagrams handled per CPU-second of the receiving process (its own CPU time only,
 * so the sender's core and the machine's other load do not count):
 * - the figure: a SipEndpoint's UDP transport with the PeerPolicy as admission, the flooder an unknown
 *   source over its rate, so nearly every datagram is dropped before parsing;
 * - the reference, in the same rounds, needing no Parley code: a bare `dgram` socket whose `message`
 *   handler does nothing (what receiving a datagram costs in Node at all);
 * - also shown: the path before the hook (every datagram parsed, then dropped by the endpoint's
 *   per-source limiter), against the same reference.
 * Run: node --import tsx bench/sip-flood.ts [rounds=5] [seconds=3] [--short]
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { PeerPolicy, SipEndpoint } from '../packages/sip/src/index.ts';
import { compare, machine, median, positional, SHORT } from './report.ts';

const ROUNDS = Number(positional[0] ?? (SHORT ? 2 : 5));
const SECONDS = Number(positional[1] ?? (SHORT ? 1.5 : 3));
const FLOODER = '127.0.0.2';

/** Floods `port` from FLOODER for `ms`; resolves with the datagrams sent. */
function flood(port: number, ms: number): Promise<number> {
  const code = `
    const s = require('node:dgram').createSocket('udp4');
    const msg = Buffer.from('OPTIONS sip:example.com SIP/2.0\\r\\nVia: SIP/2.0/UDP ${FLOODER}:9;rport;branch=z9hG4bKflood\\r\\n' +
      'Max-Forwards: 70\\r\\nFrom: <sip:f@example.org>;tag=f\\r\\nTo: <sip:example.com>\\r\\nCall-ID: flood@bench\\r\\n' +
      'CSeq: 1 OPTIONS\\r\\nContent-Length: 0\\r\\n\\r\\n');
    let sent = 0;
    const end = Date.now() + ${ms};
    s.bind(0, '${FLOODER}', () => {
      const burst = () => {
        for (let i = 0; i < 500; i++, sent++) s.send(msg, ${port}, '127.0.0.1');
        if (Date.now() < end) setImmediate(burst);
        else s.close(() => process.stdout.write(String(sent)));
      };
      burst();
    });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve(Number(out)));
  });
}

interface Receiver {
  port: number;
  handled(): number;
  close(): Promise<void>;
}

async function bare(): Promise<Receiver> {
  const s = createSocket('udp4');
  let n = 0;
  s.on('message', () => n++);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  try {
    s.setRecvBufferSize(4 * 1024 * 1024);
  } catch {
    // capped by the kernel, as for the endpoint
  }
  return { port: s.address().port, handled: () => n, close: () => new Promise((r) => s.close(() => r())) };
}

/** A SIP endpoint answering nothing; `admission` picks the new path or the old one. */
async function endpoint(admission: boolean): Promise<Receiver> {
  const peers = new PeerPolicy({
    carriers: { isCarrier: () => false },
    unknown: { rate: 1, burst: 1, transactions: 10 },
    device: { rate: 1, burst: 1, transactions: 10, trustMs: 1 },
    carrier: { rate: 1, burst: 1, transactions: 10, retryAfterS: 5 },
    block: { failures: 10, windowMs: 1000, durationMs: 1000 },
  });
  const ep = new SipEndpoint({
    advertisedAddress: '127.0.0.1',
    user: { onRequest() {} },
    ...(admission ? { peers } : { limits: { messagesPerSecondPerSource: 1, messageBurstPerSource: 1 } }),
  });
  const t = await ep.listenUdp('127.0.0.1', 0);
  return {
    port: t.localPort,
    handled: () => ep.stats.notAdmitted + ep.stats.received,
    close: () => ep.close(),
  };
}

/** Datagrams handled per CPU-second of this process while flooded, and the flood's rate. */
async function measure(make: () => Promise<Receiver>): Promise<{ perCpu: number; sentPerS: number }> {
  const r = await make();
  const c0 = process.cpuUsage();
  const h0 = r.handled();
  const sent = await flood(r.port, SECONDS * 1000);
  // Let the socket buffer drain, then stop counting.
  await new Promise((res) => setTimeout(res, 200));
  const c = process.cpuUsage(c0);
  const handled = r.handled() - h0;
  await r.close();
  return { perCpu: handled / ((c.user + c.system) / 1e6), sentPerS: sent / SECONDS };
}

console.log(machine());
const ref: number[] = [];
const fig: number[] = [];
const old: number[] = [];
const rates: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const a = await measure(bare);
  const b = await measure(() => endpoint(true));
  const o = await measure(() => endpoint(false));
  ref.push(a.perCpu);
  fig.push(b.perCpu);
  old.push(o.perCpu);
  rates.push(a.sentPerS, b.sentPerS, o.sentPerS);
  console.log(
    `round ${i + 1}: bare ${Math.round(a.perCpu)}/cpu-s, pre-parse drop ${Math.round(b.perCpu)}/cpu-s, ` +
      `parse then drop ${Math.round(o.perCpu)}/cpu-s (flood ${Math.round(median([a.sentPerS, b.sentPerS, o.sentPerS]))}/s)`,
  );
}
console.log(`flood from one address: median ${Math.round(median(rates))} datagrams/s sent`);
compare({
  what: 'SIP flood dropped before parsing (peer policy, unknown source over its rate), per CPU-second',
  figure: median(fig),
  reference: median(ref),
  unit: 'datagrams/s',
  referenceName: 'bare dgram socket, no-op handler, same flood',
});
compare({
  what: 'SIP flood parsed, then dropped (the path before the admission hook), per CPU-second',
  figure: median(old),
  reference: median(ref),
  unit: 'datagrams/s',
  referenceName: 'bare dgram socket, no-op handler, same flood',
});
