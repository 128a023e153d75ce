/** Types of services.mjs, for the TypeScript that imports it (bench/chat.ts). */
export function freePort(): Promise<number>;
/** Starts a throwaway PostgreSQL cluster on a free loopback port; throws when its binaries are absent. */
export function startPostgres(): Promise<{ url: string; stop(): void }>;
