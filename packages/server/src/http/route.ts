/**
 * The route table. Every HTTP route is declared once with its role, its schemas (used both to validate
 * and to publish OpenAPI) and, for each id in its path, the kind of tenant-owned resource it names (the
 * tenant-wall tests are generated from these declarations). Tenant scoping happens in one place: the
 * dispatcher gives tenant routes a TenantScope made from the authenticated principal; handlers pass it to
 * repositories, which cannot be called without one.
 */
import type { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { Role } from '@parley/protocol';
import type { ClientInfo, Principal } from '../auth/principal.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { Actor } from '../audit/audit-log.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * `public`: no credentials. `user`/`admin`: a tenant's user or tenant admin, scoped to their tenant.
 * `operator`: the platform operator, across tenants.
 */
export type Access = 'public' | Role;

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Null only on public routes. */
  principal: Principal | null;
  /** The caller's tenant; present on `user` and `admin` routes. */
  scope: TenantScope;
  actor: Actor;
  client: ClientInfo;
  /** The request's Idempotency-Key header; always set on routes declared `idempotent`. */
  idempotencyKey: string | null;
  reply: FastifyReply;
}

export interface RouteSpec<
  PS extends z.ZodType | undefined,
  QS extends z.ZodType | undefined,
  BS extends z.ZodType | undefined,
  RS extends z.ZodType,
> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  access: Access;
  params?: PS;
  query?: QS;
  body?: BS;
  response: RS;
  /** Success status (default 200; 201 for creations, 204 with z.void()). */
  status?: number;
  /**
   * Largest request body for this route, bytes, when it must differ from the server's (PARLEY_BODY_LIMIT):
   * a rate-deck import is megabytes. Such a route authenticates before its body is read.
   */
  bodyLimit?: number;
  /**
   * The route moves money: it requires an `Idempotency-Key` header (1-200 visible ASCII characters;
   * missing or malformed is `idempotency_key_required`), handed to the handler, which answers a retry
   * with the first result.
   */
  idempotent?: boolean;
  /**
   * The handler reads the request body itself as a stream (`body` is the Node Readable, or undefined
   * when none was sent): nothing is buffered, and the handler enforces its own size limit (file uploads).
   */
  rawBody?: true;
  /** The handler sends the reply itself (a file download streamed from disk) and returns the reply. */
  rawReply?: true;
  /** For each `:param` in the url: the kind of tenant-owned resource it names ('user', 'api_key', ...). */
  resources?: Record<string, string>;
  /**
   * An example request body: published in OpenAPI, and sent by the generated tenant-wall tests (required
   * on a route that has both a body and path ids).
   */
  example?: BS extends z.ZodType ? z.input<BS> : never;
  handler(ctx: RouteContext<Infer<PS>, Infer<QS>, Infer<BS>>): Promise<z.input<RS>>;
}

// The route table holds routes of many shapes; their handlers are only called by the dispatcher with
// values it has parsed through the same route's schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any, z.ZodType>;

/** Declares a route, inferring handler types from its schemas. */
export function defineRoute<
  PS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
  RS extends z.ZodType = z.ZodType,
>(spec: RouteSpec<PS, QS, BS, RS>): AnyRoute {
  return spec as AnyRoute;
}

/** The `:name` parameters of a url. */
export const pathParams = (url: string): string[] => [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);

/** What an Idempotency-Key header may hold: 1-200 visible ASCII characters (a UUID fits). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
