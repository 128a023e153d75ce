/**
 * The in-call keypad: twelve keys that send DTMF to the other party (a desk phone's voicemail menu, a
 * conference PIN), and the keys the other party pressed, read out politely. Hidden until asked for, so
 * the call bar stays short at phone width.
 */
import { useEffect, useState } from 'react';
import { Button } from '../ui/index.ts';
import type { WebCall } from './calls-port.ts';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;
/** The last keys shown (sent or received): enough for a PIN, not a scroll. */
const SHOWN = 24;

export function Keypad({ call, onError }: { call: WebCall; onError(err: unknown): void }) {
  const [open, setOpen] = useState(false);
  const [sent, setSent] = useState('');
  const [received, setReceived] = useState('');
  useEffect(() => call.onDtmf((d) => setReceived((r) => (r + d).slice(-SHOWN))), [call]);
  const press = (key: string) => {
    setSent((s) => (s + key).slice(-SHOWN));
    call.sendDtmf(key).catch(onError);
  };
  return (
    <div className="call-keypad">
      <Button aria-expanded={open} aria-controls={`keypad-${call.id}`} onClick={() => setOpen(!open)}>
        Keypad
      </Button>
      {open && (
        <div id={`keypad-${call.id}`} className="keypad-keys" role="group" aria-label="Keypad">
          {KEYS.map((k) => (
            <Button key={k} onClick={() => press(k)} aria-label={`Key ${k}`}>
              {k}
            </Button>
          ))}
          <p className="muted small keypad-sent" aria-live="off">
            {sent && `Sent: ${sent}`}
          </p>
        </div>
      )}
      <p className="muted small keypad-received" aria-live="polite">
        {received && `Keys pressed by the other side: ${received}`}
      </p>
    </div>
  );
}
