/**
 * A small HTTP client for tests, on node:http so a request can come from a chosen loopback source
 * address (127.0.0.2, 127.0.0.3, …) to exercise per-address rules, and send raw, malformed bodies.
 */
import http from 'node:http';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

export interface RequestOptions {
  token?: string;
  /** Sent as is (a string or bytes); otherwise `body` is JSON-encoded. */
  raw?: string | Buffer;
  contentType?: string;
  from?: string;
  headers?: Record<string, string>;
}

export class Http {
  constructor(readonly base: string) {}

  request(method: string, path: string, body?: unknown, o: RequestOptions = {}): Promise<HttpResult> {
    const url = new URL(path, this.base);
    const payload = o.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const headers: Record<string, string> = { ...o.headers };
    if (payload !== undefined) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          method,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers,
          localAddress: o.from,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  get = (path: string, o?: RequestOptions) => this.request('GET', path, undefined, o);
  post = (path: string, body?: unknown, o?: RequestOptions) => this.request('POST', path, body, o);
  patch = (path: string, body?: unknown, o?: RequestOptions) => this.request('PATCH', path, body, o);
  delete = (path: string, o?: RequestOptions) => this.request('DELETE', path, undefined, o);
}

/** The error code of an error response. */
export const code = (r: HttpResult): string | undefined =>
  (r.json as { error?: { code?: string } } | undefined)?.error?.code;
