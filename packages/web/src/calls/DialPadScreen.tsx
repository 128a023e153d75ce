/**
 * The dial pad at `/calls/dial`: type a phone number (or an extension), press the keys, or paste a
 * number however it is written; then Call places `call.place { to: { number } }` and the tenant's dial
 * plan on the server reads it (national numbers of the dial plan country, international with +). A
 * `tel:` link anywhere in the app opens the pad with its number (`?number=`), and the browser can be
 * asked to open phone links of other sites here too. The user's own number (their caller ID) is shown,
 * so they know what the other side will see.
 */
import { useEffect, useRef, useState, type ClipboardEvent } from 'react';
import { Button, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useLocation } from '../router/router.tsx';
import { useLoad } from '../console/use-load.ts';
import { usePlaceCall } from './use-place-call.ts';
import { cleanDialled } from './dial-text.ts';
import { MyNumber } from './MyNumber.tsx';
import './calls.css';
import './dial-pad.css';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;

/** Asks the browser to open `tel:` links here (Chromium and Firefox; a no-op where unsupported). */
function offerTelHandler(): boolean {
  const nav = navigator as Navigator & { registerProtocolHandler?: (scheme: string, url: string) => void };
  if (typeof nav.registerProtocolHandler !== 'function') return false;
  try {
    nav.registerProtocolHandler('tel', `${location.origin}/calls/dial?number=%s`);
    return true;
  } catch {
    return false;
  }
}

export default function DialPadScreen() {
  const client = useClient();
  const { query } = useLocation();
  const linked = query.get('number');
  const [text, setText] = useState(() => (linked ? cleanDialled(linked) : ''));
  const input = useRef<HTMLInputElement>(null);
  const mine = useLoad(() => client.telephony.myNumber(), [client]);
  const { inCall, busy, error, place } = usePlaceCall();
  const [linksAsked, setLinksAsked] = useState(false);

  // A tel: link followed while the pad is open fills it again.
  useEffect(() => {
    if (linked) setText(cleanDialled(linked));
  }, [linked]);

  const press = (key: string) => {
    setText((t) => t + key);
    input.current?.focus();
  };
  const paste = (e: ClipboardEvent<HTMLInputElement>) => {
    const pasted = e.clipboardData.getData('text');
    if (!pasted) return;
    e.preventDefault();
    const el = e.currentTarget;
    const start = el.selectionStart ?? text.length;
    const end = el.selectionEnd ?? text.length;
    setText(cleanDialled(text.slice(0, start) + pasted + text.slice(end)));
  };
  const dialled = cleanDialled(text);
  const country = mine.status === 'ready' ? mine.data.country : '';

  return (
    <section className="pane dial-pad" aria-labelledby="dial-title">
      <div className="pane-header">
        <h1 id="dial-title" className="pane-title">
          Dial pad
        </h1>
      </div>
      <MyNumber mine={mine} />
      <form
        className="dial-form"
        onSubmit={(e) => {
          e.preventDefault();
          // What was typed goes as typed: the call record keeps it beside the E.164 number.
          if (dialled !== '') place({ number: text.trim() }, false);
        }}
      >
        <TextField
          ref={input}
          label="Number to call"
          hint={
            country
              ? `A number of ${country} as you would dial it there, or + and the country code for others.`
              : 'Start with + and the country code.'
          }
          type="tel"
          inputMode="tel"
          autoComplete="tel"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onPaste={paste}
          className="dial-number"
        />
        <div className="dial-keys" role="group" aria-label="Dial pad keys">
          {KEYS.map((k) => (
            <Button key={k} onClick={() => press(k)} aria-label={`Key ${k}`}>
              {k}
            </Button>
          ))}
          <Button onClick={() => press('+')} aria-label="Key plus">
            +
          </Button>
          <Button
            onClick={() => setText((t) => t.slice(0, -1))}
            disabled={text === ''}
            aria-label="Delete the last digit"
          >
            ⌫
          </Button>
        </div>
        <div className="form-actions">
          <Button
            type="submit"
            variant="primary"
            busy={busy}
            disabled={inCall || dialled === ''}
            title={inCall ? 'You are already in a call' : undefined}
          >
            Call
          </Button>
        </div>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
      </form>
      {'registerProtocolHandler' in navigator && (
        <p className="muted small">
          <Button variant="ghost" disabled={linksAsked} onClick={() => setLinksAsked(offerTelHandler())}>
            Open phone links with Parley
          </Button>
          {linksAsked && ' Your browser asks you to confirm.'}
        </p>
      )}
    </section>
  );
}
