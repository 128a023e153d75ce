/** A phone's REGISTER with digest, from a bare UDP client: what the device tests prove credentials with. */
import assert from 'node:assert/strict';
import { answerChallenge } from '@parley/sip';
import type { UdpSipClient } from '../helpers/sip-client.ts';

let n = 0;

/**
 * Registers `username@domain` (RFC 3261 section 10.2: the To names the address-of-record), answering
 * the 401 with the digest credentials for the challenge of `algorithm` (the listener offers SHA-256
 * first, then MD5). Resolves to the final status: 200 bound, 403 refused.
 */
export async function registerDevice(
  sip: UdpSipClient,
  username: string,
  password: string,
  domain: string,
  algorithm: 'SHA-256' | 'MD5' = 'SHA-256',
): Promise<number> {
  const callId = `reg-${++n}-${process.pid}`;
  const target = `${username}@${domain}`;
  const request = (cseq: number, headers: Array<[string, string]>) =>
    sip
      .request({ method: 'REGISTER', target: domain, from: target, callId, cseq, headers })
      .replace(/^To: .*$/m, `To: <sip:${target}>`);
  const first = (await sip.exchange(request(1, [])))!;
  assert.equal(first.status, 401);
  const challenge = first.getAll('www-authenticate').find((c) => c.includes(`algorithm=${algorithm}`));
  assert.ok(challenge, `no ${algorithm} challenge`);
  const auth = answerChallenge(challenge, { username, password }, 'REGISTER', `sip:${domain}`)!;
  return (await sip.exchange(request(2, [['Authorization', auth]])))!.status;
}
