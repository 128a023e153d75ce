/**
 * @parley/sip: a server-side SIP stack (RFC 3261) that knows nothing of Parley.
 */
export * from './errors.ts';
export * from './lex.ts';
export * from './uri.ts';
export * from './address.ts';
export * from './via.ts';
export * from './header-names.ts';
export * from './message.ts';
export * from './parser.ts';
export * from './stream-framer.ts';
export * from './reasons.ts';
export * from './ids.ts';
export * from './response.ts';
export * from './validate.ts';
export * from './uas-guard.ts';
export * from './clock.ts';
export * from './typed-emitter.ts';
export * from './transport/transport.ts';
export * from './transaction/transaction.ts';
export * from './transaction/invite-client.ts';
export * from './transaction/non-invite-client.ts';
export * from './transaction/invite-server.ts';
export * from './transaction/non-invite-server.ts';
export * from './transaction/transaction-layer.ts';
export * from './rate-limiter.ts';
export * from './transport/udp.ts';
export * from './transport/tcp.ts';
export * from './transport/memory.ts';
export * from './endpoint.ts';
export * from './dialog.ts';
export * from './ack-wait.ts';
export * from './sdp.ts';
export * from './digest.ts';
export * from './uac.ts';
