/**
 * Where a carrier's named address sends calls (RFC 3263 section 4.2, issue 19 item 3): an address
 * given as an IP is used as it is; a name is looked up as SRV (`_sip._udp.name`, `_sip._tcp.name`,
 * `_sips._tcp.name` by the trunk's transport), whose targets are ordered by priority and, within one
 * priority, by weight (RFC 2782's weighted random pick), each target's A records in turn; a name with
 * no SRV records is its A records at the address's port. The call then fails over along that list
 * as along the carrier's own addresses (trunk-outbound.ts).
 *
 * Answers are kept for `cacheS` seconds (a lookup per call would add its latency to every call); a
 * failed lookup is not kept, and a name that resolves to nothing yields no target (the next address
 * is tried). `servers` (`PARLEY_DNS_SERVERS`) names the resolvers, the system's when empty.
 */
import { isIP } from 'node:net';
import { Resolver } from 'node:dns/promises';
import type { TrunkAddress, TrunkCarrier } from './carriers.ts';

export interface SipTarget {
  /** An IP address. */
  host: string;
  port: number;
}

export interface TrunkResolverOptions {
  /** Resolvers (`127.0.0.1:5353`), the system's when empty. */
  servers?: readonly string[];
  /** Seconds an answer is kept. */
  cacheS?: number;
  /** Milliseconds one query may take before it is retried once. */
  timeoutMs?: number;
  /** [0, 1): the weighted pick within a priority (tests pass a fixed one). */
  random?: () => number;
  now?: () => number;
}

interface Srv {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

const SRV_PREFIX: Record<TrunkCarrier['transport'], string> = {
  udp: '_sip._udp.',
  tcp: '_sip._tcp.',
  tls: '_sips._tcp.',
};

export class TrunkResolver {
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, { until: number; value: unknown }>();
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly cacheMs: number;

  constructor(o: TrunkResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: o.timeoutMs ?? 2000, tries: 2 });
    if (o.servers && o.servers.length > 0) this.resolver.setServers([...o.servers]);
    this.random = o.random ?? Math.random;
    this.now = o.now ?? Date.now;
    this.cacheMs = (o.cacheS ?? 30) * 1000;
  }

  /** Every target of the carrier's addresses, in the order a call tries them. */
  async targets(
    addresses: readonly TrunkAddress[],
    transport: TrunkCarrier['transport'],
  ): Promise<SipTarget[]> {
    const out: SipTarget[] = [];
    for (const a of addresses) out.push(...(await this.targetsOf(a, transport)));
    // The same IP and port named twice (an SRV and an A record alike) is tried once.
    return out.filter((t, i) => out.findIndex((u) => u.host === t.host && u.port === t.port) === i);
  }

  private async targetsOf(a: TrunkAddress, transport: TrunkCarrier['transport']): Promise<SipTarget[]> {
    if (isIP(a.host) !== 0) return [{ host: a.host, port: a.port }];
    const name = a.host.replace(/\.$/, '');
    const srv = await this.srv(SRV_PREFIX[transport] + name);
    if (srv.length === 0) return (await this.a(name)).map((host) => ({ host, port: a.port }));
    const out: SipTarget[] = [];
    for (const s of this.order(srv))
      for (const host of await this.a(s.name)) out.push({ host, port: s.port });
    return out;
  }

  /** RFC 2782: lowest priority first; within one, a weighted random order (weight 0 last). */
  private order(records: readonly Srv[]): Srv[] {
    const out: Srv[] = [];
    const priorities = [...new Set(records.map((r) => r.priority))].sort((x, y) => x - y);
    for (const p of priorities) {
      const left = records.filter((r) => r.priority === p).sort((x, y) => x.weight - y.weight);
      while (left.length > 0) {
        const total = left.reduce((n, r) => n + r.weight, 0);
        let pick = this.random() * total;
        let i = left.findIndex((r) => r.weight > 0 && (pick -= r.weight) < 0);
        if (i < 0) i = left.length - 1;
        out.push(...left.splice(i, 1));
      }
    }
    return out;
  }

  private srv(name: string): Promise<Srv[]> {
    return this.cached(`srv ${name}`, async () => {
      try {
        return (await this.resolver.resolveSrv(name)).filter((r) => r.name !== '' && r.name !== '.');
      } catch (err) {
        if (isNoData(err)) return [];
        throw err;
      }
    });
  }

  private a(name: string): Promise<string[]> {
    if (isIP(name) !== 0) return Promise.resolve([name]);
    return this.cached(`a ${name}`, async () => {
      try {
        return await this.resolver.resolve4(name);
      } catch (err) {
        if (isNoData(err)) return [];
        throw err;
      }
    });
  }

  private async cached<T>(key: string, look: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.value as T;
    const value = await look();
    this.cache.set(key, { until: this.now() + this.cacheMs, value });
    return value;
  }
}

/** The name has no such records (as opposed to a resolver that did not answer). */
function isNoData(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENODATA' || code === 'ENOTFOUND';
}
