import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import { createServer } from 'node:http';
import type { Services } from './services/index.js';
import { notFoundBody, twilioError, ErrorCode } from './twilio/errors.js';
import { statisticsEncoder } from './twilio/serialize.js';
import { registerGuard } from './http/auth.js';
import { registerBodyParsers } from './http/body.js';
import { resourcePath, type RouteDeps } from './http/context.js';
import {
  answerClientError,
  registerErrorHandling,
  registerMethodNotAllowed,
  sendError,
} from './http/errors.js';
import { CorsPolicy, registerPreflight } from './http/headers.js';
import { RateLimiter } from './http/rate-limit.js';
import { clockRoutes } from './http/routes/roster/clock.js';
import { activityRoutes } from './http/routes/v1/activities.js';
import { reservationRoutes } from './http/routes/v1/reservations.js';
import { taskChannelRoutes } from './http/routes/v1/task-channels.js';
import { taskQueueRoutes } from './http/routes/v1/task-queues.js';
import { taskRoutes } from './http/routes/v1/tasks.js';
import { workerRoutes } from './http/routes/v1/workers.js';
import { workflowRoutes } from './http/routes/v1/workflows.js';
import { eventRoutes } from './http/routes/v1/events.js';
import { realTimeStatisticsRoutes } from './http/routes/v1/realtime-statistics.js';
import { cumulativeStatisticsRoutes } from './http/routes/v1/cumulative-statistics.js';
import { statisticsRoutes } from './http/routes/v1/statistics.js';
import { requestContext } from './services/context.js';
import { workspaceRoutes } from './http/routes/v1/workspaces.js';
import { registerLive, type LiveOptions } from './live/index.js';
import { registerEventStreams, type EventStreamOptions } from './live/event-stream.js';
import { toEventJson } from './twilio/events.js';

/** Socket limits of a listening server (injected requests have no socket). */
export interface HttpLimits {
  /** Whole request received within this (a trickled body cannot hold a connection for ever). */
  requestTimeoutMs: number;
  /** Request head received within this. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this are refused (keep it under the process's file limit). */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 72_000,
  maxConnections: 10_000,
};

export interface AppOptions {
  services: Services;
  /** Base of every absolute URL in responses, without a trailing slash. */
  publicUrl: string;
  rateLimit?: { readsPerSecond: number; writesPerSecond: number };
  bodyLimitBytes?: number;
  http?: Partial<HttpLimits>;
  /** Browser origins trusted with credentials and writes (ROSTER_CORS_ORIGINS). */
  corsOrigins?: readonly string[];
  logger?: FastifyServerOptions['logger'];
  /** Statistics streams, /metrics and the dashboard (src/live). */
  live?: LiveOptions;
  /** Event streams (src/live/event-stream.ts); heartbeat and stall timeout as `live.stream`'s. */
  eventStream?: Partial<EventStreamOptions>;
}

/** Builds the HTTP app; never listens (tests inject, main.ts listens). */
export function buildApp(options: AppOptions): FastifyInstance {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.http };
  const app = Fastify({
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout: limits.requestTimeoutMs,
          headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          // Node checks the two timeouts above this often (30 s by default).
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
        },
        handler,
      );
      server.maxConnections = limits.maxConnections;
      return server;
    },
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 1000 },
    clientErrorHandler: answerClientError,
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
  const rate = options.rateLimit ?? { readsPerSecond: 0, writesPerSecond: 0 };
  const limiter = new RateLimiter({ Read: rate.readsPerSecond, Write: rate.writesPerSecond });

  registerErrorHandling(app);
  registerBodyParsers(app);
  registerGuard(app, {
    accounts: options.services.accounts,
    limiter,
    cors: new CorsPolicy(options.publicUrl, options.corsOrigins),
  });
  const allowed = registerMethodNotAllowed(app);
  registerPreflight(app);
  registerLive(app, options.services.changes, options.live);
  registerEventStreams(app, options.services, (e, name) => JSON.stringify(toEventJson(e, name, urls)), {
    ...options.live?.stream,
    ...options.eventStream,
  });
  // The client's address goes into the events a request makes (source_ip_address). Set once
  // the body is read, so that the handler and everything it awaits run within it.
  app.addHook('preHandler', (req, _reply, done) => requestContext.run({ sourceIp: req.ip }, done));

  workspaceRoutes(app, deps);
  activityRoutes(app, deps);
  taskChannelRoutes(app, deps);
  workerRoutes(app, deps);
  taskQueueRoutes(app, deps);
  workflowRoutes(app, deps);
  taskRoutes(app, deps);
  reservationRoutes(app, deps);
  clockRoutes(app, deps);
  eventRoutes(app, deps);
  realTimeStatisticsRoutes(app, deps);
  cumulativeStatisticsRoutes(app, deps);
  statisticsRoutes(app, deps);
  allowed.seal();
  return app;
}
