/**
 * Calls with phones through the whole server (app.ts): a real UDP phone registers with digest, a
 * user's call placed over the realtime socket rings it (an INVITE with an RTP/AVP offer), the phone
 * answers, audio crosses the bridge both ways (a werift peer as the browser, a UDP RTP phone), and
 * the caller's hang-up reaches the phone as BYE. What a user would notice: the desk phone rings, the
 * two hear each other, the phone stops when the caller hangs up; no media session is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipRequest } from '@parley/sip';
import { ToneSource } from '@parley/media';
import type { CallView } from '@parley/protocol';
import { registrarSetup } from '../helpers/registrar-setup.ts';
import { device } from '../calls/call-devices.ts';
import { waitFor } from '../realtime/clients.ts';
import { ClientPeer, until } from '../../../media/test/client-peer.ts';
import { RtpPhone } from '../../../media/test/rtp-phone.ts';

test('a call to a user rings the registered phone; it answers, audio flows both ways; hang-up is a BYE', async () => {
  const r = await registrarSetup();
  const client = new ClientPeer(['PCMU'], '127.0.0.1', true);
  const rtp = await RtpPhone.create('127.0.0.3');
  const admin = await device(r.s, r.t.admin.token, 'admin-laptop');
  try {
    const phone = await r.phone();
    assert.equal((await phone.register()).status, 200);

    const placed = await admin.ok<CallView>({
      t: 'call.place',
      to: { userId: r.t.user.id },
      offer: { type: 'offer', sdp: await client.offer() },
    });
    const request = (method: string) =>
      phone
        .until(() => phone.requests.some((x) => x.request.method === method), 5000)
        .then(
          (ok) => (
            assert.ok(ok, `no ${method} at the phone`),
            phone.requests.find((x) => x.request.method === method)!.request
          ),
        );
    const invite: SipRequest = await request('INVITE');
    const offer = invite.body.toString();
    assert.match(offer, /m=audio \d+ RTP\/AVP 0 8/, 'an RTP/AVP offer, G.711 first');

    // The phone answers from its RTP socket.
    rtp.learn(offer);
    const ok = createResponse(invite, 200, {
      headers: [['Contact', `<sip:desk@${phone.address}:${phone.port}>`]],
      body: Buffer.from(rtp.offer({ codecs: '0 101' })),
      contentType: 'application/sdp',
    });
    phone.send(ok.serialize());
    await request('ACK');
    const sdp = await admin.waitFrame((f) => f.t === 'call.sdp' && f.callId === placed.id, 5000);
    await client.accept((sdp.description as { sdp: string }).sdp);
    await admin.update(placed.id, 'connected');
    await client.connected();

    const since = performance.now();
    client.send(new ToneSource({ frequencies: [800], durationMs: 3000, sampleRate: 8000 }));
    rtp.send(new ToneSource({ frequencies: [1250], durationMs: 3000, sampleRate: 8000 }));
    await until(
      () => rtp.received.filter((x) => x.at >= since && x.payloadType === 0).length >= 25,
      8000,
      'the browser audio at the phone',
    );
    await until(
      () => client.received.filter((x) => x.at >= since && x.payloadType === 0).length >= 25,
      8000,
      'the phone audio at the browser',
    );

    await admin.ok({ t: 'call.hangup', callId: placed.id });
    const bye = await request('BYE');
    phone.send(createResponse(bye, 200).serialize());
    await waitFor(() => (r.s.app.phoneMedia.rtp.size === 0 ? true : undefined), 5000, 'no RTP leg left');
  } finally {
    await admin.close();
    await client.close();
    await rtp.close();
    await r.close();
  }
});
