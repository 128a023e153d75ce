/** Health and the API description. */
import { z } from 'zod';
import { Health } from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { Storage } from '../storage/db.ts';

export function systemRoutes(
  storage: Pick<Storage, 'engine' | 'ping'>,
  version: string,
  openapi: () => unknown,
): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/health',
      tag: 'system',
      summary: 'Liveness, version and database status',
      access: 'public',
      response: Health,
      handler: async ({ reply }) => {
        const ok = await storage.ping();
        if (!ok) reply.status(503);
        return {
          status: ok ? ('ok' as const) : ('degraded' as const),
          version,
          database: { engine: storage.engine, ok },
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
