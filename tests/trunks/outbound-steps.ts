/** What the outbound tests do in the page and read back: dialling a number, the newest call record. */
import type { Page } from 'playwright-core';
import type { App } from '../../packages/server/src/app.ts';

/** Places an audio call from the page as the app's call buttons do; the refusal's words, or null. */
export function dialFrom(page: Page, typed: string): Promise<string | null> {
  return page.evaluate(`window.parleyCalls.place({ number: ${JSON.stringify(typed)} })`) as Promise<
    string | null
  >;
}

/** The newest call record (outbound calls are Contoso's only record of them). */
export async function lastRecord(suite: { server: { web: { app: App } } }) {
  return suite.server.web.app.storage.db
    .selectFrom('call_records')
    .selectAll()
    .orderBy('placed_at', 'desc')
    .executeTakeFirstOrThrow();
}
