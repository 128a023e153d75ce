/**
 * bench/web: the web app in headless Chromium (Debian's, through playwright-core).
 *
 * 1. Size: the JavaScript the first screen loads (the entry script and the chunks it preloads), gzip
 *    (level 6, what a server sends). Reference: React and ReactDOM's own production builds, gzip, the
 *    floor of any React app. Target: at most 250 kB.
 * 2. Time to interactive of the signed-in main screen for a user with 500 contacts and 200
 *    conversations (cold cache, a stored session as after a reload): from navigation start until all
 *    500 contact rows and the user's own presence are on screen. Reference in the same run and the same
 *    Chromium: a static page from a bare Node HTTP server whose script renders 500 list rows. Target:
 *    at most 1.5 s.
 * 3. Frame time while 50 of those contacts change presence each second (50 Node SDK clients toggling
 *    their device state, spread over the second): p95 of requestAnimationFrame intervals, and how many
 *    changes reached the page. Reference: the same measurement, at the same time (so under the same
 *    machine load), on the reference page, which changes nothing.
 *
 * Run: node --import tsx bench/web.ts [--short]   (--short: 2 loads each, 4 s of presence changes;
 *   otherwise 5 loads, 15 s)
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { ParleyClient } from '../packages/sdk/src/index.ts';
import { trustedScope } from '../packages/server/src/directory/scope.ts';
import { hashPassword } from '../packages/server/src/credentials/passwords.ts';
import { defaultWebDist } from '../packages/server/src/web/web-build.ts';
import { DEMO_PASSWORD, demo, launchBrowser, startWebServer, type WebServer } from '../tests/web/harness.ts';
import { compare, machine, median, SHORT } from './report.ts';

const CONTACTS = 500;
const CONVERSATIONS = 200;
const CHANGERS = 50;
const LOADS = SHORT ? 2 : 5;
const CHANGE_SECONDS = SHORT ? 4 : 15;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** gzip bytes of the JavaScript `index.html` loads at once (entry and modulepreload links). */
function firstScreenJs(): { bytes: number; files: string[] } {
  const html = readFileSync(join(defaultWebDist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
  const bytes = files.reduce((n, f) => n + gzipSync(readFileSync(join(defaultWebDist, f))).length, 0);
  return { bytes, files };
}

function reactFloor(): number {
  const require = createRequire(import.meta.url);
  const files = [
    'react/cjs/react.production.js',
    'react/cjs/react-jsx-runtime.production.js',
    'react-dom/cjs/react-dom.production.js',
    'react-dom/cjs/react-dom-client.production.js',
    'scheduler/cjs/scheduler.production.js',
  ];
  // Resolved from each package's folder: their `exports` do not list the cjs files.
  const file = (f: string) => {
    const [pkg, ...rest] = f.split('/');
    return join(dirname(require.resolve(`${pkg}/package.json`)), ...rest);
  };
  return gzipSync(Buffer.concat(files.map((f) => readFileSync(file(f))))).length;
}

/** 500 users in Contoso, Alice's contacts; 200 conversations of Alice's with a message each. */
async function seed(server: WebServer): Promise<{ session: string; changers: string[] }> {
  const app = server.app;
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  const scope = trustedScope(tenant.id);
  const alice = (await app.directory.findUserRecordByAddress(demo.alice))!;
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const ids: string[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < CONTACTS; i++) {
    const address = `person${i}@contoso.example`;
    const u = await app.directory.createUser(scope, {
      address,
      displayName: `Person ${String(i).padStart(3, '0')} Example`,
      passwordHash,
      role: 'user',
      title: i % 3 ? 'Engineer' : 'Account Manager',
      department: i % 2 ? 'Engineering' : 'Sales',
    });
    ids.push(u.id);
    addresses.push(address);
  }
  for (let i = 0; i < ids.length; i++)
    await app.contacts.put(scope, alice.id, ids[i]!, { favourite: i < 10 });
  const login = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address: demo.alice, password: DEMO_PASSWORD }),
  }).then(
    (r) =>
      r.json() as Promise<{ accessToken: string; refreshToken: string; expiresIn: number; user: unknown }>,
  );
  const auth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };
  for (let i = 0; i < CONVERSATIONS; i++) {
    const c = await fetch(`${server.url}/api/conversations`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ members: [ids[i]] }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    await fetch(`${server.url}/api/conversations/${c.id}/messages`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ text: `Hello ${i}`, clientMessageId: `bench-${i}` }),
    });
  }
  const session = JSON.stringify({
    accessToken: login.accessToken,
    refreshToken: login.refreshToken,
    expiresAt: Date.now() + login.expiresIn * 1000,
    user: login.user,
  });
  return { session, changers: addresses.slice(0, CHANGERS) };
}

