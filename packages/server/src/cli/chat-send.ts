/**
 * `parley chat send --from A --to B --text T [--url URL]`: signs in as the sender through the running
 * server's HTTP API (password from PARLEY_PASSWORD, else a prompt), opens the 1:1 conversation with the
 * recipient and sends, so the message is stored and delivered live like any other. For scripts and
 * smoke tests; the clientMessageId is fresh per run (one run, one message).
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ParleyError, type ErrorCode, type Message } from '@parley/protocol';

export interface ChatSendArgs {
  from: string;
  to: string;
  text: string;
  url: string;
}

async function api<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new ParleyError('unavailable', `cannot reach ${base}: ${(err as Error).message}`);
  }
  const json = (await res.json().catch(() => undefined)) as
    { error?: { code: ErrorCode; message: string } } | undefined;
  if (res.status >= 400)
    throw new ParleyError(json?.error?.code ?? 'internal', json?.error?.message ?? `HTTP ${res.status}`);
  return json as T;
}

/** The password: PARLEY_PASSWORD, or asked on the terminal without echo. */
export async function password(address: string): Promise<string> {
  const fromEnv = process.env.PARLEY_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY)
    throw new ParleyError('unauthorized', 'set PARLEY_PASSWORD (no terminal to ask on)');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
  process.stderr.write(`password for ${address}: `);
  out._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

export async function chatSend(a: ChatSendArgs): Promise<Message> {
  const login = await api<{ accessToken: string; user: { id: string } }>(a.url, 'POST', '/api/auth/login', {
    address: a.from,
    password: await password(a.from),
  });
  const token = login.accessToken;
  const to = a.to.trim().toLowerCase();
  const found = await api<{ items: Array<{ id: string; address: string }> }>(
    a.url,
    'GET',
    `/api/users?query=${encodeURIComponent(to)}&limit=50`,
    undefined,
    token,
  );
  const user = found.items.find((u) => u.address === to);
  if (!user) throw new ParleyError('not_found', `no user ${to} in ${a.from.split('@')[1]}'s organisation`);
  const conversation = await api<{ id: string }>(
    a.url,
    'POST',
    '/api/conversations',
    { members: [user.id] },
    token,
  );
  return api<Message>(
    a.url,
    'POST',
    `/api/conversations/${conversation.id}/messages`,
    { text: a.text, clientMessageId: `cli-${randomUUID()}` },
    token,
  );
}
