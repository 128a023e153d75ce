/** Pre-built push frames decode, with ws's own receiver, to the payload at every length class. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ws from 'ws';
import { textFrame } from '../../src/realtime/wire-frame.ts';

// ws's frame parser (the one its clients use); exported by its ESM entry, though not in its type definitions.
const { Receiver } = ws as unknown as {
  Receiver: new (o: {
    isServer: boolean;
    maxPayload: number;
  }) => NodeJS.EventEmitter & { write(b: Buffer): void };
};

test('text frames of 0, 125, 126, 65,535, 65,536 and 200,000 bytes decode to their payload', () => {
  for (const n of [0, 125, 126, 65_535, 65_536, 200_000]) {
    const payload = Buffer.alloc(n, 'x');
    const got: Array<{ data: Buffer; binary: boolean }> = [];
    const r = new Receiver({ isServer: false, maxPayload: 1 << 20 });
    r.on('message', (data: Buffer, binary: boolean) => got.push({ data, binary }));
    r.write(textFrame(payload));
    assert.equal(got.length, 1, `length ${n}`);
    assert.equal(got[0]!.binary, false);
    assert.ok(got[0]!.data.equals(payload), `length ${n}`);
  }
});
