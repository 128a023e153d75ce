/**
 * The registrar (RFC 3261 section 10.3): a SIP device, authenticated by digest in its tenant's realm
 * (the listener does that first, digest-gate.ts), binds its address-of-record to one or more
 * contacts for a while, refreshes them, and removes them (Expires 0, or `Contact: *`).
 *
 * Section 10.3, step by step as done here:
 * 1-3. The Request-URI's domain is a tenant's (the user-agent core answers 404 otherwise) and
 *    Require is checked (420); authentication is the listener's (401, then 403 for wrong secrets).
 * 4. The authenticated device may change only its own address-of-record: To must be
 *    `sip:<its username>@<the realm it authenticated in>` (403 otherwise).
 * 5. The address-of-record is the device (`deviceByUsername`); one no longer there gets 404.
 * 6. `Contact: *` must be alone and come with `Expires: 0` (400 otherwise) and removes every binding
 *    of the device; other contacts must be SIP or SIPS URIs (400 otherwise).
 * 7. Each contact's expiry is its `expires` parameter, else the Expires header, else the default;
 *    a non-zero one under the minimum fails the whole request with 423 and Min-Expires, one over
 *    the maximum is shortened to it. A binding is found by its contact URI (or its RFC 5626
 *    `+sip.instance`, which replaces the old contact of a phone that came back on another port);
 *    the same Call-ID with a CSeq not above the stored one is out of order and fails the request
 *    (500). More than the allowed contacts per device gets 403.
 * 8. The changes are stored (one transaction) before the 200, which lists every current binding of
 *    the device with its remaining time (`Contact: <uri>;expires=N`).
 *
 * The flow a binding records is where the REGISTER came from (responseDestination: the source
 * address and rport, RFC 3581; for TCP, TLS and WebSocket the connection it came on), so a phone
 * behind NAT is reached through the same pinhole or connection, never at a private address from its
 * Contact. Changes of one device run one after another, so two REGISTERs in flight never race.
 */
import { randomUUID } from 'node:crypto';
import {
  createResponse,
  isSipUri,
  parseScalar,
  responseDestination,
  type NameAddr,
  type ServerTransaction,
  type SipRequest,
} from '@parley/sip';
import type { RegistrationStore } from './registration-store.ts';
import type { Binding, RegistrationFlow, RegistrationTable, RemovalReason } from './registrations.ts';

/** A SIP device as the registrar needs it (the devices' directory provides it). */
export interface SipDevice {
  deviceId: string;
  tenantId: string;
  userId: string;
  name: string;
}

/** Finds the device a SIP user name names in a tenant domain. */
export interface SipDeviceLookup {
  deviceByUsername(domain: string, username: string): Promise<SipDevice | null | undefined>;
}

export interface RegistrarLimits {
  /** Shortest registration accepted, s (shorter non-zero ones get 423 with Min-Expires). */
  minExpires: number;
  /** Longest registration granted, s (longer ones are shortened). */
  maxExpires: number;
  /** What a REGISTER with no expiry asks for, s. */
  defaultExpires: number;
  /** Contacts one device may have bound at once. */
  maxContacts: number;
}

export interface RegistrarOptions {
  devices: SipDeviceLookup;
  table: RegistrationTable;
  store: RegistrationStore;
  limits: RegistrarLimits;
  /** New binding ids (tests pass a counter). */
  newId?: () => string;
}

/** Longest Expires value read (RFC 3261 section 20.19: up to 2^32-1; more is clamped anyway). */
const MAX_EXPIRES_VALUE = 2 ** 32 - 1;

interface ContactRequest {
  uri: string;
  expires: number;
  q: number;
  instance?: string;
  addr: NameAddr;
}

type Refusal = { status: number; reason?: string; headers?: Array<[string, string | number]> };

export class Registrar {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly newId: () => string;

  constructor(private readonly opts: RegistrarOptions) {
    this.newId = opts.newId ?? randomUUID;
  }

