import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import type { Services } from './services/index.js';
import { notFoundBody, twilioError, ErrorCode } from './twilio/errors.js';
import { registerAuth } from './http/auth.js';
import { registerBodyParsers } from './http/body.js';
import { resourcePath, type RouteDeps } from './http/context.js';
import { registerErrorHandling, sendError } from './http/errors.js';
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
}

/** Builds the HTTP app; never listens (tests inject, main.ts listens). */
export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
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

  const deps: RouteDeps = {
    services: options.services,
    urls: { v1: `${options.publicUrl}/v1` },
    publicUrl: options.publicUrl,
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
  return app;
}
