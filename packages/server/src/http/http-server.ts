/**
 * The HTTP edge: Fastify with every route of the table dispatched through one function that
 * authenticates, checks the role, scopes to the tenant, validates input and output with the route's
 * schemas, and turns every failure into `{"error":{"code","message"}}`.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import { z } from 'zod';
import type { Logger } from 'pino';
import { ParleyError, type ErrorCode } from '@parley/protocol';
import type { AuthService } from '../auth/auth-service.ts';
import { hasRole, type Principal } from '../auth/principal.ts';
import { trustedScope, type TenantScope } from '../directory/scope.ts';
import { IDEMPOTENCY_KEY, type AnyRoute } from './route.ts';
import { parseJsonBody } from './json-body.ts';
import { storageFullCause, storageFullError, type StorageHealth } from '../storage/storage-full.ts';
import { BodyBudget, capConnections, refuseRaw, sourceAddress, type EdgeLimits } from './edge-limits.ts';

export interface HttpOptions extends EdgeLimits {
  /** Told of storage-full errors that did not come through the query layer (raw SQLite statements). */
  storageHealth: StorageHealth;
  bodyLimit: number;
  logger: Logger;
  /** Time for a client to send its request headers, ms. */
  headersTimeoutMs: number;
  /** Time for a client to send its whole request, headers and body, ms (at least `headersTimeoutMs`). */
  requestTimeoutMs: number;
  /** Time a kept-alive connection may wait for its next request, ms. */
  idleTimeoutMs: number;
}

/** Fastify's own error codes for body handling, mapped to ours. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

export function sendError(reply: FastifyReply, err: ParleyError): FastifyReply {
  if (err.retryAfter) void reply.header('retry-after', String(err.retryAfter));
  return reply.status(err.status).send(err.toBody());
}

export function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h && /^bearer /i.test(h)) return h.slice(7).trim();
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? key : null;
}

function validation(where: string, error: z.ZodError): ParleyError {
  const issue = error.issues[0]!;
  const field = [where, ...issue.path.map(String)].filter(Boolean).join('.');
  const msg =
    issue.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.map((k) => `${field ? field + '.' : ''}${k}`).join(', ')}`
      : `${field}: ${issue.message}`;
  return new ParleyError('validation_failed', msg, {
    field: issue.code === 'unrecognized_keys' ? `${field ? field + '.' : ''}${issue.keys[0]}` : field,
  });
}

function parse<S extends z.ZodType>(
  schema: S | undefined,
  value: unknown,
  where: string,
): z.output<S> | undefined {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!r.success) throw validation(where, r.error);
  return r.data;
}

/** The longest path segment a route parameter takes (fastify's default); a longer one is 414. */
export const MAX_PATH_SEGMENT = 100;

/** The 414 a path segment longer than any id gets, whichever route (or the app's wildcard) saw it. */
export function uriTooLong(): ParleyError {
  return new ParleyError('uri_too_long', 'a path segment is longer than any id this API uses');
}

