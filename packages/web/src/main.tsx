/** The app's entry: one session for the page, rendered into #root. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './ui/theme.css';
import { App } from './app/App.tsx';
import { Session } from './session/session.ts';
import { SessionContext } from './session/use-session.ts';

const session = new Session(location.origin);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionContext.Provider value={session}>
      <App />
    </SessionContext.Provider>
  </StrictMode>,
);
