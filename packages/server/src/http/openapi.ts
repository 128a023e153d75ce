/** The OpenAPI 3.1 document, generated from the route table's schemas. */
import { z } from 'zod';
import { IDEMPOTENCY_KEY, type AnyRoute } from './route.ts';
import { ErrorCodes } from '@parley/protocol';

const jsonSchema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

export function openApiDocument(routes: AnyRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: s,
        });
      }
    }
    if (r.idempotent)
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: true,
        description:
          'Moves money: a retry with the same key and body answers the first result and moves nothing; the same key with another body is idempotency_key_reused (409). Kept at least 24 h per tenant.',
        schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
      });
    const status = String(r.status ?? 200);
    paths[path] ??= {};
    paths[path]![r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      'x-parley-access': r.access,
      ...(r.access === 'public' ? { security: [] } : {}),
      parameters,
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: jsonSchema(r.body, 'input'),
                  ...(r.example ? { example: r.example } : {}),
                },
              },
            },
          }
        : {}),
      responses: {
        [status]:
          status === '204'
            ? { description: 'No content' }
            : {
                description: 'OK',
                content: { 'application/json': { schema: jsonSchema(r.response, 'output') } },
              },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Parley API', version },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An access token, or a tenant API key (pk_…)',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: Object.keys(ErrorCodes) },
                message: { type: 'string' },
                field: { type: 'string' },
              },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
  };
}
