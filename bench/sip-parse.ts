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
for (let r = 0; r < rounds; r++) {
  const start = process.hrtime.bigint();
  const deadline = start + 1_000_000_000n;
  let count = 0;
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 1000; i++) sink += once();
    count += 1000;
  }
  rates.push(count / (Number(process.hrtime.bigint() - start) / 1e9));
}
rates.sort((a, b) => a - b);
const best = rates[rates.length - 1]!;
const median = rates[Math.floor(rates.length / 2)]!;
const fmt = (r: number): string => Math.round(r).toLocaleString('en-US');
console.log(
  `sip-parse: ${INVITE.length}-byte INVITE, parse + core headers + serialize, ${rounds} one-second rounds`,
);
console.log(`cpu: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cpus), node ${process.version}`);
console.log(
  `median ${fmt(median)}/s (${(1e6 / median).toFixed(2)} us each), best ${fmt(best)}/s, worst ${fmt(rates[0]!)}/s`,
);
console.log(`target >= 150,000/s: ${median >= 150_000 ? 'met' : 'NOT met'} (median)`);
if (sink === 0) console.log('');
