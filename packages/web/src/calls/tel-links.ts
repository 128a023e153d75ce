/**
 * `tel:` links inside the app open the dial pad with their number instead of leaving for the system's
 * phone app: one click listener on the document (mounted by the calls layer), so a link in any screen
 * (a chat message, a contact's details) works without each screen knowing.
 */
import { useEffect } from 'react';
import { navigate } from '../router/router.tsx';

export function useTelLinks(): void {
  useEffect(() => {
    const click = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a[href]');
      const href = a?.getAttribute('href');
      if (!href || !/^tel:/i.test(href)) return;
      e.preventDefault();
      navigate(`/calls/dial?number=${encodeURIComponent(href)}`);
    };
    document.addEventListener('click', click);
    return () => document.removeEventListener('click', click);
  }, []);
}
