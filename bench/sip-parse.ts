/**
 * bench/sip-parse: typical INVITEs parsed and serialized per second on one core.
 * "Parsed" includes the headers every element reads (Via, From, To, Call-ID, CSeq, Max-Forwards,
 * Contact, Content-Length); the other headers stay text until asked for.
 *
 * The reference, measured in the same rounds, needs no Parley code: Node's own HTTP parser (llhttp, the
 * one `http.Server` runs, reached through `_http_common`) on an HTTP request of exactly the same size,
 * with the method, URL and header list handed to JavaScript as the server gets them. SIP parsing alone
 * (no serialize) is compared with it; parse + serialize is the figure the target is about.
 * Run: node --import tsx bench/sip-parse.ts [rounds=7] [--short]
 */
import { createRequire } from 'node:module';
import { parseDatagram, type SipMessage } from '../packages/sip/src/index.ts';
import { compare, machine, median, positional, SHORT } from './report.ts';

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

/** An HTTP request with as many headers and the same length as the INVITE (the body pads it). */
function httpRequest(size: number): Buffer {
  const head = (bodyLength: number) =>
    [
      'POST /api/calls/usr_0123456789abcdefghijkl/answer HTTP/1.1',
      'Host: parley.example.com:8080',
      'User-Agent: Parley bench',
      'Accept: application/json',
      'Accept-Encoding: gzip, deflate',
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3IifQ.c2ln',
      'Cookie: sid=1928301774; theme=dark',
      'X-Request-Id: a84b4c76e66710@pc33.atlanta.example.com',
      'Cache-Control: no-cache',
      'Connection: keep-alive',
      'Origin: https://parley.example.com',
      'Content-Type: application/sdp',
      `Content-Length: ${bodyLength}`,
      '',
      '',
    ].join('\r\n');
  let body = size - Buffer.byteLength(head(0));
  while (Buffer.byteLength(head(body)) + body > size) body--;
  const req = Buffer.from(head(body) + 'x'.repeat(body));
  if (req.length !== size) throw new Error(`reference request is ${req.length} bytes, not ${size}`);
  return req;
}

interface NodeHttpParser {
  initialize(type: number, resource: object): void;
  execute(data: Buffer): number | Error;
  [k: number]: unknown;
}
interface HttpParserClass {
  new (): NodeHttpParser;
  REQUEST: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: HttpParserClass };

const HTTP = httpRequest(INVITE.length);
let sink = 0;
const parser = new HTTPParser();
parser[HTTPParser.kOnHeadersComplete] = (
  _major: number,
  _minor: number,
  headers: string[],
  method: number,
  url: string,
) => {
  sink += headers.length + method + url.length;
};
parser[HTTPParser.kOnBody] = (b: Buffer) => {
  sink += b.length;
};
parser[HTTPParser.kOnMessageComplete] = () => {
  sink++;
};
parser.initialize(HTTPParser.REQUEST, {});

function httpOnce(): number {
  const r = parser.execute(HTTP);
  if (typeof r !== 'number') throw r;
  return r;
}

function parseOnly(): number {
  const m: SipMessage = parseDatagram(INVITE);
  const v = m.topVia;
  const n = v.branch!.length + m.from.tag!.length + m.to.uri.scheme.length + m.callId.length + m.cseq.seq;
  return n + m.contact.length + (m.maxForwards ?? 0);
}

function parseAndSerialize(): number {
  const m: SipMessage = parseDatagram(INVITE);
  const v = m.topVia;
  const n = v.branch!.length + m.from.tag!.length + m.to.uri.scheme.length + m.callId.length + m.cseq.seq;
  const c = m.contact.length + (m.maxForwards ?? 0);
  return m.serialize().length + n + c;
}

/** Operations per CPU-second this process got over a one-second round (one core's speed, shared). */
function round(f: () => number): number {
  const deadline = process.hrtime.bigint() + (SHORT ? 500_000_000n : 1_000_000_000n);
  const cpu0 = process.cpuUsage();
  let count = 0;
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 1000; i++) sink += f();
    count += 1000;
  }
  const cpu = process.cpuUsage(cpu0);
  return count / ((cpu.user + cpu.system) / 1e6);
}

const rounds = Number(positional[0] ?? (SHORT ? 3 : 7));
for (let i = 0; i < 50_000; i++) sink += parseAndSerialize() + parseOnly() + httpOnce(); // warm-up
const results = { full: [] as number[], parse: [] as number[], http: [] as number[] };
for (let r = 0; r < rounds; r++) {
  // Interleaved, so all three see the same machine.
  results.full.push(round(parseAndSerialize));
  results.parse.push(round(parseOnly));
  results.http.push(round(httpOnce));
}
const fmt = (r: number): string => Math.round(r).toLocaleString('en-US');
const full = median(results.full);
console.log(
  `bench/sip-parse${SHORT ? ' --short' : ''}: ${INVITE.length}-byte INVITE, ${rounds} rounds per measurement; ${machine()}`,
);
console.log(
  `SIP parse + core headers + serialize: median ${fmt(full)}/CPU-s (${(1e6 / full).toFixed(2)} µs each), best ${fmt(Math.max(...results.full))}`,
);
compare({
  what: 'SIP parse + core headers (per CPU-second)',
  figure: median(results.parse),
  reference: median(results.http),
  unit: 'messages/s',
  referenceName: `Node's HTTP parser, ${HTTP.length}-byte request`,
});
compare({
  what: 'SIP parse + core headers + serialize (per CPU-second)',
  figure: full,
  reference: median(results.http),
  unit: 'messages/s',
  referenceName: `Node's HTTP parser (parse only), ${HTTP.length}-byte request`,
});
console.log(`target >= 150,000/s on one core: ${full >= 150_000 ? 'met' : 'NOT met'}`);
if (sink === 0) console.log('');
