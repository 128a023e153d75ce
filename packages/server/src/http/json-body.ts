/**
 * The JSON body parser. A key `__proto__` (or `constructor` holding `prototype`) names an object's
 * prototype: code that merges the body into another object with assignment would change that
 * object's prototype (prototype pollution). Fastify refuses such a body but reports it as malformed
 * JSON, which it is not. Here it is refused as `forbidden_key`, saying which key, so a client knows what
 * to change; dropping the key silently would accept a request other than the one sent.
 */
import { ParleyError } from '@parley/protocol';

/** Keys that may only appear through an escape or a plain mention of these words. */
const suspicious = /__proto__|constructor|\\u/;

export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new ParleyError('malformed_json', 'the body is empty; send JSON');
  try {
    if (!suspicious.test(text)) return JSON.parse(text);
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__' || (key === 'constructor' && hasPrototypeKey(value)))
        throw new ParleyError(
          'forbidden_key',
          `the JSON key ${key === '__proto__' ? '"__proto__"' : '"constructor.prototype"'} is not accepted: it names an object's prototype`,
          { field: `body.${key}` },
        );
      return value;
    });
  } catch (err) {
    if (err instanceof ParleyError) throw err;
    throw new ParleyError('malformed_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

const hasPrototypeKey = (v: unknown) =>
  typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, 'prototype');
