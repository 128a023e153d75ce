/** The root: signed out, the sign-in screen; signed in, the shell with the current screen. */
import { useEffect } from 'react';
import { useSession, useSessionObject } from '../session/use-session.ts';
import { SignIn } from './SignIn.tsx';
import { Shell } from './Shell.tsx';
import { attention } from '../notify/attention.ts';

export function App() {
  const session = useSessionObject();
  const { session: state } = useSession();
  useEffect(() => {
    if (state.status === 'signed-in') session.start();
    else attention.setScreenTitle('Sign in');
  }, [session, state.status]);
  if (state.status !== 'signed-in') return <SignIn reason={state.reason} />;
  return <Shell user={state.user} />;
}
