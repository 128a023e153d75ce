/** What the outbound tests do in the page and read back: dialling a number, the newest call record. */
import type { Page } from 'playwright-core';
import type { App } from '../../packages/server/src/app.ts';

/**
 * Dials `typed` on the web app's dial pad as a user does (its page, the number typed, Call);
 * resolves to the refusal the page shows in an alert, or null when the call view opened (or at once
 * after the click with `wait: false`).
 */
export async function dialFrom(
  page: Page,
  typed: string,
  o: { wait?: boolean } = {},
): Promise<string | null> {
  await page.goto(new URL('/calls/dial', page.url()).toString());
  await page.getByRole('heading', { name: 'Dial pad', level: 1 }).waitFor();
  await page.getByLabel('Number to call').fill(typed);
  await page.getByRole('button', { name: 'Call', exact: true }).click();
  if (o.wait === false) return null; // a call that ends at once shows neither (the test reads its words)
  const view = page.getByRole('region', { name: /^Call with/ });
  const alert = page.getByRole('alert');
  await Promise.race([view.waitFor(), alert.waitFor()]);
  return (await view.count()) > 0 ? null : await alert.innerText();
}

/** The newest call record (outbound calls are Contoso's only record of them). */
export async function lastRecord(suite: { server: { web: { app: App } } }) {
  return suite.server.web.app.storage.db
    .selectFrom('call_records')
    .selectAll()
    .orderBy('placed_at', 'desc')
    .executeTakeFirstOrThrow();
}
