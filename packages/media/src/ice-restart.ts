/**
 * werift's RTCPeerConnection with ICE restarts that resume (RFC 8445 section 9): after new ICE
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

export class IceRestartingPeerConnection extends RTCPeerConnection {
  override async setRemoteDescription(description: RemoteDescription): Promise<void> {
    await super.setRemoteDescription(description);
    if (description.type === 'answer') this.resumeIce();
  }

  // werift overloads this (rollback answers nothing); one signature keeps both.
  override async setLocalDescription(description?: LocalDescription): Promise<never> {
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
