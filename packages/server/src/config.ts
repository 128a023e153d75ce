/**
 * Configuration: from the environment (PARLEY_*) and an optional JSON file (PARLEY_CONFIG_FILE), the
 * environment winning. Validated once at start; a bad value stops the process with a message naming it.
 * Every limit, throttle and timer is a setting so tests can make it short.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
/** Seconds, fractions allowed (tests make timers short: 0.5). */
const seconds = (def: number, min: number, max = 86_400) => z.coerce.number().min(min).max(max).default(def);
const urlList = (scheme: RegExp, what: string) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(scheme, `each must be a ${what} URL`)))
    .optional();

/** Each setting: its environment name, its schema and default, and what it does (for the README table). */
export const settings = {
  port: {
    env: 'PARLEY_PORT',
    schema: int(8080, 0, 65535),
    doc: 'HTTP and WebSocket port (0: any free port)',
  },
  host: {
    env: 'PARLEY_HOST',
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Address the HTTP server binds to',
  },
  dataDir: {
    env: 'PARLEY_DATA_DIR',
    schema: z.string().min(1).default('./data'),
    doc: 'Folder for the SQLite database and blobs',
  },
  databaseUrl: {
    env: 'PARLEY_DATABASE_URL',
    schema: z
      .string()
      .regex(/^(postgres(ql)?:\/\/|sqlite:)/, 'must start with postgres:// or sqlite:')
      .optional(),
    doc: 'Absent: SQLite in the data folder; postgres://user@host:port/db: PostgreSQL',
  },
  publicUrl: {
    env: 'PARLEY_PUBLIC_URL',
    schema: z.url().optional(),
    doc: 'URL users open (default http://HOST:PORT)',
  },
  logLevel: {
    env: 'PARLEY_LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    doc: 'Log level (pino)',
  },
  bodyLimit: {
    env: 'PARLEY_BODY_LIMIT',
    schema: int(1_048_576, 1024),
    doc: 'Largest HTTP request body, bytes',
  },
  httpHeadersTimeoutMs: {
    env: 'PARLEY_HTTP_HEADERS_TIMEOUT_MS',
    schema: int(10_000, 100),
    doc: 'A client must have sent its request headers within this, ms, or it gets 408 and is disconnected',
  },
  httpRequestTimeoutMs: {
    env: 'PARLEY_HTTP_REQUEST_TIMEOUT_MS',
    schema: int(30_000, 100),
    doc: 'A client must have sent its whole request (headers and body) within this, ms, or it gets 408 and is disconnected (not less than the headers timeout)',
  },
  httpIdleTimeoutMs: {
    env: 'PARLEY_HTTP_IDLE_TIMEOUT_MS',
    schema: int(5_000, 100),
    doc: 'A kept-alive HTTP connection with no request for this long is closed, ms',
  },
  httpMaxConnectionsPerAddress: {
    env: 'PARLEY_HTTP_MAX_CONNECTIONS_PER_ADDRESS',
    schema: int(128, 1),
    doc: 'Open HTTP and WebSocket connections one source address may hold (more are answered 429 and closed)',
  },
  httpMaxConnections: {
    env: 'PARLEY_HTTP_MAX_CONNECTIONS',
    schema: int(10_000, 1),
    doc: 'Open HTTP and WebSocket connections in all (more are answered 503 and closed)',
  },
  httpBodyBudget: {
    env: 'PARLEY_HTTP_BODY_BUDGET',
    schema: int(64 * 1024 * 1024, 1024),
    doc: 'Bytes of request bodies the server receives at once, process-wide (a body is counted at its declared length until its request ends; past this, 503)',
  },
  httpBodyBudgetPerAddress: {
    env: 'PARLEY_HTTP_BODY_BUDGET_PER_ADDRESS',
    schema: int(8 * 1024 * 1024, 1024),
    doc: 'Bytes of request bodies one source address may have in flight at once (past this, 429; a signed-in rate-deck import counts only against the process-wide budget)',
  },
  accessTokenTtl: {
    env: 'PARLEY_ACCESS_TOKEN_TTL',
    schema: int(900, 1),
    doc: 'Access token lifetime, seconds',
  },
  refreshTokenTtl: {
    env: 'PARLEY_REFRESH_TOKEN_TTL',
    schema: int(30 * 86400, 1),
    doc: 'Refresh session lifetime, seconds',
  },
  loginFreeFailures: {
    env: 'PARLEY_LOGIN_FREE_FAILURES',
    schema: int(3, 0),
    doc: 'Failed sign-ins one (account, source address) pair may make before each further one makes it wait',
  },
  loginDelayBaseMs: {
    env: 'PARLEY_LOGIN_DELAY_BASE_MS',
    schema: int(1000, 1),
    doc: 'First wait, ms, of an (account, source address) pair past its free failures; it doubles per failure (other addresses are not slowed)',
  },
  loginDelayMax: {
    env: 'PARLEY_LOGIN_DELAY_MAX',
    schema: int(900, 1),
    doc: 'Longest wait, seconds, between sign-in attempts of one (account, source address) pair',
  },
  loginMaxPerAddress: {
    env: 'PARLEY_LOGIN_MAX_PER_ADDRESS',
    schema: int(100, 1),
    doc: 'Failed sign-ins per source address per window, across all accounts (against password spraying)',
  },
  loginWindow: {
    env: 'PARLEY_LOGIN_WINDOW',
    schema: int(300, 1),
    doc: 'Sign-in throttle window, seconds: the per-address cap counts failures in it; a pair is forgotten after this long quiet',
  },
  sessionRecheck: {
    env: 'PARLEY_SESSION_RECHECK',
    schema: int(30, 1),
    doc: 'Seconds between re-checks of open connections against sessions changed by other processes',
  },
  presenceGraceMs: {
    env: 'PARLEY_PRESENCE_GRACE_MS',
    schema: int(15_000, 0),
    doc: "Milliseconds a departed device's presence lingers, so a reconnect does not flap the user to Offline",
  },
  realtimeHeartbeatMs: {
    env: 'PARLEY_REALTIME_HEARTBEAT_MS',
    schema: int(25_000, 100),
    doc: 'Realtime heartbeat interval, ms; a connection silent for twice this is dropped',
  },
  realtimeResumeWindow: {
    env: 'PARLEY_REALTIME_RESUME_WINDOW',
    schema: int(600, 0),
    doc: 'How old (seconds) the first missed durable event may be for a reconnecting client to resume; older, it refetches history',
  },
  realtimeResumeMaxEvents: {
    env: 'PARLEY_REALTIME_RESUME_MAX_EVENTS',
    schema: int(2000, 1),
    doc: 'Most durable events replayed on one resume',
  },
  realtimeMaxFrame: {
    env: 'PARLEY_REALTIME_MAX_FRAME',
    schema: int(65_536, 1024),
    doc: 'Largest realtime frame, bytes (larger get a coded error; 16 times larger close the connection)',
  },
  realtimeRate: {
    env: 'PARLEY_REALTIME_RATE',
    schema: int(20, 1),
    doc: 'Realtime frames per second a client may send, sustained',
  },
  realtimeBurst: {
    env: 'PARLEY_REALTIME_BURST',
    schema: int(60, 1),
    doc: 'Realtime frames a client may send in a burst before it is throttled',
  },
  realtimeMaxSubscriptions: {
    env: 'PARLEY_REALTIME_MAX_SUBSCRIPTIONS',
    schema: int(2000, 1),
    doc: 'Most users one realtime connection may watch',
  },
  realtimeMaxPerUser: {
    env: 'PARLEY_REALTIME_MAX_PER_USER',
    schema: int(32, 1),
    doc: 'Realtime connections one user may hold open on this server (more are refused with 429 too_many_connections)',
  },
  realtimeMaxBuffered: {
    env: 'PARLEY_REALTIME_MAX_BUFFERED',
    schema: int(4 * 1024 * 1024, 1024),
    doc: 'Unsent bytes one realtime connection may queue; a connection past this is a slow consumer and is dropped',
  },
  realtimeMaxQueued: {
    env: 'PARLEY_REALTIME_MAX_QUEUED',
    schema: int(256 * 1024 * 1024, 1024),
    doc: 'Unsent realtime bytes all connections of this server may queue together; past this the slowest consumers are dropped first',
  },
  eventRetention: {
    env: 'PARLEY_EVENT_RETENTION',
    schema: int(7 * 86400, 60),
    doc: "Seconds a user's durable events are kept",
  },
  shutdownGrace: {
    env: 'PARLEY_SHUTDOWN_GRACE',
    schema: int(10, 0),
    doc: 'Seconds to finish in-flight work on SIGTERM',
  },
  sipPort: {
    env: 'PARLEY_SIP_PORT',
    schema: int(5060, 0, 65535),
    doc: 'SIP port, UDP and TCP (0: any free port)',
  },
  sipAddress: {
    env: 'PARLEY_SIP_ADDRESS',
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Address advertised in SIP Via, Contact and SDP (configured, never learned from an interface)',
  },
  sipRate: {
    env: 'PARLEY_SIP_RATE',
    schema: int(50, 1),
    doc: 'SIP datagrams per second an unknown source address may send, sustained; the excess is dropped before parsing',
  },
  sipBurst: {
    env: 'PARLEY_SIP_BURST',
    schema: int(100, 1),
    doc: 'SIP datagrams an unknown source address may send in a burst',
  },
  sipMaxTransactions: {
    env: 'PARLEY_SIP_MAX_TRANSACTIONS',
    schema: int(200, 1),
    doc: 'SIP server transactions in progress per source address, unknown or device (more get 503)',
  },
  sipTotalTransactions: {
    env: 'PARLEY_SIP_TOTAL_TRANSACTIONS',
    schema: int(200_000, 1),
    doc: 'SIP server transactions in progress in all (more get 503)',
  },
  sipTransactionsHeld: {
    env: 'PARLEY_SIP_TRANSACTIONS_HELD',
    schema: int(1_000_000, 1),
    doc: 'SIP server transactions held in all, completed ones absorbing retransmissions included (a memory bound; more get 503)',
  },
  sipNonceMs: {
    env: 'PARLEY_SIP_NONCE_MS',
    schema: int(300_000, 1000),
    doc: 'How long a SIP digest nonce is accepted, ms (then the client is challenged again with stale=true)',
  },
  sipDeviceRate: {
    env: 'PARLEY_SIP_DEVICE_RATE',
    schema: int(200, 1),
    doc: 'SIP datagrams per second from a source that passed digest authentication (address, port, transport), sustained',
  },
  sipDeviceBurst: {
    env: 'PARLEY_SIP_DEVICE_BURST',
    schema: int(400, 1),
    doc: 'SIP datagrams an authenticated source may send in a burst',
  },
  sipDeviceTrustMs: {
    env: 'PARLEY_SIP_DEVICE_TRUST_MS',
    schema: int(3_600_000, 1),
    doc: 'How long a successful digest authentication keeps its source in the device class, ms (each success renews it)',
  },
  sipCarrierRate: {
    env: 'PARLEY_SIP_CARRIER_RATE',
    schema: int(500, 1),
    doc: 'New SIP requests per second one carrier address may send, sustained (more get 503 with Retry-After)',
  },
  sipCarrierBurst: {
    env: 'PARLEY_SIP_CARRIER_BURST',
    schema: int(1000, 1),
    doc: 'New SIP requests a carrier address may send in a burst',
  },
  sipCarrierTransactions: {
    env: 'PARLEY_SIP_CARRIER_TRANSACTIONS',
    schema: int(2000, 1),
    doc: 'SIP server transactions in progress per carrier address (more get 503 with Retry-After)',
  },
  sipRetryAfter: {
    env: 'PARLEY_SIP_RETRY_AFTER',
    schema: int(5, 1),
    doc: 'Retry-After seconds on a SIP 503 for being over a limit',
  },
  sipAuthFailures: {
    env: 'PARLEY_SIP_AUTH_FAILURES',
    schema: int(10, 1),
    doc: 'Failed SIP digest authentications from one address, within PARLEY_SIP_AUTH_WINDOW_MS, that block it',
  },
  sipAuthWindowMs: {
    env: 'PARLEY_SIP_AUTH_WINDOW_MS',
    schema: int(60_000, 1),
    doc: 'Window in which failed SIP authentications are counted, ms',
  },
  sipBlockMs: {
    env: 'PARLEY_SIP_BLOCK_MS',
    schema: int(600_000, 1),
    doc: 'How long a blocked SIP source address is dropped before parsing, ms',
  },
  sipTcpIdleMs: {
    env: 'PARLEY_SIP_TCP_IDLE_MS',
    schema: int(60_000, 100),
    doc: 'Idle SIP TCP connections are closed after this, ms',
  },
  sipTcpPerSource: {
    env: 'PARLEY_SIP_TCP_PER_SOURCE',
    schema: int(50, 1),
    doc: 'SIP TCP connections per source address',
  },
  sipDigestAlgorithms: {
    env: 'PARLEY_SIP_DIGEST_ALGORITHMS',
    schema: z
      .string()
      .default('SHA-256,MD5')
      .transform((v) => v.split(',').map((a) => a.trim().toUpperCase()))
      .pipe(z.array(z.enum(['SHA-256', 'MD5'])).min(1)),
    doc: 'Digest algorithms SIP challenges offer, most preferred first (RFC 8760); MD5 alone for phones that give up on any challenge they cannot answer, wherever it is in the list (baresip 1.0 on libre 1.x fails a REGISTER with ENOSYS if one is SHA-256)',
  },
  sipRegisterMinExpires: {
    env: 'PARLEY_SIP_REGISTER_MIN_EXPIRES',
    schema: int(60, 1),
    doc: 'Shortest SIP registration accepted, s (a shorter non-zero one gets 423 Interval Too Brief with Min-Expires)',
  },
  sipRegisterMaxExpires: {
    env: 'PARLEY_SIP_REGISTER_MAX_EXPIRES',
    schema: int(3600, 1),
    doc: 'Longest SIP registration granted, s (a longer one is shortened to it in the 200)',
  },
  sipRegisterDefaultExpires: {
    env: 'PARLEY_SIP_REGISTER_DEFAULT_EXPIRES',
    schema: int(3600, 1),
    doc: 'SIP registration length when a REGISTER asks for none, s',
  },
  sipRegisterMaxContacts: {
    env: 'PARLEY_SIP_REGISTER_MAX_CONTACTS',
    schema: int(10, 1),
    doc: 'Contacts one SIP device may have registered at once (beyond: 403)',
  },
  sipKeepAliveMs: {
    env: 'PARLEY_SIP_KEEPALIVE_MS',
    schema: int(25_000, 0),
    doc: 'Between OPTIONS keep-alives to each registered contact, ms (0: none); one that does not answer is removed',
  },
  sipKeepAliveTimeoutMs: {
    env: 'PARLEY_SIP_KEEPALIVE_TIMEOUT_MS',
    schema: int(10_000, 10),
    doc: 'How long an OPTIONS keep-alive waits for the contact to answer, ms',
  },
  sipTlsPort: {
    env: 'PARLEY_SIP_TLS_PORT',
    schema: z.coerce.number().int().min(-1).max(65535).default(5061),
    doc: 'SIP over TLS (SIPS) port (0: any free port, -1: no TLS); same limits as TCP',
  },
  sipTlsCert: {
    env: 'PARLEY_SIP_TLS_CERT',
    schema: z.string().min(1).optional(),
    doc: 'PEM certificate (chain) file for SIP over TLS; absent: a self-signed one is generated into the data folder (`sip-tls/`, logged as such) and kept',
  },
  sipTlsKey: {
    env: 'PARLEY_SIP_TLS_KEY',
    schema: z.string().min(1).optional(),
    doc: 'PEM private key file of `PARLEY_SIP_TLS_CERT` (both or neither)',
  },
  sipTlsCa: {
    env: 'PARLEY_SIP_TLS_CA',
    schema: z.string().min(1).optional(),
    doc: 'PEM file of the certificates trusted when Parley opens a SIP TLS connection (absent: the system CAs)',
  },
  sipTlsVerify: {
    env: 'PARLEY_SIP_TLS_VERIFY',
    schema: z.union([z.boolean(), z.stringbool()]).default(true),
    doc: 'Check the certificate of a peer Parley opens a SIP TLS connection to (it must name the IP address)',
  },
  sipDevicesPerUser: {
    env: 'PARLEY_SIP_DEVICES_PER_USER',
    schema: int(10, 1, 1000),
    doc: 'SIP devices (desk phones, softphones) one user may have; adding one more is refused `limit_exceeded`',
  },
  billingSliceSeconds: {
    env: 'PARLEY_BILLING_SLICE_SECONDS',
    schema: int(300, 1),
    doc: 'Seconds of call credit control reserves at a time (the call asks for the next slice before its grant runs out)',
  },
  billingReservationGrace: {
    env: 'PARLEY_BILLING_RESERVATION_GRACE',
    schema: int(180, 0),
    doc: "Seconds a credit-control reservation outlives its call's last sign of life (authorisation, keepalive, renewal) before it expires and is released; the call side keeps it alive well within this, ringing included",
  },
  creditControl: {
    env: 'PARLEY_CREDIT_CONTROL',
    schema: z.union([z.boolean(), z.stringbool()]).default(true),
    doc: 'Calls to phone numbers are authorised, cut at their grant and rated by credit control; false: neither (a PBX whose calls are paid for elsewhere; emergency calls are free either way)',
  },
  billingRenewBefore: {
    env: 'PARLEY_BILLING_RENEW_BEFORE',
    schema: int(30, 0),
    doc: "Seconds before a call's grant runs out that the call asks credit control for its next slice",
  },
  billingCutWarning: {
    env: 'PARLEY_BILLING_CUT_WARNING',
    schema: int(10, 0),
    doc: 'Seconds before a call whose credit ran out is cut that the caller hears the warning tone (three short beeps); 0: at the cut',
  },
  billingKeepalive: {
    env: 'PARLEY_BILLING_KEEPALIVE',
    schema: int(60, 1),
    doc: "Seconds between a call's keepalives of its credit-control reservation (ringing or answered); keep it well within PARLEY_BILLING_RESERVATION_GRACE",
  },
  billingMaxCallSeconds: {
    env: 'PARLEY_BILLING_MAX_CALL_SECONDS',
    schema: int(4 * 3600, 1),
    doc: 'Longest call credit control grants, seconds (caps free and wholly-included calls)',
  },
  billingSweepInterval: {
    env: 'PARLEY_BILLING_SWEEP_INTERVAL',
    schema: int(30, 1),
    doc: 'Seconds between sweeps releasing expired credit-control reservations',
  },
  billingIdempotencyHours: {
    env: 'PARLEY_BILLING_IDEMPOTENCY_HOURS',
    schema: int(24, 24),
    doc: 'Hours an Idempotency-Key of a money-moving request is remembered per tenant (a retry within them answers the first result; at least 24)',
  },
  billingDeckRefreshMs: {
    env: 'PARLEY_BILLING_DECK_REFRESH_MS',
    schema: int(1000, 0),
    doc: 'How often, ms, the rate-deck catalogue looks for versions imported by other processes',
  },
  deckMaxBytes: {
    env: 'PARLEY_DECK_MAX_BYTES',
    schema: int(32 * 1024 * 1024, 1024),
    doc: 'Largest rate-deck import request body, bytes (the import route only; others keep PARLEY_BODY_LIMIT)',
  },
  chatMaxMembers: {
    env: 'PARLEY_CHAT_MAX_MEMBERS',
    schema: int(1000, 2),
    doc: 'Most members of one chat conversation',
  },
  chatMaxMessageBytes: {
    env: 'PARLEY_CHAT_MAX_MESSAGE_BYTES',
    schema: int(16_384, 16),
    doc: 'Largest chat message text, UTF-8 bytes (larger: 413)',
  },
  chatSendRate: {
    env: 'PARLEY_CHAT_SEND_RATE',
    schema: int(10, 1),
    doc: 'Chat messages per second one user may send, sustained (then 429)',
  },
  chatSendBurst: {
    env: 'PARLEY_CHAT_SEND_BURST',
    schema: int(50, 1),
    doc: 'Chat messages one user may send in a burst',
  },
  chatTypingTtlMs: {
    env: 'PARLEY_CHAT_TYPING_TTL_MS',
    schema: int(6000, 100),
    doc: 'How long a typing indicator shows without a repeat, ms: then the server pushes "stopped" itself (clients repeat it while typing)',
  },
  chatResumeMarginMs: {
    env: 'PARLEY_CHAT_RESUME_MARGIN_MS',
    schema: int(5000, 0),
    doc: 'How far before the resume cursor a reconnecting client is told of changed conversations, ms (covers commit order and clock skew between nodes)',
  },
  chatOrderWaitMs: {
    env: 'PARLEY_CHAT_ORDER_WAIT_MS',
    schema: int(500, 0, 60_000),
    doc: 'How long a new chat message waits for an earlier one of its conversation before it is pushed anyway, ms (concurrent sends commit in order but their events may arrive out of order)',
  },
  callRecordAliveMs: {
    env: 'PARLEY_CALL_RECORD_ALIVE_MS',
    schema: int(5000, 10, 600_000),
    doc: 'While calls are open, how often their records note that they are still alive, ms (one UPDATE for all): a crash leaves each call ended at its last such time, at most this much shorter than it was',
  },
  callRingTimeout: {
    env: 'PARLEY_CALL_RING_TIMEOUT',
    schema: seconds(30, 0.05),
    doc: 'Seconds a call rings unanswered before it ends as `no_answer` (a missed call); fractions allowed',
  },
  callLostGrace: {
    env: 'PARLEY_CALL_LOST_GRACE',
    schema: seconds(20, 0),
    doc: 'Seconds a device that vanished mid-call keeps its place (it may reconnect and restart ICE); then the call ends as `lost`',
  },
  callMaxPerUser: {
    env: 'PARLEY_CALL_MAX_PER_USER',
    schema: int(4, 1, 100),
    doc: 'Calls (placed, ringing or connected) one user may take part in at once: the caller past it is refused `limit_exceeded`, a callee at it gets `busy`',
  },
  trunkSessionExpires: {
    env: 'PARLEY_TRUNK_SESSION_EXPIRES',
    schema: int(1800, 90, 86_400),
    doc: 'Session timer asked for on calls out through a carrier (RFC 4028 Session-Expires, seconds; Min-SE 90): the carrier may shorten it; whichever side refreshes sends a re-INVITE or UPDATE every half interval, and a call whose refreshes stop is ended with BYE',
  },
  trunkOptionsInterval: {
    env: 'PARLEY_TRUNK_OPTIONS_INTERVAL',
    schema: seconds(30, 0.05, 3600),
    doc: 'Seconds between OPTIONS pings to each address of a carrier whose health check is on (0.05 and up; tests make it short)',
  },
  trunkOptionsDownAfter: {
    env: 'PARLEY_TRUNK_OPTIONS_DOWN_AFTER',
    schema: int(3, 1, 100),
    doc: 'Failed OPTIONS pings in a row (no answer within the interval, 408, 503 or a transport error; any other answer, even 404, means alive) that mark a carrier address down; a down address is not offered calls',
  },
  trunkOptionsUpAfter: {
    env: 'PARLEY_TRUNK_OPTIONS_UP_AFTER',
    schema: int(2, 1, 100),
    doc: 'Answered OPTIONS pings in a row that mark a down carrier address up again (the hysteresis against flapping)',
  },
  trunkRegisterRetryMin: {
    env: 'PARLEY_TRUNK_REGISTER_RETRY_MIN',
    schema: seconds(5, 0.05, 3600),
    doc: "Seconds before the first retry of a registration trunk's failed REGISTER; each further failure doubles it (with jitter) up to PARLEY_TRUNK_REGISTER_RETRY_MAX",
  },
  trunkRegisterRetryMax: {
    env: 'PARLEY_TRUNK_REGISTER_RETRY_MAX',
    schema: seconds(300, 0.05, 86_400),
    doc: "Most seconds between retries of a registration trunk's failed REGISTER",
  },
  trunkFailoverTimeout: {
    env: 'PARLEY_TRUNK_FAILOVER_TIMEOUT',
    schema: seconds(4, 0.05, 60),
    doc: "Seconds a carrier address has to answer an INVITE with anything (even 100 Trying) before the call is tried on the carrier's next address",
  },
  dnsServers: {
    env: 'PARLEY_DNS_SERVERS',
    schema: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      ),
    doc: "DNS servers (`host:port`, comma-separated) that resolve carrier addresses given as names (SRV, then A); empty: the system's",
  },
  trunkDnsCache: {
    env: 'PARLEY_TRUNK_DNS_CACHE',
    schema: seconds(30, 0, 3600),
    doc: "Seconds a carrier address's DNS answer is kept before it is looked up again",
  },
  withholdPrefixes: {
    env: 'PARLEY_WITHHOLD_PREFIXES',
    schema: z
      .string()
      .default('*67,141')
      .transform((s) =>
        s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[*#0-9]{1,6}$/, 'each a dial prefix of *, # and digits'))),
    doc: "Dial prefixes that withhold the caller's number for one call (`*67` North America, `141` UK): the prefix is removed and the call goes out with `Privacy: id`",
  },
  smtpUrl: {
    env: 'PARLEY_SMTP_URL',
    schema: z
      .string()
      .regex(/^smtps?:\/\//, 'smtp://[user:pass@]host:port or smtps://...')
      .optional(),
    doc: 'Where the server sends mail: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://` (TLS from the start); unset: no mail, and the admin screens say so',
  },
  mailFrom: {
    env: 'PARLEY_MAIL_FROM',
    schema: z.string().min(3).default('Parley <parley@localhost>'),
    doc: 'The From address of mail the server sends',
  },
  mailTimeout: {
    env: 'PARLEY_MAIL_TIMEOUT',
    schema: seconds(15, 0.05, 300),
    doc: 'Seconds one mail attempt may take (connect, greeting, sending) before it counts as failed; fractions allowed',
  },
  mailRetries: {
    env: 'PARLEY_MAIL_RETRIES',
    schema: z.coerce.number().int().min(0).max(10).default(2),
    doc: 'Further attempts after a mail fails for a passing reason (server down, timeout, 4xx); a refused recipient (5xx) is not retried',
  },
  echoRecordSeconds: {
    env: 'PARLEY_ECHO_RECORD_SECONDS',
    schema: seconds(10, 0.5, 60),
    doc: 'Seconds the echo test (Parley Echo) records the caller before playing it back; fractions allowed',
  },
  mediaAddress: {
    env: 'PARLEY_MEDIA_ADDRESS',
    schema: z.string().min(1).default('127.0.0.1'),
    doc: "The address the server's own media endpoints bind and advertise (the echo test and browsers' legs in ICE, phones' RTP legs in SDP): a concrete address the callers reach, not 0.0.0.0",
  },
  mediaTimeout: {
    env: 'PARLEY_MEDIA_TIMEOUT',
    schema: seconds(30, 0, 3600),
    doc: "Seconds without media from a phone's RTP leg before its call ends as `media_timeout` (a phone that lost power or its network); 0: never; fractions allowed",
  },
  media: {
    env: 'PARLEY_MEDIA',
    schema: z.enum(['embedded', 'rtpengine']).default('embedded'),
    doc: 'Which media driver carries phone calls: `embedded` (the werift bridge in this process) or `rtpengine` (the nodes of `PARLEY_RTPENGINE_NG`, falling back to embedded while none answers)',
  },
  rtpengineNg: {
    env: 'PARLEY_RTPENGINE_NG',
    schema: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[^\s,]+:\d{1,5}$/, 'each must be host:port')))
      .default([]),
    doc: "rtpengine nodes' `ng` control addresses, comma-separated `host:port` (their `--listen-ng`); used when `PARLEY_MEDIA=rtpengine`",
  },
  rtpengineTimeoutMs: {
    env: 'PARLEY_RTPENGINE_TIMEOUT_MS',
    schema: int(1000, 10, 60_000),
    doc: 'How long one `ng` request to rtpengine waits for its reply before it is resent (same cookie), ms',
  },
  rtpengineRetries: {
    env: 'PARLEY_RTPENGINE_RETRIES',
    schema: int(2, 0, 10),
    doc: 'Resends of an unanswered `ng` request before the node is marked down',
  },
  rtpenginePing: {
    env: 'PARLEY_RTPENGINE_PING',
    schema: seconds(5, 0.05, 3600),
    doc: 'Seconds between health pings to each rtpengine node: one that stops answering is marked down (its calls end as `failed`, new calls go to another node or the embedded driver) and up again once it answers',
  },
  rtpengineTranscode: {
    env: 'PARLEY_RTPENGINE_TRANSCODE',
    schema: z.union([z.boolean(), z.stringbool()]).default(true),
    doc: "Let rtpengine transcode when a call's two sides share no G.711 (a browser offering Opus alone, a phone G.711 alone): its `codec-transcode` offer (Debian's build has Opus, G.722, G.711); false (a build without codecs): such a call is refused (`no_common_codec`) and the phone is not rung",
  },
  rtpengineDtmf: {
    env: 'PARLEY_RTPENGINE_DTMF',
    schema: z
      .string()
      .regex(/^[^\s,]+:\d{1,5}$/, 'must be host:port')
      .optional(),
    doc: "Where the server listens for rtpengine's DTMF events (`host:port`, the nodes' `--dtmf-log-dest`): a phone's key presses reach the browser as they do on the embedded driver; absent: no key presses from rtpengine calls",
  },
  turnSecret: {
    env: 'PARLEY_TURN_SECRET',
    schema: z.string().min(1).optional(),
    doc: "Shared secret of the TURN server (coturn's `static-auth-secret`, `use-auth-secret`); absent: no TURN credentials are handed out",
  },
  turnUrls: {
    env: 'PARLEY_TURN_URLS',
    schema: urlList(/^turns?:[^\s,]+$/, 'turn: or turns:'),
    doc: 'Comma-separated TURN URLs handed to clients with their credentials (`turn:host:3478?transport=udp,turns:host:5349`)',
  },
  turnTtl: {
    env: 'PARLEY_TURN_TTL',
    schema: int(86_400, 60),
    doc: 'Seconds TURN credentials stay valid (clients fetch new ones before)',
  },
  stunUrls: {
    env: 'PARLEY_STUN_URLS',
    schema: urlList(/^stuns?:[^\s,]+$/, 'stun: or stuns:'),
    doc: 'Comma-separated STUN URLs handed to clients (optional; a TURN server also answers STUN)',
  },
  webDir: {
    env: 'PARLEY_WEB_DIR',
    schema: z.string().min(1).optional(),
    doc: 'Folder of the built web app served at / (default: packages/web/dist of this installation)',
  },
  webBuild: {
    env: 'PARLEY_WEB_BUILD',
    schema: z.enum(['auto', 'never']).default('auto'),
    doc: '`auto`: `parley serve` builds the web app first when its build is missing or older than its sources; `never`: serve what is there',
  },
  fileMaxBytes: {
    env: 'PARLEY_FILE_MAX_BYTES',
    schema: int(100 * 1024 * 1024, 1),
    doc: 'Largest uploaded chat file, bytes (larger: 413)',
  },
  fileThumbnailMaxPixels: {
    env: 'PARLEY_FILE_THUMBNAIL_MAX_PIXELS',
    schema: int(40_000_000, 1),
    doc: 'Largest image (width x height, read from its header before decoding) an uploaded file gets a thumbnail of; larger: image_too_large (decompression bombs cost nothing)',
  },
  fileThumbnailSize: {
    env: 'PARLEY_FILE_THUMBNAIL_SIZE',
    schema: int(320, 16),
    doc: "Longest side of an uploaded image's thumbnail, px",
  },
} as const;

