export * from './errors.ts';
export * from './api.ts';
export * from './presence.ts';
export * from './presence-contacts.ts';
export * from './realtime.ts';
export * from './chat.ts';
export * from './billing.ts';
export * from './calls.ts';
