/**
 * Pushes are framed once and written as is to every recipient: a WebSocket text frame from a server is
 * unmasked (RFC 6455 §5.1), so its bytes are the same for every connection. Fan-out then costs one
 * socket write per watcher, with no per-watcher framing, copying or corking.
 */

/** A complete, final, unmasked text frame carrying `payload` (RFC 6455 §5.2). */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) frame[1] = n;
  else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** Serializes `value` as JSON and frames it. */
export const jsonFrame = (value: unknown): Buffer => textFrame(Buffer.from(JSON.stringify(value)));
