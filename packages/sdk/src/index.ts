/** The Parley client SDK, for browsers and Node. */
export {
  ParleyClient,
  type ParleyClientOptions,
  type ClientEvents,
  type WebSocketConstructor,
  type StoredTokens,
  type TokenStore,
} from './client.ts';
export {
  RealtimeLink,
  type ChatPush,
  type ConnectionState,
  type SocketFactory,
  type SocketLike,
} from './realtime-link.ts';
export { PresenceApi } from './presence-api.ts';
export { ContactsApi } from './contacts-api.ts';
export { DirectoryApi } from './directory-api.ts';
export { AdminApi, type ImportProgress, type NewUser, type UserChange } from './admin-api.ts';
export { OperatorApi, type NewPlan, type NewTenant } from './operator-api.ts';
export {
  TelephonyApi,
  type CallerIdFormat,
  type CarrierStatus,
  type PhoneNumber,
  type Trunk,
  type TrunkAuth,
  type TrunkCodec,
  type TrunkIdentity,
  type TrunkRegistration,
  type TrunkSettings,
  type TrunkTransport,
} from './telephony-api.ts';
export {
  EmergencyApi,
  type CivicAddress,
  type EmergencyCallNotice,
  type EmergencySettings,
  type EmergencySite,
  type UserLocation,
} from './emergency-api.ts';
export { ChatApi, type ChatEvents, type SendOptions } from './chat-api.ts';
export { CallsApi, type CallsEvents, type HistoryQuery, type PlaceOptions } from './calls-api.ts';
export { Call, type CallEvents } from './call.ts';
export { readQuality, classify, type CallQuality, type QualityLevel } from './call-quality.ts';
export type {
  GetUserMedia,
  MediaConstraints,
  MediaStreamLike,
  PeerConnectionConfig,
  PeerConnectionConstructor,
  PeerConnectionLike,
  TrackLike,
  WebRtcOptions,
} from './call-webrtc.ts';
export { IdleMonitor, activityEvents, type ActivitySource } from './idle-monitor.ts';
export { RestClient, type FetchLike } from './rest-client.ts';
export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.ts';
export { TypedEmitter } from './typed-emitter.ts';
export { ParleyError, type ErrorCode, type RowProblem } from '@parley/protocol';
export type {
  CreateSipDeviceRequest,
  ExtensionEntry,
  ProvisioningText,
  SipDevice,
  SipDeviceCredentials,
  SipDeviceSettings,
  UserExtension,
} from '@parley/protocol';
