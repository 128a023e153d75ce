/**
 * The browser test harness: a real Parley server (in this process, on 127.0.0.1 and a free port, on
 * SQLite in a temporary folder, with the demo data), the built web app (built first when stale), and
 * Debian's Chromium driven headless by playwright-core. Helpers open signed-in pages, save screenshots
 * under `test-output/web/`, and run axe-core inside the page.
 *
 * The server can be stopped and started again on the same port and data (`restart`), which is how the
 * reconnect tests take the connection away.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createApp, type App } from '../../packages/server/src/app.ts';
import { loadConfig, type Config } from '../../packages/server/src/config.ts';
import { AdminCommands } from '../../packages/server/src/cli/commands.ts';
import { ensureWebBuild } from '../../packages/server/src/web/web-build.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Where every browser test leaves its screenshots (git ignores it). */
export const outputDir = join(root, 'test-output', 'web');

export const DEMO_PASSWORD = 'copper-kettle-morning';
export const demo = {
  alice: 'alice@contoso.example',
  bob: 'bob@contoso.example',
  carol: 'carol@contoso.example',
  dave: 'dave@contoso.example',
  operator: { address: 'operator@parley.example', password: 'quartz-willow-lantern' },
};

export interface WebServer {
  app: App;
  url: string;
  port: number;
  /** Stops the server (connections drop), keeping its data folder. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export type Overrides = Partial<Record<keyof Config, unknown>>;

/** Builds the app if needed, then starts a server with the demo tenant (Contoso) and operator. */
export async function startWebServer(overrides: Overrides = {}): Promise<WebServer> {
  await ensureWebBuild();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-web-'));
  let port = 0;
  const boot = async () => {
    const config = loadConfig(
      {},
      { port, sipPort: 0, sipTlsPort: -1, host: '127.0.0.1', dataDir, logLevel: 'silent', ...overrides },
    );
    const app = await createApp(config);
    try {
      await new AdminCommands(app.storage).demo();
      await app.listen();
    } catch (err) {
      // A half-started server (one port taken) would keep the test process alive after the failure.
      await app.close().catch(() => {});
      throw err;
    }
    port = app.config.port;
    return app;
  };
  let app: App | null = await boot();
  const server: WebServer = {
    get app() {
      if (!app) throw new Error('the server is stopped');
      return app;
    },
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      await app?.close();
      app = null;
    },
    async start() {
      app ??= await boot();
    },
    async close() {
      await app?.close();
      app = null;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Debian's Chromium, headless (root needs --no-sandbox), with any `extraArgs` (such as `mediaArgs`). */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', ...extraArgs],
  });
}

/**
 * What a calls test adds: fake camera and microphone (a moving test pattern and a beeping tone) granted
 * without a prompt, loopback ICE candidates allowed (everything here is on 127.0.0.1), sound allowed
 * without a click (the ringtone), and none of Chromium's own attempts to reach the internet.
 */
export const mediaArgs = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface PageOptions {
  colorScheme?: 'light' | 'dark';
  /** Default 1280 x 800; 360 x 740 for the phone-width runs. */
  viewport?: { width: number; height: number };
}

/** A fresh browser profile (its own storage) with one page. */
export async function openPage(
  browser: Browser,
  url: string,
  o: PageOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: o.viewport ?? { width: 1280, height: 800 },
    colorScheme: o.colorScheme ?? 'light',
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A refused script or connection (CSP) or an uncaught error must fail the test that caused it.
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(url);
  return { context, page };
}

/** Errors the page reported (uncaught exceptions, CSP refusals) since it opened. */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** Signs in through the sign-in form and waits for the main screen. */
export async function signIn(page: Page, address: string, password = DEMO_PASSWORD): Promise<void> {
  await page.getByLabel('Email address').fill(address);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Saves a full-page screenshot as `test-output/web/<group>/<name>.png`. */
export async function screenshot(page: Page, group: string, name: string): Promise<string> {
  const dir = join(outputDir, group);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const require = createRequire(import.meta.url);
let axeSource: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core in the page and returns its critical and serious violations (empty is the pass). The
 * script goes in through the DevTools protocol, which the page's Content-Security-Policy does not
 * govern, so the policy under test stays as strict as it is in production.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: string[] }>;
      }>;
    }
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return found.filter((v) => v.impact === 'critical' || v.impact === 'serious');
}

/** Light then dark: runs axe in both and saves a screenshot of each. */
export async function checkBothSchemes(page: Page, group: string, name: string): Promise<AxeViolation[]> {
  const out: AxeViolation[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await screenshot(page, group, `${name}-${scheme}`);
    for (const v of await seriousViolations(page)) out.push({ ...v, id: `${scheme}: ${v.id}` });
  }
  return out;
}

/** Signs in over the API (no browser): for setting up what a test is not about. */
export async function apiSession(server: WebServer, address: string, password = DEMO_PASSWORD) {
  const call = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<T> => {
    const r = await fetch(new URL(path, server.url), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const login = await call<{ accessToken: string; user: { id: string } }>('POST', '/api/auth/login', {
    address,
    password,
  });
  const token = login.accessToken;
  return {
    userId: login.user.id,
    token,
    call: <T>(method: string, path: string, body?: unknown) => call<T>(method, path, body, token),
    /** The id of a user of the same organisation, by address. */
    async idOf(addr: string): Promise<string> {
      const page = await call<{ items: Array<{ id: string; address: string }> }>(
        'GET',
        `/api/users?query=${encodeURIComponent(addr)}`,
        undefined,
        token,
      );
      const u = page.items.find((x) => x.address === addr);
      if (!u) throw new Error(`no user ${addr}`);
      return u.id;
    },
    /** Adds people to this user's contacts. */
    async addContacts(addresses: string[], change: { favourite?: boolean } = {}): Promise<void> {
      for (const a of addresses) await call('PUT', `/api/contacts/${await this.idOf(a)}`, change, token);
    },
  };
}

/**
 * Waits until the screen shows no "Loading…" status at all (a screen may load several parts at once,
 * so waiting for one such status to go is not enough).
 */
export async function loaded(page: Page): Promise<void> {
  const loading = page.getByRole('status').filter({ hasText: /^Loading/ });
  const deadline = Date.now() + 10_000;
  while ((await loading.count()) > 0) {
    if (Date.now() > deadline) throw new Error('the screen was still loading after 10 s');
    await page.waitForTimeout(50);
  }
}

/**
 * Runs before the app: records every Notification the page creates (the real one is still made) and
 * lets the test hide and show the tab with `window.__setHidden(true|false)`. Source text, not a
 * function, so the test runner's transform adds no helper the page lacks.
 */
export const attentionSpy = `
  window.__notifications = [];
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      window.__notifications.push({ title, body: options?.body, tag: options?.tag });
      super(title, options);
    }
  };
  let hidden = false;
  Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { get: () => hidden });
  window.__setHidden = (h) => {
    hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  };
`;
