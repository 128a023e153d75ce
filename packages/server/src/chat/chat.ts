/**
 * Chat, composed: the stores, the service the routes and the realtime socket call, and live delivery.
 * Built before the realtime hub (which hands chat frames to the service) and attached to it after.
 */
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Bus } from '../bus/bus.ts';
import type { Engine } from '../storage/db.ts';
import type { Database } from '../storage/schema.ts';
import type { EventLog } from '../realtime/event-log.ts';
import type { AnyRoute } from '../http/route.ts';
import { ConversationStore } from './conversations.ts';
import { Timeline } from './timeline.ts';
import { Receipts } from './receipts.ts';
import { SendThrottle } from './send-throttle.ts';
import { ChatDelivery, type SessionDirectory } from './delivery.ts';
import { ChatService } from './chat-service.ts';
import { chatRoutes } from './routes.ts';
import { MessageSearch } from './search.ts';
import { BlobStore, FileStore } from './files.ts';
import { Thumbnailer } from './thumbnails.ts';
import { fileRoutes } from './file-routes.ts';
import type { WriteQueue } from './write-queue.ts';

export interface ChatLimits {
  maxMembers: number;
  maxMessageBytes: number;
  sendRate: number;
  sendBurst: number;
  typingTtlMs: number;
  resumeMarginMs: number;
  /** How long a new message waits for an earlier one before it is pushed anyway, ms (seq-order.ts). */
  orderWaitMs: number;
  fileMaxBytes: number;
  /** Largest image (width x height) thumbnailed. */
  thumbnailMaxPixels: number;
  /** Longest side of a thumbnail, px. */
  thumbnailSize: number;
}

export interface ChatDeps {
  db: Kysely<Database>;
  engine: Engine;
  writer: WriteQueue;
  bus: Bus;
  events: Pick<EventLog, 'stage' | 'publish'>;
  log: Logger;
  limits: ChatLimits;
  /** Where the blob store keeps uploaded files. */
  blobDir: string;
}

export interface Chat {
  service: ChatService;
  conversations: ConversationStore;
  timeline: Timeline;
  search: MessageSearch;
  files: FileStore;
  delivery: ChatDelivery;
  routes: AnyRoute[];
  /** Starts live delivery to the hub's sessions. */
  attach(sessions: SessionDirectory): void;
  close(): void;
}

export function createChat(d: ChatDeps): Chat {
  const conversations = new ConversationStore(d.db, d.writer, { maxMembers: d.limits.maxMembers });
  const timeline = new Timeline(d.db, d.writer, conversations, { maxMessageBytes: d.limits.maxMessageBytes });
  const receipts = new Receipts(d.writer, conversations);
  const delivery = new ChatDelivery(d.bus, conversations, d.log, d.limits.orderWaitMs);
  const service = new ChatService({
    conversations,
    timeline,
    receipts,
    throttle: new SendThrottle(d.limits.sendRate, d.limits.sendBurst),
    bus: d.bus,
    events: d.events,
    memberIds: (tenantId, id) => delivery.memberIds(tenantId, id),
    log: d.log,
    limits: { typingTtlMs: d.limits.typingTtlMs, resumeMarginMs: d.limits.resumeMarginMs },
  });
  const search = new MessageSearch(d.db, d.engine);
  const blobs = new BlobStore(d.blobDir);
  const thumbnails = new Thumbnailer(
    d.db,
    d.writer,
    blobs,
    { maxPixels: d.limits.thumbnailMaxPixels, maxSide: d.limits.thumbnailSize },
    d.log,
  );
  const files = new FileStore(d.db, d.writer, blobs, conversations, thumbnails, {
    maxBytes: d.limits.fileMaxBytes,
    thumbnailMaxPixels: d.limits.thumbnailMaxPixels,
    thumbnailSize: d.limits.thumbnailSize,
  });
  return {
    service,
    conversations,
    timeline,
    search,
    files,
    delivery,
    routes: [...chatRoutes({ chat: service, conversations, timeline, search }), ...fileRoutes(files)],
    attach: (sessions) => delivery.attach(sessions),
    close: () => {
      delivery.close();
      void thumbnails.close();
    },
  };
}