/** A page with no Parley code: its script renders 500 rows like the contact list's. */
async function referenceServer(): Promise<{ url: string; close(): Promise<void> }> {
  const page =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>reference</title></head><body><ul id="l"></ul><script src="/r.js"></script></body></html>';
  const script = `const l=document.getElementById('l');for(let i=0;i<${CONTACTS};i++){const li=document.createElement('li');li.className='contact-row';li.innerHTML='<a href="#"><span>P'+i+'</span><span data-availability="offline">Offline</span></a>';l.appendChild(li);}document.body.dataset.ready='1';`;
  const srv = createServer((req, res) => {
    if (req.url === '/r.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => srv.close(() => r())) };
}

/** ms from navigation start until `ready()` holds in the page, in a fresh profile (cold cache). */
async function timeToReady(
  browser: Browser,
  url: string,
  ready: 'app' | 'reference',
  session?: string,
): Promise<{ ms: number; close(): Promise<void>; page: import('playwright-core').Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (session)
    await context.addInitScript((s) => {
      if (location.pathname === '/') localStorage.setItem('parley.session', s);
    }, session);
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'commit' });
  // A function, not a string: the app's CSP forbids eval, which a string predicate needs.
  const handle = await page.waitForFunction(
    ({ kind, rows }) => {
      const ok =
        kind === 'app'
          ? document.querySelectorAll('.contact-row').length >= rows &&
            !!document.querySelector('.me-status .presence')
          : document.body?.dataset.ready === '1';
      return ok ? performance.now() : false;
    },
    { kind: ready, rows: CONTACTS },
    { polling: 'raf', timeout: 60_000 },
  );
  const ms = (await handle.jsonValue()) as number;
  return { ms, page, close: () => context.close() };
}

const appReady = 'app' as const;
const refReady = 'reference' as const;

/** requestAnimationFrame intervals over `seconds`, and how many presence changes the page applied. */
async function frames(
  page: import('playwright-core').Page,
  seconds: number,
): Promise<{ p95: number; changes: number }> {
  // tsx names inner functions with an `__name` helper that the page does not have.
  await page.evaluate('globalThis.__name = (f) => f');
  return page.evaluate(async (s) => {
    let changes = 0;
    const mo = new MutationObserver((ms) => (changes += ms.length));
    mo.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-availability'] });
    const gaps: number[] = [];
    await new Promise<void>((done) => {
      const end = performance.now() + s * 1000;
      let last = performance.now();
      const tick = (t: number) => {
        gaps.push(t - last);
        last = t;
        if (t < end) requestAnimationFrame(tick);
        else done();
      };
      requestAnimationFrame(tick);
    });
    mo.disconnect();
    gaps.sort((a, b) => a - b);
    return { p95: gaps[Math.floor(gaps.length * 0.95)] ?? 0, changes };
  }, seconds);
}

console.log(machine());
const size = firstScreenJs();
console.log(`first screen: ${size.files.join(', ')}`);
compare({
  what: 'web first-screen JavaScript, gzip',
  figure: size.bytes / 1000,
  reference: reactFloor() / 1000,
  unit: 'kB',
  referenceName: 'React + ReactDOM production builds alone, gzip',
  lowerIsBetter: true,
  digits: 1,
});

const server = await startWebServer({ realtimeMaxPerUser: 64, httpMaxConnectionsPerAddress: 1024 });
const ref = await referenceServer();
const browser = await launchBrowser();
const clients: ParleyClient[] = [];
try {
  const { session, changers } = await seed(server);
  const app: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const r = await timeToReady(browser, ref.url, refReady);
    reference.push(r.ms);
    await r.close();
    const a = await timeToReady(browser, server.url, appReady, session);
    app.push(a.ms);
    await a.close();
  }
  console.log(
    `loads: app ${app.map((x) => x.toFixed(0)).join(', ')} ms; reference ${reference.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
  compare({
    what: `web time to interactive, ${CONTACTS} contacts and ${CONVERSATIONS} conversations (median of ${LOADS})`,
    figure: median(app),
    reference: median(reference),
    unit: 'ms',
    referenceName: 'static page rendering 500 rows from a bare Node server, same Chromium',
    lowerIsBetter: true,
  });

  // 50 contacts online, each toggling Busy/Available once a second, spread over the second.
  for (const address of changers) {
    const c = new ParleyClient({ baseUrl: server.url });
    await c.signIn(address, DEMO_PASSWORD);
    await c.connect();
    clients.push(c);
  }
  const main = await timeToReady(browser, server.url, appReady, session);
  const refPage = await timeToReady(browser, ref.url, refReady);
  let running = true;
  const loop = (async () => {
    let round = 0;
    while (running) {
      for (const c of clients) {
        if (!running) break;
        void c.presence.publish({ availability: round % 2 ? 'available' : 'busy' }).catch(() => {});
        await sleep(1000 / CHANGERS);
      }
      round++;
    }
  })();
  await sleep(1000);
  // Both pages measured at once, so the reference shares the machine's load (server, SDK clients).
  const [appFrames, refFrames] = await Promise.all([
    frames(main.page, CHANGE_SECONDS),
    frames(refPage.page, CHANGE_SECONDS),
  ]);
  running = false;
  await loop;
  await main.close();
  await refPage.close();
  console.log(
    `presence changes applied in the page: ${appFrames.changes} in ${CHANGE_SECONDS} s (${(appFrames.changes / CHANGE_SECONDS).toFixed(1)}/s; ${CHANGERS}/s sent)`,
  );
  compare({
    what: `web frame time p95 while ${CHANGERS} contacts change presence each second`,
    figure: appFrames.p95,
    reference: refFrames.p95,
    unit: 'ms',
    referenceName: 'the static reference page, measured at the same time',
    lowerIsBetter: true,
    digits: 1,
  });
} finally {
  for (const c of clients) c.disconnect();
  await browser.close();
  await ref.close();
  await server.close();
}
