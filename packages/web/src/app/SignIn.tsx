/** The sign-in screen; shows why the previous session ended when it did. */
import { useState, type FormEvent } from 'react';
import { Banner, Button, TextField } from '../ui/index.ts';
import { useSessionObject } from '../session/use-session.ts';
import { errorSentence } from '../errors/messages.ts';

export function SignIn({ reason }: { reason: string | null }) {
  const session = useSessionObject();
  const [address, setAddress] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.signIn(address.trim(), password);
    } catch (err) {
      setError(errorSentence(err));
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title" className="signin-title">
          <span className="brand-mark" aria-hidden="true" />
          Sign in to Parley
        </h1>
        {reason && !error && <Banner tone="warning">{reason}</Banner>}
        {error && <Banner tone="error">{error}</Banner>}
        <TextField
          label="Email address"
          type="email"
          autoComplete="username"
          required
          value={address}
          onChange={(e) => setAddress(e.target.value)}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <Button type="submit" variant="primary" busy={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
    </main>
  );
}
