/**
 * A real `parley serve --demo` in a child process, for tests that kill it (`kill -9`) and start it again
 * on the same data folder or database: free ports, quiet logs, no web build. Resolves the URL it
 * prints once it serves.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;

/** The demo's users (alice, bob, carol, dave @contoso.example) sign in with this password. */
export const DEMO_PASSWORD = 'copper-kettle-morning';

export function serveProcess(env: Record<string, string>): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, [bin, 'serve', '--demo'], {
    env: {
      ...process.env,
      PARLEY_PORT: '0',
      PARLEY_SIP_PORT: '0',
      PARLEY_SIP_TLS_PORT: '0',
      PARLEY_LOG_LEVEL: 'silent',
      PARLEY_WEB_BUILD: 'never', // these tests are not about the web app: no build
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Open (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return { child, url };
}
