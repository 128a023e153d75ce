/**
 * SDK clients for call tests against a real Parley server: each a `ParleyClient` with werift as its
 * WebRTC stack (helpers/werift.ts), a device id (reconnecting with it keeps the device's place in its
 * calls), fast reconnection, and switches a test uses to break the network:
 * - `network.up = false`: new sockets fail to connect (an unreachable port) until turned back on;
 * - `drop()`: the current socket is destroyed without a close frame (the server sees a lost device);
 * - `kill()`: a crashed app: the socket destroyed, no reconnection, the media gone.
 * Every incoming call and every call event is recorded so tests wait on what a user would see.
 */
import WebSocket from 'ws';
import { ParleyClient, type Call, type SocketLike } from '@parley/sdk';
import type { CallEventData } from '@parley/protocol';
import type { TestServer } from '../../../server/test/helpers/server.ts';
import { weriftWebRtc, type WeriftOptions } from './werift.ts';
import { waitFor } from './wait.ts';

export interface CallClient {
  client: ParleyClient;
  network: { up: boolean };
  incoming: Call[];
  missed: Array<CallEventData['call.missed']>;
  /** The next call ringing here (one already rung and not yet taken counts). */
  nextIncoming(timeoutMs?: number): Promise<Call>;
  drop(): void;
  kill(): void;
}

const open: ParleyClient[] = [];

export async function callClient(
  s: TestServer,
  user: { token: string },
  deviceId: string,
  webrtc: WeriftOptions = {},
): Promise<CallClient> {
  const network = { up: true };
  let socket: WebSocket | null = null;
  const client = new ParleyClient({
    baseUrl: s.url,
    backoff: { baseMs: 20, maxMs: 100 },
    requestTimeoutMs: 5000,
    device: { id: deviceId, kind: 'bot' },
    webrtc: weriftWebRtc({ qualityIntervalMs: 0, iceDisconnectedMs: 500, ...webrtc }),
    socketFactory: (url, token) => {
      socket = network.up
        ? new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
        : new WebSocket('ws://127.0.0.1:9/unreachable');
      return socket as unknown as SocketLike;
    },
  });
  client.useTokens({ accessToken: user.token, expiresIn: 900 });
  let taken = 0;
  const c: CallClient = {
    client,
    network,
    incoming: [],
    missed: [],
    nextIncoming: (timeoutMs = 5000) =>
      waitFor(() => c.incoming[taken], timeoutMs, `an incoming call on ${deviceId}`).then((call) => {
        taken++;
        return call;
      }),
    drop: () => socket?.terminate(),
    kill: () => {
      network.up = false;
      socket?.terminate();
      client.disconnect(); // no frame can go: the socket is gone; this only stops the app's side
    },
  };
  client.calls.on('incoming', (call) => c.incoming.push(call));
  client.calls.on('missed', (m) => c.missed.push(m));
  open.push(client);
  await client.connect();
  return c;
}

/** Disconnects every client made so far (their calls end). */
export function closeCallClients(): void {
  for (const c of open.splice(0)) c.disconnect();
}

/** Resolves when `call` reaches `state` (at once if it is there already). */
export function reach(call: Call, state: Call['state'], timeoutMs = 5000): Promise<void> {
  return waitFor(() => (call.state === state ? true : undefined), timeoutMs, `call ${state}`).then(() => {});
}

/** The ICE ufrag of a description: changes when ICE restarts. */
export const ufrag = (sdp: string | undefined) => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1];
