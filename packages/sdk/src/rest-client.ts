/**
 * The SDK's HTTP side: JSON requests to the Parley API with the access token, turning error bodies into
 * coded `ParleyError`s. Uses the global `fetch` (browsers, Node 20) or one given in the options.
 */
import { ErrorCodes, ParleyError, type ErrorCode, type RowProblem } from '@parley/protocol';

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

export class RestClient {
  constructor(
    readonly baseUrl: string,
    private readonly fetchFn: FetchLike,
    /** The access token to send, refreshed first when it is about to expire; null when signed out. */
    private readonly token: () => Promise<string | null>,
  ) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { auth?: boolean; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    const token = opts.auth === false ? null : await this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchFn(new URL(path, this.baseUrl).toString(), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new ParleyError('unavailable', `cannot reach the server: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status >= 400) {
      const e = (
        json as
          { error?: { code?: string; message?: string; field?: string; rows?: RowProblem[] } } | undefined
      )?.error;
      throw toError(e?.code, e?.message ?? `HTTP ${res.status}`, e?.field, e?.rows);
    }
    return json as T;
  }
}

/** A coded error from a code string the server sent (unknown codes become `internal`, keeping the text). */
export function toError(
  code: string | undefined,
  message: string,
  field?: string,
  rows?: RowProblem[],
): ParleyError {
  const known = code !== undefined && Object.hasOwn(ErrorCodes, code);
  return new ParleyError(
    (known ? code : 'internal') as ErrorCode,
    known ? message : `${code ?? 'error'}: ${message}`,
    { ...(field ? { field } : {}), ...(Array.isArray(rows) ? { rows } : {}) },
  );
}
