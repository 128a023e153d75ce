/** The bus events of the realtime layer. */
import type { DurableEvent } from '@parley/protocol';

/** A durable event was appended to a user's event log (after commit): deliver it to their connections. */
export interface UserEventAppended {
  tenantId: string;
  userId: string;
  event: DurableEvent;
}

declare module '../bus/bus.ts' {
  interface BusEvents {
    'user.event': UserEventAppended;
  }
}
