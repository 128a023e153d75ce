/** The bus events chat publishes. */
import type { Message } from '@parley/protocol';

declare module '../bus/bus.ts' {
  interface BusEvents {
    /** A chat message was stored, edited or deleted (after commit): push it to the members' devices. */
    'chat.message': { tenantId: string; change: 'new' | 'edit' | 'delete'; message: Message };
    /** A member is typing, or said they stopped (ephemeral: never stored; typing.ts ends it on its own). */
    'chat.typing': {
      tenantId: string;
      conversationId: string;
      userId: string;
      typing: boolean;
      ttlMs: number;
    };
    /** A member's read or delivered position moved. */
    'chat.receipt': {
      tenantId: string;
      conversationId: string;
      userId: string;
      readSeq: number;
      deliveredSeq: number;
    };
    /** A conversation was renamed or its members changed (member caches drop it). */
    'chat.conversation': { tenantId: string; conversationId: string; change: 'renamed' | 'members' };
  }
}
