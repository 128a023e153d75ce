/** Builders shared by the SIP tests. */
import { parseMessage, SipRequest, SipResponse, createResponse, type Peer } from '../src/index.ts';

export const UDP_PEER: Peer = { protocol: 'UDP', address: '127.0.0.1', port: 5999 };
export const TCP_PEER: Peer = { protocol: 'TCP', address: '127.0.0.1', port: 5999, connectionId: 1 };

let n = 0;
/** A request as a UAC would send it, with a fresh branch unless one is given. */
export function request(
  method: string,
  opts: { branch?: string; cseqMethod?: string; body?: string; transport?: string } = {},
): SipRequest {
  n++;
  const branch = opts.branch ?? `z9hG4bK-test-${n}`;
  const body = opts.body ?? '';
  return parseMessage(
    `${method} sip:bob@127.0.0.1 SIP/2.0\r\n` +
      `Via: SIP/2.0/${opts.transport ?? 'UDP'} 127.0.0.1:5999;branch=${branch}\r\n` +
      'Max-Forwards: 70\r\n' +
      'From: <sip:alice@127.0.0.1>;tag=a1\r\n' +
      'To: <sip:bob@127.0.0.1>\r\n' +
      `Call-ID: call-${n}@127.0.0.1\r\n` +
      `CSeq: 1 ${opts.cseqMethod ?? method}\r\n` +
      'Contact: <sip:alice@127.0.0.1:5999>\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  ) as SipRequest;
}

/** A response to `req` as a UAS would send it. */
export function reply(req: SipRequest, status: number, toTag = 'b1'): SipResponse {
  return parseMessage(createResponse(req, status, { toTag }).serialize()) as SipResponse;
}

/** The ACK a UAC sends for a response, with its own branch for 2xx (section 13.2.2.4). */
export function ackFor(req: SipRequest, res: SipResponse, branch?: string): SipRequest {
  const via = branch ? `SIP/2.0/UDP 127.0.0.1:5999;branch=${branch}` : req.getAll('via')[0]!;
  return parseMessage(
    `ACK ${req.uriText} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: ${req.get('from')}\r\n` +
      `To: ${res.get('to')}\r\nCall-ID: ${req.callId}\r\nCSeq: ${req.cseq.seq} ACK\r\nContent-Length: 0\r\n\r\n`,
  ) as SipRequest;
}

/** Start line of serialized bytes. */
export function firstLine(data: Buffer): string {
  const s = data.toString();
  return s.slice(0, s.indexOf('\r\n'));
}
