/**
 * The composition root: the one place that builds every part of the server and wires them together.
 * Nothing else reaches for globals. `createApp` opens storage and migrates; `listen` starts serving;
 * `close` stops accepting, finishes in-flight requests, closes connections and the database.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openStorage, type Storage } from './storage/db.ts';
import { migrate } from './storage/migrator.ts';
import { InProcessBus, type Bus } from './bus/bus.ts';
import { Directory } from './directory/directory.ts';
import { AuditLog } from './audit/audit-log.ts';
import { AuthService } from './auth/auth-service.ts';
import { TokenSigner } from './auth/tokens.ts';
import { buildHttp } from './http/http-server.ts';
import { openApiDocument } from './http/openapi.ts';
import type { AnyRoute } from './http/route.ts';
import { directoryRoutes } from './directory/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { operatorRoutes } from './operator/routes.ts';
import { systemRoutes } from './system/routes.ts';
import { RealtimeGateway } from './realtime/gateway.ts';
import { createLogger } from './log.ts';
import { version } from './version.ts';

export interface App {
  config: Config;
  log: Logger;
  storage: Storage;
  bus: Bus;
  directory: Directory;
  audit: AuditLog;
  auth: AuthService;
  gateway: RealtimeGateway;
  http: FastifyInstance;
  /** The route table (the tenant-wall tests are generated from it). */
  routes: AnyRoute[];
  /** Starts serving; resolves to the URL the server answers on. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.logger ?? createLogger(config.logLevel);
  const storage = openStorage({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    await migrate(storage);
  } catch (err) {
    await storage.close();
    throw err;
  }
  const bus = new InProcessBus((err, topic) => log.error({ err, topic }, 'bus listener failed'));
  const directory = new Directory(storage.db);
  const audit = new AuditLog(storage.db);
  const auth = new AuthService(storage.db, directory, await TokenSigner.load(storage.db), bus, config);

  const routes: AnyRoute[] = [];
  let openapi: unknown;
  routes.push(
    ...systemRoutes(storage, version, () => (openapi ??= openApiDocument(routes, version))),
    ...authRoutes(auth, directory, audit),
    ...directoryRoutes({ directory, audit, auth }),
    ...operatorRoutes(directory, audit),
  );
  const http = buildHttp(routes, auth, { bodyLimit: config.bodyLimit, logger: log });
  const gateway = new RealtimeGateway(auth, bus, log, {
    path: '/api/realtime',
    maxPayload: 64 * 1024,
    sessionRecheckMs: config.sessionRecheck * 1000,
  });
  gateway.attach(http.server);

  let closing: Promise<void> | undefined;
  return {
    config,
    log,
    storage,
    bus,
    directory,
    audit,
    auth,
    gateway,
    http,
    routes,
    async listen() {
      const address = await http.listen({ port: config.port, host: config.host });
      const port = (http.server.address() as { port: number }).port;
      config.port = port;
      if (config.publicUrl.endsWith(':0')) config.publicUrl = config.publicUrl.replace(/:0$/, `:${port}`);
      return address;
    },
    close() {
      closing ??= (async () => {
        await gateway.close();
        const grace = setTimeout(() => http.server.closeAllConnections(), config.shutdownGrace * 1000);
        await http.close();
        clearTimeout(grace);
        await storage.close();
      })();
      return closing;
    },
  };
}
