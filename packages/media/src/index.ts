/**
 * @parley/media: the media plane (see the README's architecture section). It knows nothing of
 * Parley: sessions, codecs, WAV, player, recorder and prompts, for the server to compose.
 */
export * from './errors.ts';
export * from './g711.ts';
export * from './codec.ts';
export * from './resample.ts';
export * from './wav.ts';
export * from './source.ts';
export * from './tone.ts';
export * from './analysis.ts';
export * from './pacer.ts';
export * from './audio-out.ts';
export * from './session.ts';
export * from './offer.ts';
export * from './ice-restart.ts';
export * from './webrtc-session.ts';
export * from './endpoint.ts';
export * from './player.ts';
export * from './recorder.ts';
export * from './prompts.ts';
export * from './dtmf.ts';
export * from './rtp-packet.ts';
export * from './rtp-sdp.ts';
export * from './rtp-ports.ts';
export * from './rtp-timeline.ts';
export * from './rtcp.ts';
export * from './media-timeout.ts';
export * from './rtp-session.ts';
export * from './rtp-endpoint.ts';
export * from './live-source.ts';
export * from './bridge.ts';
export * from './rtpengine/index.ts';