export function buildHttp(routes: AnyRoute[], auth: AuthService, opts: HttpOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    trustProxy: false,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT },
    forceCloseConnections: 'idle',
    // Router refusals (a path segment past maxParamLength, a malformed URL) in the API's error shape.
    frameworkErrors: (err, _req, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void sendError(reply, tooLong ? uriTooLong() : new ParleyError('bad_request', 'the URL is not valid'));
    },
    // Slow clients: Node ends a request whose headers or whole request take too long (408), checking
    // every few hundred ms rather than its default 30 s so the timeouts hold to within that.
    http: {
      headersTimeout: opts.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(opts.headersTimeoutMs / 4))),
    },
    requestTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: opts.idleTimeoutMs,
    // A socket silent both ways for the request timeout is gone (a WebSocket clears this on upgrade).
    connectionTimeout: opts.requestTimeoutMs,
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const [parleyErr, reason] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [new ParleyError('request_timeout', 'the request did not arrive in time'), 'Request Timeout']
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? [
                new ParleyError('headers_too_large', 'the request line and headers are too large'),
                'Request Header Fields Too Large',
              ]
            : [new ParleyError('bad_request', 'the request is not valid HTTP/1.1'), 'Bad Request'];
      refuseRaw(socket, parleyErr, reason);
    },
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  capConnections(app.server, opts);
  const bodies = new BodyBudget(opts);
  // Counts each unfinished body against the budgets from its headers until its request ends. Routes
  // with their own body limit admit the caller first and draw on the process-wide budget only.
  app.addHook('onRequest', async (req, reply) => {
    const length = Number(req.headers['content-length'] ?? 0);
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!(length > 0) && !chunked) return;
    const limit = req.routeOptions.bodyLimit ?? opts.bodyLimit;
    if (length > limit) return; // refused as payload_too_large before it is read
    const config = req.routeOptions.config as { ownBodyLimit?: boolean; streamed?: boolean } | undefined;
    if (config?.streamed) return; // streamed to disk by its handler, never held in memory
    const ownLimit = config?.ownBodyLimit;
    try {
      const release = bodies.reserve(sourceAddress(req.socket), chunked ? limit : length, !ownLimit);
      reply.raw.once('close', release);
    } catch (err) {
      // The body is never read: the connection closes after the answer.
      void reply.header('connection', 'close');
      throw err;
    }
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof ParleyError) return sendError(reply, err);
    const mapped = err.code ? fastifyCodes[err.code] : undefined;
    if (mapped) return sendError(reply, new ParleyError(mapped, err.message));
    const full = storageFullCause(err);
    if (full) {
      opts.storageHealth.refused(full, err);
      return sendError(reply, storageFullError(err));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(
        reply,
        new ParleyError(err.statusCode === 413 ? 'payload_too_large' : 'bad_request', err.message),
      );
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, new ParleyError('internal', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new ParleyError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );

  /** Authenticates a request and checks the route's role; null on public routes. */
  const admit = async (req: FastifyRequest, route: AnyRoute): Promise<Principal | null> => {
    if (route.access === 'public') return null;
    const credential = bearer(req);
    if (!credential)
      throw new ParleyError('unauthorized', 'sign in first: send Authorization: Bearer <access token>');
    const principal = await auth.authenticate(credential);
    if (!hasRole(principal, route.access))
      throw new ParleyError('forbidden', `this needs the ${route.access} role`);
    return principal;
  };
  /** Principals admitted before their (large) body was read, for routes with their own body limit. */
  const early = new WeakMap<FastifyRequest, Principal | null>();

  for (const route of routes) {
    const spec: RouteOptions = {
      method: route.method,
      url: route.url,
      ...(route.rawBody && { config: { streamed: true } }),
      ...(route.bodyLimit !== undefined && {
        bodyLimit: route.bodyLimit,
        config: { ownBodyLimit: true },
        // Only a caller allowed on the route gets to send it megabytes.
        onRequest: async (req: FastifyRequest) => {
          early.set(req, await admit(req, route));
        },
      }),
      handler: async (req, reply) => {
        const principal = early.has(req) ? (early.get(req) ?? null) : await admit(req, route);
        const params = parse(route.params, req.params, 'params');
        const query = parse(route.query, req.query, 'query');
        const body = route.rawBody ? req.body : route.body ? parse(route.body, req.body, 'body') : undefined;
        if (
          !route.body &&
          !route.rawBody &&
          req.body !== undefined &&
          req.body !== null &&
          req.method !== 'GET' &&
          req.method !== 'DELETE'
        ) {
          if (typeof req.body !== 'object' || Object.keys(req.body as object).length > 0) {
            throw new ParleyError('validation_failed', 'this request takes no body', { field: 'body' });
          }
        }
        const idempotencyKey = route.idempotent ? idempotencyKeyOf(req) : null;
        // Operators act across tenants through operator routes only; everything else is the caller's tenant.
        const scope: TenantScope = trustedScope(principal?.tenantId ?? '');
        const result = await route.handler({
          params,
          query,
          body,
          principal,
          scope,
          actor: {
            id: principal?.id ?? null,
            address: principal?.address ?? (principal ? `api-key:${principal.id}` : null),
            sourceAddress: req.ip,
          },
          client: { sourceAddress: req.ip, userAgent: req.headers['user-agent'] ?? null },
          idempotencyKey,
          reply,
        });
        if (route.rawReply) return reply;
        // A handler may choose another status (health answers 503 when the database is down).
        const status = reply.statusCode !== 200 ? reply.statusCode : (route.status ?? 200);
        if (status === 204) return reply.status(204).send();
        return reply.status(status).send(route.response.parse(result));
      },
    };
    if (!route.rawBody) app.route(spec);
    else
      // Its own context, where every content type reaches the handler as the unread stream.
      void app.register(async (streaming) => {
        streaming.removeAllContentTypeParsers();
        streaming.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
        streaming.route(spec);
      });
  }
  return app;
}

/** The Idempotency-Key of a money-moving request: required, one value, visible ASCII. */
function idempotencyKeyOf(req: FastifyRequest): string {
  const v = req.headers['idempotency-key'];
  if (typeof v !== 'string' || !IDEMPOTENCY_KEY.test(v))
    throw new ParleyError(
      'idempotency_key_required',
      'this request moves money: send an Idempotency-Key header (1-200 visible ASCII characters, such as a UUID), the same on every retry',
      { field: 'headers.idempotency-key' },
    );
  return v;
}
