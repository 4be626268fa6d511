import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Services } from './services/index.js';
import { notFoundBody, twilioError, ErrorCode } from './twilio/errors.js';
import { statisticsEncoder } from './twilio/serialize.js';
import { registerAuth } from './http/auth.js';
import { registerBodyParsers } from './http/body.js';
import { resourcePath, type RouteDeps } from './http/context.js';
import { registerErrorHandling, sendError } from './http/errors.js';
import { fastStatistics } from './http/fast-statistics.js';
import { fastWorkerUpdate } from './http/fast-worker-update.js';
import { registerHeaders } from './http/headers.js';
import { RateLimiter } from './http/rate-limit.js';
import { activityRoutes } from './http/routes/v1/activities.js';
import { taskChannelRoutes } from './http/routes/v1/task-channels.js';
import { workerRoutes } from './http/routes/v1/workers.js';
import { workspaceRoutes } from './http/routes/v1/workspaces.js';
import { registerLive, type LiveOptions } from './live/index.js';

export interface AppOptions {
  services: Services;
  /** Base of every absolute URL in responses, without a trailing slash. */
  publicUrl: string;
  rateLimit?: { readsPerSecond: number; writesPerSecond: number };
  bodyLimitBytes?: number;
  logger?: FastifyServerOptions['logger'];
  /** Statistics streams, /metrics and the dashboard (src/live). */
  live?: LiveOptions;
  /**
   * Serve the common statistics read and worker update before the framework
   * (src/http/fast-statistics.ts, src/http/fast-worker-update.ts); default on.
   */
  fastPaths?: boolean;
}

/** Builds the HTTP app; never listens (tests inject, main.ts listens). */
export function buildApp(options: AppOptions): FastifyInstance {
  /** Each answers false at once for a request that is not its own. */
  let fastPaths: ((req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>)[] = [];
  const app = Fastify({
    // Listening servers offer requests to the fast paths first (injected requests never do).
    serverFactory:
      options.fastPaths === false
        ? undefined
        : (handler, opts) => {
            const server = createServer((req, res) => {
              let served: boolean | Promise<boolean> = false;
              for (const fast of fastPaths) if ((served = fast(req, res)) !== false) break;
              if (served === true) return;
              if (!served) return handler(req, res);
              served.then(
                (done) => done || handler(req, res),
                () => handler(req, res),
              );
            });
            // As Fastify sets up the servers it makes itself.
            server.keepAliveTimeout = Number(opts.keepAliveTimeout ?? 72_000);
            server.requestTimeout = Number(opts.requestTimeout ?? 0);
            return server;
          },
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 1000 },
    // Errors raised before routing (a URL that cannot be decoded) in Twilio's shape too.
    frameworkErrors: (err, req, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const status = (err as { statusCode?: number }).statusCode ?? 400;
      void sendError(
        reply,
        status === 404
          ? notFoundBody(resourcePath(req.url))
          : twilioError(400, ErrorCode.invalidParameter, 'Malformed request URL'),
      );
    },
  });

  const urls = { v1: `${options.publicUrl}/v1` };
  const deps: RouteDeps = {
    services: options.services,
    urls,
    publicUrl: options.publicUrl,
    encodeStatistics: statisticsEncoder(urls),
  };
  const limits = options.rateLimit ?? { readsPerSecond: 0, writesPerSecond: 0 };
  const limiter = new RateLimiter({ Read: limits.readsPerSecond, Write: limits.writesPerSecond });

  registerErrorHandling(app);
  registerBodyParsers(app);
  registerHeaders(app);
  registerAuth(app, options.services.accounts, limiter);
  registerLive(app, options.services.changes, options.live);

  workspaceRoutes(app, deps);
  activityRoutes(app, deps);
  taskChannelRoutes(app, deps);
  workerRoutes(app, deps);

  const observe = (method: string, route: string, status: number, ms: number) =>
    app.metrics.observe(method, route, status, ms);
  fastPaths = [
    fastStatistics({ services: options.services, limiter, encode: deps.encodeStatistics, observe }),
    fastWorkerUpdate({
      services: options.services,
      limiter,
      urls,
      observe,
      unexpected: (err) => {
        app.log.error({ err }, 'unhandled error');
        app.metrics.storeError(err);
      },
    }),
  ];
  // Shutting down, the framework answers (503, as it does once it is closing).
  app.addHook('preClose', async () => {
    fastPaths = [];
  });
  return app;
}
