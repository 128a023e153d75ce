/** `?a=1&b=x` from the defined entries of `params` ('' when none): for the SDK's listing calls. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const e = Object.entries(params).filter((kv): kv is [string, string | number] => kv[1] !== undefined);
  return e.length ? `?${new URLSearchParams(e.map(([k, v]) => [k, String(v)])).toString()}` : '';
}
