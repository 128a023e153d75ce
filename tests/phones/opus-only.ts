/**
 * A browser that wants wideband: page scripts that make every offer carry Opus alone for audio
 * (`setCodecPreferences`) and read which codecs the call uses each way, shared by the transcoding
 * tests of both media drivers.
 */
/** Every offer this page makes carries Opus alone for audio (source text: runs in the page). */
export const OPUS_ONLY = `(() => {
  const createOffer = RTCPeerConnection.prototype.createOffer;
  RTCPeerConnection.prototype.createOffer = function (...args) {
    const opus = RTCRtpReceiver.getCapabilities('audio').codecs.filter((c) => /opus/i.test(c.mimeType));
    for (const t of this.getTransceivers())
      if (t.receiver.track && t.receiver.track.kind === 'audio') t.setCodecPreferences(opus);
    return createOffer.apply(this, args);
  };
})();`;

/** The audio codecs the page's call uses each way, from its statistics. */
export const codecsInUse = `(async () => {
  const pc = window.parleyCalls && window.parleyCalls.peerConnection();
  if (!pc) return null;
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const out = {};
  report.forEach((s) => {
    if ((s.type === 'inbound-rtp' || s.type === 'outbound-rtp') && s.kind === 'audio' && s.codecId)
      out[s.type] = byId.get(s.codecId) ? byId.get(s.codecId).mimeType : null;
  });
  return out;
})()`;
