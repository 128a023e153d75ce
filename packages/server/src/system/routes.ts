/** Health and the API description. */
import { z } from 'zod';
import { Health } from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { Storage } from '../storage/db.ts';

export function systemRoutes(
  storage: Pick<Storage, 'engine' | 'ping' | 'health'>,
  version: string,
  openapi: () => unknown,
): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/health',
      tag: 'system',
      summary: 'Liveness, version and database status (503 and degraded when it is down or full)',
      access: 'public',
      response: Health,
      handler: async ({ reply }) => {
        const ok = await storage.ping();
        // A full storage still answers reads, but every write is refused: not healthy.
        const full = storage.health.full;
        if (!ok || full) reply.status(503);
        return {
          status: ok && !full ? ('ok' as const) : ('degraded' as const),
          version,
          database: {
            engine: storage.engine,
            ok,
            full: full !== null,
            ...(full && { fullSince: new Date(full.at).toISOString() }),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/openapi.json',
      tag: 'system',
      summary: 'This API as an OpenAPI 3.1 document',
      access: 'public',
      response: z.record(z.string(), z.unknown()),
      handler: async () => openapi() as Record<string, unknown>,
    }),
  ];
}
