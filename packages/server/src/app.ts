/**
 * The composition root: the one place that builds every part of the server and wires them together.
 * Nothing else reaches for globals. `createApp` opens storage and migrates; `listen` starts serving;
 * `close` stops accepting, finishes in-flight requests, closes connections and the database.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openStorage, type Storage } from './storage/db.ts';
import { migrate } from './storage/migrator.ts';
import { lockDataDir } from './storage/data-dir-lock.ts';
import { InProcessBus, type Bus } from './bus/bus.ts';
import { Directory } from './directory/directory.ts';
import { AuditLog } from './audit/audit-log.ts';
import { AuthService } from './auth/auth-service.ts';
import { TokenSigner } from './auth/tokens.ts';
import { buildHttp } from './http/http-server.ts';
import { openApiDocument } from './http/openapi.ts';
import type { AnyRoute } from './http/route.ts';
import { directoryRoutes } from './directory/routes.ts';
import { bulkUserRoutes } from './directory/bulk-users.ts';
import { authRoutes } from './auth/routes.ts';
import { operatorRoutes } from './operator/routes.ts';
import { systemRoutes } from './system/routes.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { mailRoutes } from './mail/routes.ts';
import { RealtimeGateway } from './realtime/gateway.ts';
import { RealtimeHub } from './realtime/realtime-hub.ts';
import { EventLog } from './realtime/event-log.ts';
import { realtimeRoutes } from './realtime/routes.ts';
import { PresenceService } from './presence/presence-service.ts';
import { UserTenants } from './presence/user-tenants.ts';
import { PresenceSettingsStore } from './presence/presence-settings-store.ts';
import { ContactStore } from './contacts/contact-store.ts';
import { contactRoutes } from './contacts/routes.ts';
import { createBilling, type Billing } from './billing/billing.ts';
import { operatorBillingRoutes, tenantBillingRoutes } from './billing/routes.ts';
import { createLogger } from './log.ts';
import { version } from './version.ts';
import { SIP_WS_PATH, startSipListener, type SipListener } from './sip/listener.ts';
import { InMemoryCarriers, sipPeerPolicy, type SipPeerLookups } from './sip/peers.ts';
import { createDevices, type Devices } from './devices/devices.ts';
import { sipEdgeAddress } from './devices/provisioning.ts';
import { sipTlsIdentity } from './sip/tls-identity.ts';
import { Registrar } from './sip/registrar.ts';
import { RegistrationStore } from './sip/registration-store.ts';
import { RegistrationTable } from './sip/registrations.ts';
import { InMemorySipDevices } from './sip/in-memory-devices.ts';
import { PhoneCalls } from './sip/phone-calls.ts';
import { PhoneMediaDriver } from './sip/phone-media-driver.ts';
import { RtpenginePhoneMedia } from './sip/phone-media-rtpengine.ts';
import type { PhoneMediaStatsSink } from './sip/phone-media.ts';
import { createChat, type Chat } from './chat/chat.ts';
import { CallControl, callDirectory } from './calls/call-control.ts';
import { EchoService } from './calls/echo.ts';
import { PromptCache, WebRtcEndpoint } from '@parley/media';
import { callRoutes } from './calls/ice-servers.ts';
import type { CallRecordSink } from './calls/record-sink.ts';
import { serveWebApp } from './web/web-app.ts';
import { defaultWebDist } from './web/web-build.ts';
import { fallbackPage } from './web/fallback-page.ts';
import type { Clock } from '@parley/sip';
import { CallRecords } from './calls/call-records.ts';
import { CallHistory } from './calls/call-history.ts';
import { callHistoryRoutes } from './calls/call-history-routes.ts';
import { CallPrices } from './billing/call-prices.ts';
import { TelephonyStore } from './telephony/telephony-store.ts';
import { ParleyError } from '@parley/protocol';
import { trustedScope } from './directory/scope.ts';
import { TrunkResolver } from './telephony/trunk-dns.ts';
import { TrunkOutbound } from './telephony/trunk-outbound.ts';
import { CallCredit, linkCallOn, settleCrashedCalls } from './telephony/call-credit.ts';
import { refusalAnnouncement } from './telephony/refusal-announcement.ts';
import { countriesOf, TrunkInbound } from './telephony/trunk-inbound.ts';
import { TrunkRegistrations } from './telephony/trunk-registration.ts';
import { TrunkHealth } from './telephony/trunk-health.ts';
import { operatorTelephonyRoutes, tenantTelephonyRoutes } from './telephony/routes.ts';
import { TrunkStatusBoard } from './telephony/trunk-status.ts';
import { EmergencyStore } from './telephony/emergency-store.ts';
import { EmergencyCalls } from './telephony/emergency.ts';
import { emergencyNumberOf } from './telephony/emergency-numbers.ts';
import { emergencyRoutes } from './telephony/emergency-routes.ts';

export interface App {
  config: Config;
  log: Logger;
  storage: Storage;
  bus: Bus;
  directory: Directory;
  audit: AuditLog;
  auth: AuthService;
  gateway: RealtimeGateway;
  presence: PresenceService;
  events: EventLog;
  contacts: ContactStore;
  /** Plans, licences, decks, wallet and credit control. */
  billing: Billing;
  realtime: RealtimeHub;
  /** Conversations, messages, receipts, typing. */
  chat: Chat;
  /** The call records (CDRs): what call control tells them of each call, and crash closing. */
  callRecords: CallRecords;
  /** Each user's call history and missed-call badge, from the records. */
  callHistory: CallHistory;
  /** Calls between users: the call table, ringing, relay. */
  calls: CallControl;
  /** Carriers' trunks, the number inventory, dial plans: the B2BUA's CarrierDirectory and NumberDirectory. */
  telephony: TelephonyStore;
  /** What each carrier's health check and registration see now (the operator's status view). */
  trunkStatus: TrunkStatusBoard;
  /** Outgoing mail (PARLEY_SMTP_URL); a NoMailer answering mail_off when unset. */
  mailer: Mailer;
  /** Emergency locations and the callback number (telephony/emergency-store.ts). */
  emergency: EmergencyStore;
  /** The echo test (Parley Echo) and its media endpoint (tests count its sessions). */
  echo: EchoService;
  mediaEndpoint: WebRtcEndpoint;
  http: FastifyInstance;
  /** The route table (the tenant-wall tests are generated from it). */
  routes: AnyRoute[];
  /** Registered SIP contacts by user (phone calls ring them), with a change event. */
  registrations: RegistrationTable;
  /** The SIP registrar (RFC 3261 section 10): REGISTER, and dropping a removed device's bindings. */
  registrar: Registrar;
  /** Users' SIP devices and extensions; `devices.lookup` is the SIP edge's SipDeviceDirectory. */
  devices: Devices;
  /** The SIP listener (UDP and TCP), once `listen()` has started it. */
  readonly sip: SipListener | undefined;
  /** Calls with registered phones (ringing them, calls they place), once `listen()` has started SIP. */
  readonly phoneCalls: PhoneCalls | undefined;
  /** Calls out to phone numbers through carriers (the trunk legs), once `listen()` has started SIP. */
  readonly trunkOutbound: TrunkOutbound | undefined;
  /** Calls from carriers to users' numbers, once `listen()` has started SIP. */
  readonly trunkInbound: TrunkInbound | undefined;
  /** Phone calls' media: RTP legs for phones, WebRTC legs on `mediaEndpoint`, joined by the bridge. */
  phoneMedia: PhoneMediaDriver;
  /** With `PARLEY_MEDIA=rtpengine`: phone calls' media on rtpengine nodes (falling back to `phoneMedia`). */
  rtpengine: RtpenginePhoneMedia | null;
  /** Starts serving; resolves to the URL the server answers on. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Presence's timers and wall clock (tests pass a FakeClock and a matching `now`). */
  presenceTime?: { clock: Clock; now(): number };
  /**
   * Carrier addresses, SIP credentials and the device lookup for the SIP edge. Default: no carriers,
   * and the SIP devices of the database (devices/) for the credentials and the lookup.
   */
  sipPeers?: SipPeerLookups;
  /** The registrations' expiry timers and wall clock (tests pass a FakeClock and a matching `now`). */
  registrationTime?: { clock: Clock; now(): number };
  /** The call records' alive-refresh timer and wall clock (tests pass a FakeClock and a matching `now`). */
  callRecordTime?: { clock: Clock; now(): number };
  /** Where call control tells what calls do (tests pass a recording fake); default: the call records. */
  callRecords?: CallRecordSink;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.logger ?? createLogger(config.logLevel);
  // First of all, so a second server on this folder stops before touching anything.
  const folderLock = lockDataDir(config.dataDir);
  let storage: Storage;
  try {
    storage = openStorage({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      // SQLite: WAL checkpoints in a worker thread, not in whichever request commits past 1,000 pages.
      backgroundCheckpoints: {
        onError: (err) =>
          log.warn({ err }, 'WAL checkpointer (a worker that died leaves checkpoints inline)'),
      },
      // The real cause, once loudly when writes start failing and then at each refused write.
      onStorageFull: (cause, err, first) =>
        first
          ? log.error(
              { err, cause },
              'storage full: writes are refused (507 storage_full) until space is freed',
            )
          : log.warn({ cause }, 'storage full: a write was refused'),
    });
  } catch (err) {
    folderLock.release();
    throw err;
  }
  try {
    await migrate(storage);
  } catch (err) {
    await storage.close();
    folderLock.release();
    throw err;
  }
  const bus = new InProcessBus((err, topic) => log.error({ err, topic }, 'bus listener failed'));
  const directory = new Directory(storage);
  const audit = new AuditLog(storage.db);
  const auth = new AuthService(storage, directory, await TokenSigner.load(storage.db), bus, config);

  const events = new EventLog(storage, bus);
  const presenceSettings = new PresenceSettingsStore(storage.db);
  const presence = new PresenceService(
    bus,
    {
      graceMs: config.presenceGraceMs,
      ...options.presenceTime,
      // Awaited before the change is applied or answered: acknowledged means stored.
      persist: (tenantId, userId, s) => presenceSettings.save(tenantId, userId, s),
    },
    (err) => log.error({ err }, 'presence listener failed'),
  );
  presence.load(await presenceSettings.loadAll(options.presenceTime?.now()));
  const contacts = new ContactStore(storage.db);
  // SIP registrations: stored, reloaded here, each live binding a device of its user in presence.
  let sip: SipListener | undefined;
  const devices = createDevices({
    storage,
    directory,
    audit,
    bus,
    edge: () => sipEdgeAddress(config, sip),
    maxPerUser: config.sipDevicesPerUser,
    // A removed device or a reset password: its bindings end before the admin is answered (it is rung
    // no more, and must register again with what the admin gave it now).
    revoke: (e) => registrar.dropDevice(e.deviceId),
  });
  const sipPeers = options.sipPeers ?? {
    carriers: new InMemoryCarriers(),
    credentials: devices.credentials,
    devices: devices.lookup,
  };
  const registrationStore = new RegistrationStore(storage);
  const registrations = new RegistrationTable({
    presence,
    ...options.registrationTime,
    onListenerError: (err) => log.error({ err }, 'registration listener failed'),
    onExpired: (b) =>
      void registrationStore
        .remove([b.bindingId])
        .catch((err: unknown) => log.warn({ err }, 'sip registrar: deleting a lapsed binding failed')),
  });
  for (const b of await registrationStore.load(registrations.now())) registrations.put(b);
  // One device lookup for the registrar and the phone calls, so both know the same phones.
  const sipDevices = sipPeers.devices ?? new InMemorySipDevices();
  const registrar = new Registrar({
    devices: sipDevices,
    table: registrations,
    store: registrationStore,
    limits: {
      minExpires: config.sipRegisterMinExpires,
      maxExpires: config.sipRegisterMaxExpires,
      defaultExpires: config.sipRegisterDefaultExpires,
      maxContacts: config.sipRegisterMaxContacts,
    },
  });
  const telephony = new TelephonyStore(storage.db);
  await telephony.load();
  const trunkStatus = new TrunkStatusBoard();
  const mailer = createMailer(config);
  const emergencyStore = new EmergencyStore(storage.db);
  // Emergency numbers are routed before anything else; tenant admins are alerted at once.
  const emergencyCalls = new EmergencyCalls({
    carriers: telephony,
    numbers: telephony,
    store: emergencyStore,
    events,
    mailer,
    user: async (tenantId, userId) => {
      const u = await directory.findUserRecordById(userId);
      return u && u.tenant_id === tenantId ? { displayName: u.display_name, address: u.address } : null;
    },
    withholdPrefixes: config.withholdPrefixes,
    log: log.child({ module: 'emergency' }),
  });
  const billing = createBilling(storage, {
    sliceSeconds: config.billingSliceSeconds,
    graceSeconds: config.billingReservationGrace,
    maxCallSeconds: config.billingMaxCallSeconds,
    deckRefreshMs: config.billingDeckRefreshMs,
    idempotencyRetentionHours: config.billingIdempotencyHours,
  });
  // Releases reservations of calls that vanished without commit (see CreditControl.expireDue) and
  // forgets old Idempotency-Key answers.
  const stopBillingSweeper = billing.startSweeper(config.billingSweepInterval * 1000, (err) =>
    log.error({ err }, 'billing expiry sweep failed'),
  );

  const chat = createChat({
    db: storage.db,
    engine: storage.engine,
    writer: storage,
    bus,
    events,
    log: log.child({ module: 'chat' }),
    limits: {
      maxMembers: config.chatMaxMembers,
      maxMessageBytes: config.chatMaxMessageBytes,
      sendRate: config.chatSendRate,
      sendBurst: config.chatSendBurst,
      typingTtlMs: config.chatTypingTtlMs,
      resumeMarginMs: config.chatResumeMarginMs,
      orderWaitMs: config.chatOrderWaitMs,
      fileMaxBytes: config.fileMaxBytes,
      thumbnailMaxPixels: config.fileThumbnailMaxPixels,
      thumbnailSize: config.fileThumbnailSize,
    },
    blobDir: join(config.dataDir, 'blobs'),
  });

  // Records a crashed server left open are closed before any new call can start (call-records.ts).
  const callRecords = new CallRecords({
    storage,
    events,
    aliveMs: config.callRecordAliveMs,
    time: options.callRecordTime,
    onError: (err) => log.warn({ err }, 'call records: the alive refresh failed (retried)'),
  });
  const orphans = await callRecords.closeOrphans();
  if (orphans) log.warn({ records: orphans }, 'call records left open by a crash were closed as failed');
  // Their reservations are settled against those closed records (never more than the real duration).
  const settled = await settleCrashedCalls(storage.db, billing.credit, log);
  if (settled) log.warn({ reservations: settled }, 'reservations of calls a crash ended were settled');
  const callCredit = new CallCredit({
    credit: billing.credit,
    linkCall: linkCallOn(storage),
    renewBeforeSeconds: config.billingRenewBefore,
    keepaliveSeconds: config.billingKeepalive,
    warnBeforeSeconds: config.billingCutWarning,
    log: log.child({ module: 'call-credit' }),
  });
  const callHistory = new CallHistory(storage, options.callRecordTime?.now);
  // The echo test's media: one endpoint for the process, prompts spoken once into the data folder.
  const mediaEndpoint = new WebRtcEndpoint({ address: config.mediaAddress });
  // Spoken prompts (espeak-ng), each text spoken once into the data folder: the echo test's, and the
  // words a phone hears when credit control refuses its call.
  const prompts = new PromptCache({ folder: join(config.dataDir, 'prompts') });
  const echo = new EchoService({
    endpoint: mediaEndpoint,
    prompts,
    recordMs: config.echoRecordSeconds * 1000,
    log: log.child({ module: 'echo' }),
  });
  // Phones are rung once the SIP listener is up (listen()); until then a call rings browsers only.
  let phoneCalls: PhoneCalls | undefined;
  // Numbers are called out through a carrier once SIP is up (listen()); until then `no_route`.
  let trunkOutbound: TrunkOutbound | undefined;
  // Calls from carriers, once the SIP listener is up (listen()).
  let trunkInbound: TrunkInbound | undefined;
  let trunkRegistrations: TrunkRegistrations | undefined;
  let trunkHealth: TrunkHealth | undefined;
  // A phone leg's media statistics (and why its media failed) go to its call's records when it closes.
  const phoneMediaStats: PhoneMediaStatsSink = (callId, s) =>
    void callRecords
      .mediaStats(callId, s)
      .catch((err: unknown) => log.warn({ err }, 'media statistics not stored'));
  const phoneMedia = new PhoneMediaDriver({
    webrtc: mediaEndpoint,
    address: config.mediaAddress,
    mediaTimeoutMs: config.mediaTimeout * 1000,
    log: log.child({ module: 'phone-media' }),
    stats: phoneMediaStats,
  });
  const rtpengine =
    config.media === 'rtpengine'
      ? new RtpenginePhoneMedia({
          nodes: config.rtpengineNg,
          fallback: phoneMedia,
          timeoutMs: config.rtpengineTimeoutMs,
          retries: config.rtpengineRetries,
          pingMs: config.rtpenginePing * 1000,
          dtmf: config.rtpengineDtmf,
          transcode: config.rtpengineTranscode,
          stats: phoneMediaStats,
          log: log.child({ module: 'rtpengine' }),
        })
      : null;
  const calls = new CallControl({
    directory: callDirectory(directory),
    services: echo,
    phones: { devicesOf: (callee) => phoneCalls?.devicesOf(callee) ?? [] },
    trunks: {
      route: (caller, typed) =>
        trunkOutbound
          ? trunkOutbound.route(caller, typed)
          : Promise.reject(new ParleyError('no_route', 'calls to phone numbers start with the SIP listener')),
      device: (caller, route) => trunkOutbound?.device(caller, route) ?? null,
    },
    presence,
    records: options.callRecords ?? callRecords,
    limits: {
      ringTimeoutMs: config.callRingTimeout * 1000,
      lostGraceMs: config.callLostGrace * 1000,
      maxPerUser: config.callMaxPerUser,
    },
    log: log.child({ module: 'calls' }),
  });

  const routes: AnyRoute[] = [];
  let openapi: unknown;
  routes.push(
    ...systemRoutes(storage, version, () => (openapi ??= openApiDocument(routes, version))),
    ...authRoutes(auth, directory, audit),
    ...directoryRoutes({ directory, audit, auth, write: storage.write }),
    ...bulkUserRoutes({ directory, audit, write: storage.write }),
    ...operatorRoutes({ directory, audit, write: storage.write, auth }),
    ...contactRoutes({ contacts, events }),
    ...realtimeRoutes({ events, directory, presence }),
    ...operatorBillingRoutes(billing, audit, { deckMaxBytes: config.deckMaxBytes }),
    ...tenantBillingRoutes(billing, audit),
    ...operatorTelephonyRoutes(telephony, audit, trunkStatus),
    ...mailRoutes(mailer, audit),
    ...tenantTelephonyRoutes(telephony, audit),
    ...emergencyRoutes(emergencyStore, telephony, audit),
    ...chat.routes,
    ...callHistoryRoutes(callHistory, new CallPrices(storage.db)),
    ...callRoutes(config),
    ...devices.routes,
  );
  const http = buildHttp(routes, auth, {
    storageHealth: storage.health,
    bodyLimit: config.bodyLimit,
    logger: log,
    headersTimeoutMs: config.httpHeadersTimeoutMs,
    requestTimeoutMs: config.httpRequestTimeoutMs,
    idleTimeoutMs: config.httpIdleTimeoutMs,
    maxConnectionsPerAddress: config.httpMaxConnectionsPerAddress,
    maxConnections: config.httpMaxConnections,
    bodyBudget: config.httpBodyBudget,
    bodyBudgetPerAddress: config.httpBodyBudgetPerAddress,
  });
  serveWebApp(http, config.webDir ?? defaultWebDist, fallbackPage);
  const gateway = new RealtimeGateway(auth, bus, log, {
    path: '/api/realtime',
    // Frames up to realtimeMaxFrame get a coded error from the session; far larger ones close the socket.
    maxPayload: config.realtimeMaxFrame * 16,
    sessionRecheckMs: config.sessionRecheck * 1000,
    maxPerUser: config.realtimeMaxPerUser,
  });
  gateway.attach(http.server);
  const realtime = new RealtimeHub({
    gateway,
    bus,
    presence,
    events,
    userTenants: new UserTenants(storage.db),
    log,
    eventRetention: config.eventRetention,
    maxQueuedBytes: config.realtimeMaxQueued,
    limits: {
      maxFrameBytes: config.realtimeMaxFrame,
      maxSubscriptions: config.realtimeMaxSubscriptions,
      heartbeatMs: config.realtimeHeartbeatMs,
      resumeWindowMs: config.realtimeResumeWindow * 1000,
      resumeMaxEvents: config.realtimeResumeMaxEvents,
      rate: config.realtimeRate,
      burst: config.realtimeBurst,
      maxBufferedBytes: config.realtimeMaxBuffered,
    },
    chat: chat.service,
    calls,
  });
  chat.attach(realtime);
  calls.attach(realtime);
  echo.attach(calls);

  let closing: Promise<void> | undefined;
  return {
    config,
    log,
    storage,
    bus,
    directory,
    audit,
    auth,
    gateway,
    presence,
    events,
    contacts,
    billing,
    telephony,
    trunkStatus,
    mailer,
    emergency: emergencyStore,
    realtime,
    chat,
    callRecords,
    callHistory,
    calls,
    echo,
    mediaEndpoint,
    devices,
    http,
    routes,
    registrations,
    registrar,
    get sip() {
      return sip;
    },
    get phoneCalls() {
      return phoneCalls;
    },
    get trunkOutbound() {
      return trunkOutbound;
    },
    get trunkInbound() {
      return trunkInbound;
    },
    phoneMedia,
    rtpengine,
    async listen() {
      const address = await http.listen({ port: config.port, host: config.host });
      // A SIP port already taken must stop the start, not leave a half-started server running.
      const tls =
        config.sipTlsPort < 0
          ? undefined
          : await sipTlsIdentity(
              {
                dataDir: config.dataDir,
                sipTlsCert: config.sipTlsCert,
                sipTlsKey: config.sipTlsKey,
                sipTlsCa: config.sipTlsCa,
                names: [config.sipAddress, config.host, 'localhost'],
              },
              log.child({ module: 'sip' }),
            ).catch(async (err: unknown) => {
              await http.close();
              throw err;
            });
      sip = await startSipListener({
        address: config.host,
        port: config.sipPort,
        advertisedAddress: config.sipAddress,
        log: log.child({ module: 'sip' }),
        isLocalDomain: async (domain) => (await directory.findTenantByDomain(domain)) !== null,
        isKnownUser: async (address) => (await directory.findUserRecordByAddress(address))?.enabled === 1,
        // Carriers are the test lookups' and every enabled trunk's allow-listed sources.
        peers: sipPeerPolicy(config, {
          ...sipPeers,
          carriers: {
            // ... and the registrars we are registered with (their calls to our contact, trunk-inbound.ts).
            isCarrier: (address, protocol) =>
              sipPeers.carriers.isCarrier(address, protocol) ||
              telephony.carrierBySource(address) !== undefined ||
              (trunkRegistrations?.isRegistrar(address) ?? false),
          },
        }),
        credentials: sipPeers.credentials,
        // phoneCalls is made just below, from this listener's user agent; nothing arrives before.
        phones: { invite: async (inv, who) => phoneCalls?.inviteFrom(inv, who) ?? inv.reject(503) },
        trunks: { invite: async (inv) => trunkInbound?.invite(inv) ?? inv.reject(503) },
        registration: {
          registrar,
          table: registrations,
          keepAliveMs: config.sipKeepAliveMs,
          keepAliveTimeoutMs: config.sipKeepAliveTimeoutMs,
        },
        limits: {
          transactions: config.sipTotalTransactions,
          transactionsHeld: config.sipTransactionsHeld,
          nonceMs: config.sipNonceMs,
          digestAlgorithms: config.sipDigestAlgorithms,
          tcpIdleMs: config.sipTcpIdleMs,
          tcpConnectionsPerSource: config.sipTcpPerSource,
        },
        ws: {
          port: (http.server.address() as { port: number }).port,
          secure: config.publicUrl.startsWith('https:'),
        },
        tls: tls && {
          port: config.sipTlsPort,
          cert: tls.cert,
          key: tls.key,
          connect: {
            ca: tls.ca,
            rejectUnauthorized: config.sipTlsVerify,
          },
        },
      }).catch(async (err: unknown) => {
        await http.close();
        throw err;
      });
      await rtpengine?.start();
      // The lookup answers { userId, address, displayName }; phones and trunk legs need the user only.
      const userByExtension = async (tenantId: string, ext: string) => {
        const u = await devices.lookup.userByExtension(tenantId, ext);
        return u && { userId: u.userId };
      };
      phoneCalls = new PhoneCalls({
        ua: sip.ua,
        control: calls,
        registrations,
        devices: {
          deviceByUsername: async (domain, username) =>
            (await sipDevices.deviceByUsername(domain, username)) ?? null,
          // A phone dialling an emergency number (999 in GB) calls it, even if someone has that extension.
          userByExtension: async (tenantId, ext) =>
            emergencyNumberOf(ext, await telephony.dialPlanCountry(trustedScope(tenantId)))
              ? null
              : userByExtension(tenantId, ext),
        },
        media: rtpengine ?? phoneMedia,
        webRtcOnDemand: rtpengine === null,
        refusalAnnouncement: refusalAnnouncement(prompts),
        isLocalDomain: async (domain) => (await directory.findTenantByDomain(domain)) !== null,
        // Asked before a phone's call is placed: no route taken (nothing authorised, nobody alerted).
        onNet: async (caller, typed) => (await trunkOutbound?.isOnNet(caller, typed)) === true,
        log: log.child({ module: 'phone-calls' }),
      });
      trunkOutbound = new TrunkOutbound({
        ua: sip.ua,
        control: calls,
        carriers: telephony,
        numbers: telephony,
        withholdsCallerId: (tenantId, userId) => telephony.withholdsCallerId(trustedScope(tenantId), userId),
        withholdPrefixes: config.withholdPrefixes,
        dialPlanCountry: (tenantId) => telephony.dialPlanCountry(trustedScope(tenantId)),
        userByExtension,
        media: rtpengine ?? phoneMedia,
        records: (callId, t) =>
          void callRecords
            .carrierLeg(callId, t)
            .catch((err: unknown) => log.warn({ err }, 'trunk leg record not stored')),
        localHost: config.sipAddress,
        sessionExpires: config.trunkSessionExpires,
        status: trunkStatus,
        failoverTimeoutS: config.trunkFailoverTimeout,
        resolver: new TrunkResolver({ servers: config.dnsServers, cacheS: config.trunkDnsCache }),
        phoneCaller: (callId) => phoneCalls?.callerOf(callId),
        credit: config.creditControl ? callCredit : undefined,
        costs: billing.decks,
        emergency: emergencyCalls,
        log: log.child({ module: 'trunk-outbound' }),
      });
      const registered = (trunkRegistrations = new TrunkRegistrations({
        ua: sip.ua,
        status: trunkStatus,
        localHost: `${config.sipAddress}:${sip.udpPort}`,
        retryMinS: config.trunkRegisterRetryMin,
        retryMaxS: config.trunkRegisterRetryMax,
        log: log.child({ module: 'trunk-registration' }),
      }));
      const health = (trunkHealth = new TrunkHealth({
        ua: sip.ua,
        status: trunkStatus,
        localHost: config.sipAddress,
        intervalS: config.trunkOptionsInterval,
        downAfter: config.trunkOptionsDownAfter,
        upAfter: config.trunkOptionsUpAfter,
        log: log.child({ module: 'trunk-health' }),
      }));
      telephony.onTrunks = (trunks) => {
        registered.sync(trunks);
        health.sync(trunks);
      };
      const trunks = await telephony.listTrunks();
      registered.sync(trunks);
      health.sync(trunks);
      const calledPhones = phoneCalls;
      trunkInbound = new TrunkInbound({
        carriers: telephony,
        registered,
        numbers: telephony,
        userEnabled: async (tenantId, userId) => {
          const u = await directory.findUserRecordById(userId);
          return u !== null && u.tenant_id === tenantId && u.enabled === 1;
        },
        dialPlanCountry: (tenantId) => telephony.dialPlanCountry(trustedScope(tenantId)),
        numberCountries: async (carrierId) =>
          countriesOf(
            (await telephony.listNumbers()).filter((n) => n.carrierId === carrierId).map((n) => n.number),
          ),
        control: calls,
        media: rtpengine ?? phoneMedia,
        records: callRecords,
        link: (callId, link) => calledPhones.link(callId, link),
        // The embedded driver's phone legs ignore the browser's offer; rtpengine pairs them with it.
        webRtcOnDemand: rtpengine === null,
        retryAfterS: config.sipRetryAfter,
        log: log.child({ module: 'trunk-inbound' }),
      });
      const sipWs = sip.ws;
      if (sipWs)
        gateway.serveUpgrades(SIP_WS_PATH, (req, socket, head) => sipWs.handleUpgrade(req, socket, head));
      const port = (http.server.address() as { port: number }).port;
      config.port = port;
      if (config.publicUrl.endsWith(':0')) config.publicUrl = config.publicUrl.replace(/:0$/, `:${port}`);
      return address;
    },
    close() {
      closing ??= (async () => {
        telephony.onTrunks = undefined;
        trunkHealth?.close();
        await trunkRegistrations?.close(); // unregisters (Expires: 0) while the SIP stack still runs
        await sip?.close();
        registrations.close();
        mailer.close();
        realtime.close();
        chat.close();
        // Before the sockets close: calls end `failed` for their devices, and their records are written.
        await calls.close();
        phoneCalls?.close();
        await echo.close();
        await rtpengine?.close();
        await phoneMedia.close();
        await mediaEndpoint.close();
        await gateway.close();
        presence.close();
        await presenceSettings.flush();
        const grace = setTimeout(() => http.server.closeAllConnections(), config.shutdownGrace * 1000);
        await http.close();
        clearTimeout(grace);
        stopBillingSweeper();
        await callRecords.close();
        await storage.close();
        folderLock.release();
      })();
      return closing;
    },
  };
}
