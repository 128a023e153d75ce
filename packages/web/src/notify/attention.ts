/**
 * Getting the user's attention when the tab is not in front: a count in the page title ("(3) Parley")
 * summed over every source that registers one (chat's unread count, unseen missed calls), and desktop
 * notifications, only while the tab is hidden and only after the user has granted permission.
 *
 * ```ts
 * const badge = attention.badge('chat');   // one per source
 * badge.set(unreadTotal);
 * attention.notify({ title: 'Bob Baker', body: 'Lunch?', tag: conversationId, onClick: () => navigate(...) });
 * ```
 */

const APP_TITLE = 'Parley';
const counts = new Map<string, number>();
/** Notifications shown and not yet closed, by tag (an incoming call's goes when it stops ringing). */
const shownByTag = new Map<string, Notification>();
let screenTitle = '';

function render(): void {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const base = screenTitle ? `${screenTitle} · ${APP_TITLE}` : APP_TITLE;
  document.title = total > 0 ? `(${total > 99 ? '99+' : total}) ${base}` : base;
}

export const attention = {
  /** The current screen's name, shown before the app's in the title. */
  setScreenTitle(title: string): void {
    screenTitle = title;
    render();
  },

  /** A named count that adds to the title badge. */
  badge(source: string): { set(count: number): void; clear(): void } {
    return {
      set(count: number) {
        if (count > 0) counts.set(source, count);
        else counts.delete(source);
        render();
      },
      clear() {
        counts.delete(source);
        render();
      },
    };
  },

  /** The title badge's total (for tests and the favicon later). */
  get total(): number {
    return [...counts.values()].reduce((a, b) => a + b, 0);
  },

  /** Whether desktop notifications can be shown (granted), asked for, or not at all. */
  get permission(): NotificationPermission | 'unsupported' {
    return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  },

  /** Asks for permission; call it from a click (browsers refuse the prompt otherwise). */
  async requestPermission(): Promise<NotificationPermission | 'unsupported'> {
    if (typeof Notification === 'undefined') return 'unsupported';
    return Notification.requestPermission();
  },

  /**
   * Shows a desktop notification when the tab is hidden and permission is granted; otherwise nothing
   * (the in-app badge is enough while the user is looking). A `tag` replaces an earlier notification
   * of the same thing rather than stacking them. Returns whether one was shown.
   */
  notify(n: { title: string; body?: string; tag?: string; onClick?: () => void }): boolean {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return false;
    if (document.visibilityState !== 'hidden') return false;
    const shown = new Notification(n.title, { body: n.body, tag: n.tag });
    const tag = n.tag;
    if (tag) {
      shownByTag.set(tag, shown);
      shown.onclose = () => {
        if (shownByTag.get(tag) === shown) shownByTag.delete(tag);
      };
    }
    shown.onclick = () => {
      window.focus();
      n.onClick?.();
      shown.close();
    };
    return true;
  },

  /** Closes the notification shown with `tag`, if it is still up (what it announced is over). */
  dismiss(tag: string): void {
    shownByTag.get(tag)?.close();
    shownByTag.delete(tag);
  },
};
