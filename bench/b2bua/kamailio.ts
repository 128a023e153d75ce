/**
 * bench/b2bua's reference: Debian's Kamailio as a minimal stateful proxy between the same two SIPp
 * ends (`record_route(); t_relay();` with the tm, sl, rr, maxfwd, siputils, textops and pv modules), started from
 * a configuration written here, on a free port, in the foreground, with its runtime files in a
 * temporary folder (the package's systemd service is never used). Its CPU is the sum over the main
 * process and its children (Kamailio forks one receiver per `children`, plus timers).
 *
 * Routing: a new INVITE is record-routed and relayed to the callee (`rewritehostport`); an in-dialog
 * request follows its Route (loose_route) to the callee's Contact; an ACK to a failure goes with its
 * transaction. This is what "a stateful proxy" means in the issue, nothing more (no DB), as a ceiling
 * of what a SIP server does per call on this machine. With `password`, a new INVITE is first
 * challenged (407) and its digest checked, the reference for a phone's call out through Parley.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from '../sipp-steps.ts';

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

export interface KamailioOptions {
  /** Where it listens (UDP). */
  ip: string;
  port: number;
  /** The callee every new INVITE is relayed to, `host:port`. */
  callee: string;
  /** Receiver processes (UDP workers). */
  children: number;
  /**
   * Challenge every new INVITE with digest (407), as Parley challenges a phone, and accept this
   * password for any user of the From domain (the auth module's pv_proxy_authenticate: no database).
   */
  password?: string;
}

/** The configuration file's text. */
export function kamailioConfig(o: KamailioOptions): string {
  return `#!KAMAILIO
# bench/b2bua: a stateful proxy between two SIPp ends (written by bench/b2bua/kamailio.ts)
debug=-1
log_stderror=yes
memdbg=5
memlog=5
children=${o.children}
auto_aliases=no
disable_tcp=yes
dns=no
rev_dns=no
use_dns_cache=off
listen=udp:${o.ip}:${o.port}
alias="${o.ip}:${o.port}"

mpath="${MODULES}"
loadmodule "pv.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
${o.password ? 'loadmodule "auth.so"\n' : ''}
request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (has_totag()) {
    if (loose_route()) {
      t_relay();
      exit;
    }
    if (is_method("ACK")) {
      if (t_check_trans()) t_relay();
      exit;
    }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  t_check_trans();
${
  o.password
    ? `  if (is_method("INVITE")) {
    if (!pv_proxy_authenticate("$fd", "${o.password}", "0")) {
      proxy_challenge("$fd", "0");
      exit;
    }
    consume_credentials();
  }
`
    : ''
}  record_route();
  rewritehostport("${o.callee}");
  t_relay();
}
`;
}

export interface Kamailio {
  child: ChildProcess;
  /** CPU seconds used by the main process and its children so far. */
  cpu(): number;
  stop(): Promise<void>;
}

/** Kamailio's process and its children now (ppid = main). */
function family(main: number): number[] {
  const out = [main];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === main) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** Starts Kamailio in the foreground and waits until it listens (its children are forked). */
export async function startKamailio(o: KamailioOptions): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kamailio-'));
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig(o));
  const child = spawn(
    'kamailio',
    ['-f', cfg, '-DD', '-E', '-m', '512', '-M', '16', '-Y', dir, '-w', dir, '-P', join(dir, 'k.pid')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (log.length < 20_000) log += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const started = await Promise.race([
    (async () => {
      // Listening once every receiver is forked (children + timers), or after 3 s.
      const end = Date.now() + 3000;
      while (Date.now() < end && family(child.pid!).length < o.children + 1)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      return true;
    })(),
    exited.then(() => false),
  ]);
  if (!started) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kamailio exited (apt-get install -y kamailio): ${log.slice(0, 2000)}`);
  }
  let seen = new Set<number>();
  const used = new Map<number, number>();
  const cpu = () => {
    // A child's CPU is kept once it has gone (the main process's cutime counts only waited children).
    const now = family(child.pid!);
    seen = new Set([...seen, ...now]);
    for (const pid of now) {
      try {
        used.set(pid, cpuSeconds(pid));
      } catch {
        // gone between readdir and read
      }
    }
    return [...used.values()].reduce((a, b) => a + b, 0);
  };
  return {
    child,
    cpu,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        // Only our Kamailio's processes still alive (a pid may have been reused since).
        for (const pid of seen) {
          try {
            if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'kamailio') process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }, 3000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
