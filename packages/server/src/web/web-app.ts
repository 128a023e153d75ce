/**
 * Serves the built web app (`packages/web/dist`) at `/`: hashed assets under `/assets/` are cached for a
 * year as immutable (their name changes with their content), `index.html` is revalidated on every load
 * (`no-cache`) so a new build is picked up at once, and any other path that is not the API and names no
 * file is an app route (the router in the page decides): it gets `index.html` (the SPA fallback).
 * Every page answer carries a strict Content-Security-Policy: scripts and styles from this origin only
 * (no inline script), connections to this origin only (CSP 3 `'self'` covers ws: and wss: of the same
 * host), no framing, no plugins.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/protocol';
import { MAX_PATH_SEGMENT, uriTooLong } from '../http/http-server.ts';

/** The policy for the app's pages (RFC-style directives of CSP Level 3). */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
}

/**
 * Registers the app's routes on `http`, after the API's (Fastify prefers the API's exact routes to
 * the wildcard). `dir` is the built app; when it holds no `index.html`, `/` answers `fallbackPage`.
 */
export function serveWebApp(http: FastifyInstance, dir: string, fallbackPage: string): void {
  const root = normalize(dir);
  const cache = new Map<string, Cached>();

  /** A file of the build, read once per version (mtime and size), or null when absent. */
  const file = async (rel: string): Promise<Buffer | null> => {
    const path = normalize(join(root, rel));
    if (path !== root && !path.startsWith(root + sep)) return null;
    try {
      const st = await stat(path);
      if (!st.isFile()) return null;
      const hit = cache.get(path);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.body;
      const body = await readFile(path);
      cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, body });
      return body;
    } catch {
      return null;
    }
  };

  const page = (reply: FastifyReply, body: Buffer | string) =>
    reply
      .header('content-security-policy', contentSecurityPolicy)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .type('text/html; charset=utf-8')
      .send(body);

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = decodeURIComponentSafe(req.url.split('?')[0]!);
    // An API path reaches this wildcard only when no API route took it; one whose segment is too long
    // for a route parameter came here because of that length, so it gets the router's 414.
    if (path?.startsWith('/api/') && path.split('/').some((seg) => seg.length > MAX_PATH_SEGMENT))
      throw uriTooLong();
    if (path === null || path === '/api' || path.startsWith('/api/') || path.split('/').includes('..'))
      throw new ParleyError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
    const index = await file('index.html');
    if (!index) {
      if (path === '/') return page(reply, fallbackPage);
      throw new ParleyError('not_found', `no route ${req.method} ${path}`);
    }
    if (path !== '/' && path !== '/index.html') {
      const body = await file(path.slice(1));
      if (body) {
        return reply
          .header('cache-control', path.startsWith('/assets/') ? IMMUTABLE : 'no-cache')
          .header('x-content-type-options', 'nosniff')
          .type(types[extname(path)] ?? 'application/octet-stream')
          .send(body);
      }
      // A missing asset is a 404, never the page (a stale page asking for an old chunk must see it fail).
      if (path.startsWith('/assets/') || extname(path) !== '')
        throw new ParleyError('not_found', `no file ${path}`);
    }
    return page(reply, index);
  };
  http.get('/', handler);
  http.get('/*', handler);
}

function decodeURIComponentSafe(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
