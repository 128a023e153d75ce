/**
 * A DNS server on loopback for tests (UDP, RFC 1035): answers A and SRV questions from a table, NOERROR
 * with no answers for a known name without that type, NXDOMAIN for an unknown name. Just what a
 * carrier's `_sip._udp` SRV and its targets' A records need; no recursion, no compression beyond the
 * question name.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface DnsRecords {
  a?: Record<string, string[]>;
  srv?: Record<string, Array<{ priority: number; weight: number; port: number; target: string }>>;
}

export interface DnsResponder {
  /** `127.0.0.1:port`, for a resolver's servers. */
  address: string;
  /** Questions asked, as `TYPE name`. */
  asked: string[];
  records: DnsRecords;
  close(): Promise<void>;
}

const A = 1;
const SRV = 33;

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])),
    Buffer.from([0]),
  ]);
}

function readName(msg: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = at;
  while (msg[i]! !== 0) {
    const len = msg[i]!;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString());
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function answer(type: number, ttl: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the question's name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(ttl, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

export async function startDnsResponder(records: DnsRecords, host = '127.0.0.1'): Promise<DnsResponder> {
  const socket: Socket = createSocket('udp4');
  const asked: string[] = [];
  const r: DnsResponder = {
    address: '',
    asked,
    records,
    close: () => new Promise((ok) => socket.close(() => ok())),
  };
  socket.on('message', (msg, from) => {
    if (msg.length < 12) return;
    const q = readName(msg, 12);
    const qtype = msg.readUInt16BE(q.end);
    asked.push(`${qtype === SRV ? 'SRV' : qtype === A ? 'A' : qtype} ${q.name}`);
    const find = <T>(table: Record<string, T> | undefined) =>
      table ? Object.entries(table).find(([k]) => k.toLowerCase() === q.name)?.[1] : undefined;
    const as = find(r.records.a);
    const srvs = find(r.records.srv);
    const answers: Buffer[] = [];
    if (qtype === A)
      for (const ip of as ?? []) answers.push(answer(A, 60, Buffer.from(ip.split('.').map(Number))));
    if (qtype === SRV)
      for (const s of srvs ?? []) {
        const fixed = Buffer.alloc(6);
        fixed.writeUInt16BE(s.priority, 0);
        fixed.writeUInt16BE(s.weight, 2);
        fixed.writeUInt16BE(s.port, 4);
        answers.push(answer(SRV, 60, Buffer.concat([fixed, encodeName(s.target)])));
      }
    const known = as !== undefined || srvs !== undefined;
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // the id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const question = msg.subarray(12, q.end + 4);
    socket.send(Buffer.concat([header, question, ...answers]), from.port, from.address);
  });
  await new Promise<void>((ok) => socket.bind(0, host, () => ok()));
  r.address = `${host}:${socket.address().port}`;
  return r;
}
