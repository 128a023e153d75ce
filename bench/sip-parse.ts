/**
 * bench/sip-parse: typical INVITEs parsed and serialized per second on one core.
 * "Parsed" includes the headers every element reads (Via, From, To, Call-ID, CSeq, Max-Forwards,
 * Contact, Content-Length); the other headers stay text until asked for.
 * Run: node --import tsx bench/sip-parse.ts [rounds]
 */
import { cpus } from 'node:os';
import { parseDatagram, type SipMessage } from '../packages/sip/src/index.ts';

const INVITE = Buffer.from(
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE',
    'Supported: replaces, timer',
    'User-Agent: Parley bench',
    'Content-Type: application/sdp',
    'Content-Length: 142',
    '',
    'v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\ns=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n',
  ].join('\r\n'),
);

function once(): number {
  const m: SipMessage = parseDatagram(INVITE);
  const v = m.topVia;
  const n = v.branch!.length + m.from.tag!.length + m.to.uri.scheme.length + m.callId.length + m.cseq.seq;
  const c = m.contact.length + (m.maxForwards ?? 0);
  return m.serialize().length + n + c;
}

const rounds = Number(process.argv[2] ?? 7);
let sink = 0;
for (let i = 0; i < 50_000; i++) sink += once(); // warm-up
const rates: number[] = [];
const cpuRates: number[] = [];
for (let r = 0; r < rounds; r++) {
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const deadline = start + 1_000_000_000n;
  let count = 0;
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 1000; i++) sink += once();
    count += 1000;
  }
  const cpu = process.cpuUsage(cpu0);
  rates.push(count / (Number(process.hrtime.bigint() - start) / 1e9));
  // Per second of CPU this process got: what one core does when other processes share it.
  cpuRates.push(count / ((cpu.user + cpu.system) / 1e6));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (r: number): string => Math.round(r).toLocaleString('en-US');
const wall = median(rates);
const perCpu = median(cpuRates);
console.log(
  `sip-parse: ${INVITE.length}-byte INVITE, parse + core headers + serialize, ${rounds} one-second rounds`,
);
console.log(`cpu: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cpus), node ${process.version}`);
console.log(
  `wall clock: median ${fmt(wall)}/s, best ${fmt(Math.max(...rates))}/s, worst ${fmt(Math.min(...rates))}/s`,
);
console.log(`per CPU-second (one core): median ${fmt(perCpu)}/s (${(1e6 / perCpu).toFixed(2)} us each)`);
console.log(`target >= 150,000/s on one core: ${perCpu >= 150_000 ? 'met' : 'NOT met'}`);
if (sink === 0) console.log('');