  /**
   * Answers an authenticated REGISTER: `username` authenticated in `realm` (the Request-URI's
   * domain).
   */
  async handle(tx: ServerTransaction, username: string, realm: string): Promise<void> {
    const req = tx.request;
    const to = req.to.uri;
    if (!isSipUri(to) || to.user !== username || to.host.toLowerCase() !== realm.toLowerCase()) {
      tx.respond(createResponse(req, 403, { reason: 'Not Your Address-of-Record' }));
      return;
    }
    const device = await this.opts.devices.deviceByUsername(realm.toLowerCase(), username);
    if (!device) {
      tx.respond(createResponse(req, 404));
      return;
    }
    const answer = await this.serial(device.deviceId, () =>
      this.update(req, device, `sip:${username}@${realm.toLowerCase()}`, responseDestination(req, tx.peer)),
    );
    if ('status' in answer) {
      tx.respond(createResponse(req, answer.status, { reason: answer.reason, headers: answer.headers }));
      return;
    }
    const now = this.opts.table.now();
    const contacts = answer.bindings.map(
      (b) => `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
    );
    tx.respond(
      createResponse(req, 200, {
        headers: [
          ...contacts.map((c): [string, string] => ['Contact', c]),
          ['Date', new Date(now).toUTCString()],
        ],
      }),
    );
  }

  /** Removes every binding of a device (a device deleted by its admin). */
  async dropDevice(deviceId: string): Promise<void> {
    await this.serial(deviceId, async () => {
      const ids = this.opts.table.ofDevice(deviceId).map((b) => b.bindingId);
      await this.opts.store.remove(ids);
      for (const id of ids) this.opts.table.remove(id, 'unregistered');
    });
  }

  /** Removes one binding (keep-alive found it unreachable); false when it was gone already. */
  async dropBinding(binding: Binding, reason: RemovalReason): Promise<boolean> {
    return this.serial(binding.deviceId, async () => {
      if (this.opts.table.get(binding.bindingId) !== binding) return false;
      await this.opts.store.remove([binding.bindingId]);
      this.opts.table.remove(binding.bindingId, reason);
      return true;
    });
  }

  private serial<T>(deviceId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(deviceId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => {});
    this.chains.set(deviceId, settled);
    void settled.then(() => {
      if (this.chains.get(deviceId) === settled) this.chains.delete(deviceId);
    });
    return next;
  }

  private async update(
    req: SipRequest,
    device: SipDevice,
    aor: string,
    flow: RegistrationFlow,
  ): Promise<Refusal | { bindings: Binding[] }> {
    const { table, store, limits } = this.opts;
    const parsed = this.contacts(req);
    if (parsed !== '*' && !Array.isArray(parsed)) return parsed;
    const existing = table.ofDevice(device.deviceId);
    const callId = req.callId;
    const cseq = req.cseq.seq;
    const now = table.now();
    const put: Binding[] = [];
    const removed = new Map<string, RemovalReason>();

    if (parsed === '*') {
      for (const b of existing) {
        // Section 10.3 step 6: a binding from the same Call-ID with a CSeq not below is kept.
        if (b.callId === callId && b.cseq >= cseq) continue;
        removed.set(b.bindingId, 'unregistered');
      }
    } else {
      if (parsed.length === 0) return { bindings: existing }; // a query (section 10.2.3)
      for (const c of parsed) {
        const old =
          existing.find((b) => b.contact === c.uri) ??
          (c.instance !== undefined ? existing.find((b) => b.instance === c.instance) : undefined);
        if (old && old.callId === callId && old.cseq >= cseq)
          return { status: 500, reason: 'Out of Order Registration', headers: [['Retry-After', 1]] };
        if (c.expires === 0) {
          if (old) removed.set(old.bindingId, 'unregistered');
          continue;
        }
        if (old && old.contact !== c.uri) removed.set(old.bindingId, 'replaced');
        put.push({
          bindingId: old && old.contact === c.uri ? old.bindingId : this.newId(),
          tenantId: device.tenantId,
          userId: device.userId,
          deviceId: device.deviceId,
          aor,
          contact: c.uri,
          flow: { ...flow },
          expiresAt: now + c.expires * 1000,
          callId,
          cseq,
          q: c.q,
          instance: c.instance,
          userAgent: req.get('user-agent')?.slice(0, 200),
          registeredAt: old && old.contact === c.uri ? old.registeredAt : now,
        });
      }
      const kept = existing.filter(
        (b) => !removed.has(b.bindingId) && !put.some((p) => p.bindingId === b.bindingId),
      );
      if (kept.length + put.length > limits.maxContacts)
        return { status: 403, reason: `More Than ${limits.maxContacts} Contacts` };
    }

    await store.apply({ put, remove: [...removed.keys()] });
    for (const [id, reason] of removed) table.remove(id, reason);
    for (const b of put) table.put(b);
    return { bindings: table.ofDevice(device.deviceId) };
  }

  /** The Contact values of a REGISTER with their expiry, `*`, or the refusal they earn. */
  private contacts(req: SipRequest): ContactRequest[] | '*' | Refusal {
    const { limits } = this.opts;
    let headerExpires: number | undefined;
    const ev = req.get('expires');
    if (ev !== undefined) {
      try {
        headerExpires = parseScalar(ev, 'Expires', MAX_EXPIRES_VALUE);
      } catch {
        return { status: 400, reason: 'Bad Expires' };
      }
    }
    if (req.isStarContact) {
      if (req.values('contact').length !== 1 || headerExpires !== 0)
        return { status: 400, reason: 'Contact * Needs Expires 0 Alone' };
      return '*';
    }
    let addrs: NameAddr[];
    try {
      addrs = req.contact;
    } catch {
      return { status: 400, reason: 'Bad Contact' };
    }
    // The same URI twice in one request is one binding: the last one counts.
    const out = new Map<string, ContactRequest>();
    for (const addr of addrs) {
      if (!isSipUri(addr.uri)) return { status: 400, reason: 'Contact Must Be a SIP URI' };
      const pe = addr.params.get('expires');
      let expires = headerExpires ?? limits.defaultExpires;
      if (pe !== undefined && pe !== null) {
        const n = /^\d{1,10}$/.test(pe) ? Number(pe) : NaN;
        if (!Number.isFinite(n)) return { status: 400, reason: 'Bad Contact Expires' };
        expires = n;
      }
      if (expires !== 0 && expires < limits.minExpires)
        return { status: 423, headers: [['Min-Expires', limits.minExpires]] };
      expires = Math.min(expires, limits.maxExpires);
      const qv = addr.params.get('q');
      const q = qv === undefined || qv === null ? 1 : Number(qv);
      if (!(q >= 0 && q <= 1)) return { status: 400, reason: 'Bad Contact q' };
      const inst = addr.params.get('+sip.instance');
      const uri = canonicalUri(addr);
      out.delete(uri);
      out.set(uri, {
        uri,
        expires,
        q,
        instance: inst === undefined || inst === null ? undefined : inst.slice(0, 200),
        addr,
      });
    }
    return [...out.values()];
  }
}

/** The Contact URI with its scheme and host lower-cased (section 19.1.4 compares them so). */
function canonicalUri(addr: NameAddr): string {
  const u = addr.uri;
  if (!isSipUri(u)) return u.toString();
  const c = u.clone();
  c.host = c.host.toLowerCase();
  return c.toString();
}
