/**
 * The browser's token store: the session's tokens in localStorage (so a reload, or a new tab, stays
 * signed in), refreshed one tab at a time under a Web Lock (two tabs presenting the same refresh token
 * would look like a stolen token to the server, which then ends the session).
 */
import type { StoredTokens, TokenStore } from '@parley/sdk';

const KEY = 'parley.session';

export const browserTokenStore: TokenStore = {
  load() {
    try {
      const raw = localStorage.getItem(KEY);
      if (!raw) return null;
      const t = JSON.parse(raw) as StoredTokens;
      return typeof t.accessToken === 'string' ? t : null;
    } catch {
      return null;
    }
  },
  save(tokens) {
    try {
      if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
      else localStorage.removeItem(KEY);
    } catch {
      // private mode or full storage: the session lasts as long as the page
    }
  },
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    return locks ? (locks.request(KEY, fn) as Promise<T>) : fn();
  },
};

/** Calls `onChange` when another tab signs in or out. */
export function watchOtherTabs(onChange: (signedIn: boolean) => void): () => void {
  const listener = (e: StorageEvent) => {
    if (e.key === KEY && (e.oldValue === null) !== (e.newValue === null)) onChange(e.newValue !== null);
  };
  window.addEventListener('storage', listener);
  return () => window.removeEventListener('storage', listener);
}
