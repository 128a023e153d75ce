/**
 * The rtpengine harness for the phone tests: a real daemon (packages/media's test harness) started on
 * free ports with `--dtmf-log-dest` pointed at a free port the Parley server listens on, and the
 * server settings that put phone calls on it (`PARLEY_MEDIA=rtpengine`, `PARLEY_RTPENGINE_NG`,
 * `PARLEY_RTPENGINE_DTMF`), with short ng timers so a dead node is noticed within a second.
 */
import { freeUdpPort, startRtpengine, type Rtpengine } from '../../packages/media/test/rtpengine-daemon.ts';

export { startRtpengine, type Rtpengine };

export interface RtpengineSetup {
  node: Rtpengine;
  /** Overrides for startPhoneServer. */
  settings: Record<string, string | number>;
}

export async function rtpengineSetup(): Promise<RtpengineSetup> {
  const dtmf = `127.0.0.1:${await freeUdpPort()}`;
  const node = await startRtpengine({ dtmfLogDest: dtmf });
  return {
    node,
    settings: {
      media: 'rtpengine',
      rtpengineNg: node.ng,
      rtpengineDtmf: dtmf,
      rtpengineTimeoutMs: 200,
      rtpengineRetries: 1,
      rtpenginePing: 0.25,
    },
  };
}
