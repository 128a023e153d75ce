/**
 * werift's RTCPeerConnection as Parley needs it: no STUN server unless one is configured, and ICE
 * restarts that resume.
 *
 * No default STUN server: werift 0.25 falls back to `stun.l.google.com` when `iceServers` names none,
 * so every session gathering candidates looked that name up (a DNS query leaving the machine, and
 * libuv's four resolver threads stalling call set-up at about 50 calls/s) and sent it a binding request.
 * A server endpoint advertises its own address and needs no reflexive candidate; `noDefaultStun`
 * clears the fallback on every ICE transport before gathering. Test and benchmark peers use it too,
 * so their traffic stays on loopback.
 *
 * ICE restarts that resume (RFC 8445 section 9): after new ICE
 * credentials (a restart offer made or received), the agent runs connectivity checks again and
 * nominates a new pair, so media goes on over the new path.
 *
 * Why: werift 0.25.2 restarts the ICE transport on new credentials (its state back to `new`, the
 * check list emptied), but its `connect()`, run after the answer, returns early while DTLS is
 * connected, so no check starts and no pair is nominated: the peer's media still arrives (its checks
 * get answers) but nothing more can be sent. Browsers check again, and the DTLS association and SRTP
 * keys go on unchanged over the new pair (RFC 8445 section 9; RFC 5764 section 4.1). This starts the
 * checks werift skips, once the answer is applied on either side; werift does the rest.
 */
import { RTCPeerConnection } from 'werift';

type RemoteDescription = Parameters<RTCPeerConnection['setRemoteDescription']>[0];
type LocalDescription = Parameters<RTCPeerConnection['setLocalDescription']>[0];

/** Clears werift's fallback STUN server on `pc`'s ICE transports when its configuration names none. */
export function noDefaultStun(pc: RTCPeerConnection): void {
  const urls = pc.config.iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  if (urls.some((u) => u.startsWith('stun:'))) return;
  for (const dtls of pc.dtlsTransports) dtls.iceTransport.connection.stunServer = undefined;
}

export class IceRestartingPeerConnection extends RTCPeerConnection {
  override async setRemoteDescription(description: RemoteDescription): Promise<void> {
    await super.setRemoteDescription(description);
    if (description.type === 'answer') this.resumeIce();
  }

  // werift overloads this (rollback answers nothing); one signature keeps both.
  override async setLocalDescription(description?: LocalDescription): Promise<never> {
    noDefaultStun(this); // gathering starts here, on transports made by the offer or the answer
    const result = await super.setLocalDescription(description as never);
    if (this.localDescription?.type === 'answer' && description?.type !== 'rollback') this.resumeIce();
    return result as never;
  }

  /** Starts ICE checks on every transport that was restarted under a connected DTLS association. */
  private resumeIce(): void {
    for (const dtls of this.dtlsTransports) {
      const ice = dtls.iceTransport;
      // After a restart werift leaves the state as it was (`completed`, say) but the nominated pair gone.
      const idle = ice.state !== 'checking' && ice.state !== 'connected' && ice.state !== 'closed';
      const restarted = idle && !ice.connection.nominated;
      if (dtls.state === 'connected' && restarted && ice.getRemoteParameters())
        ice.start().catch(() => {
          // A restart that finds no path ends in ICE `failed`, which the connection state reports.
        });
    }
  }
}