type Settings = typeof settings;
export type Config = { -readonly [K in keyof Settings]: z.output<Settings[K]['schema']> } & {
  publicUrl: string;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the configuration. `overrides` (used by tests and the CLI) win over the environment, which wins
 * over the file.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<keyof Settings, unknown>> = {},
): Config {
  let file: Record<string, unknown> = {};
  if (env.PARLEY_CONFIG_FILE) {
    try {
      file = JSON.parse(readFileSync(env.PARLEY_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError([
        `PARLEY_CONFIG_FILE: cannot read ${env.PARLEY_CONFIG_FILE}: ${(err as Error).message}`,
      ]);
    }
  }
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(settings)) {
    const raw =
      key in overrides ? overrides[key as keyof Settings] : (env[s.env] ?? file[s.env] ?? file[key]);
    const value = raw === '' ? undefined : raw;
    const r = (s.schema as z.ZodType).safeParse(value);
    if (r.success) out[key] = r.data;
    else
      problems.push(`${s.env}=${JSON.stringify(value)}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (!problems.length) {
    const c = out as Config;
    // Node refuses a request timeout shorter than the headers timeout; and a body the server allows must fit.
    if (c.httpRequestTimeoutMs < c.httpHeadersTimeoutMs)
      problems.push(
        `PARLEY_HTTP_REQUEST_TIMEOUT_MS=${c.httpRequestTimeoutMs}: must not be less than PARLEY_HTTP_HEADERS_TIMEOUT_MS (${c.httpHeadersTimeoutMs})`,
      );
    for (const [name, limit] of [
      ['PARLEY_BODY_LIMIT', c.bodyLimit],
      ['PARLEY_DECK_MAX_BYTES', c.deckMaxBytes],
    ] as const)
      if (c.httpBodyBudget < limit)
        problems.push(`PARLEY_HTTP_BODY_BUDGET=${c.httpBodyBudget}: must be at least ${name} (${limit})`);
    if (c.httpBodyBudgetPerAddress < c.bodyLimit)
      problems.push(
        `PARLEY_HTTP_BODY_BUDGET_PER_ADDRESS=${c.httpBodyBudgetPerAddress}: must be at least PARLEY_BODY_LIMIT (${c.bodyLimit})`,
      );
  }
  if (!problems.length && (out.sipTlsCert === undefined) !== (out.sipTlsKey === undefined))
    problems.push('PARLEY_SIP_TLS_CERT and PARLEY_SIP_TLS_KEY: give both or neither');
  if (problems.length) throw new ConfigError(problems);
  const cfg = out as Config;
  cfg.dataDir = resolve(cfg.dataDir);
  if (cfg.webDir) cfg.webDir = resolve(cfg.webDir);
  cfg.publicUrl ??= `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`;
  return cfg;
}
