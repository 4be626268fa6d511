import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RosterError } from '../domain/errors.js';

/** The Prometheus metrics of one app (a registry each, so that tests can build several apps). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'roster_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'roster_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (event streams excluded), by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly openStreams = new Gauge({
    name: 'roster_open_streams',
    help: 'Server-Sent Event streams open on this node',
    registers: [this.registry],
  });
  readonly streamBufferedBytes: Gauge = new Gauge({
    name: 'roster_stream_buffered_bytes',
    help: 'Bytes of stream events waiting for slow subscribers (bounded: at most the latest event each)',
    registers: [this.registry],
    collect: (): void => this.streamBufferedBytes.set(this.bufferedBytes()),
  });
  /** Set by whoever owns the streams. */
  bufferedBytes: () => number = () => 0;
  readonly streamsOpened = new Counter({
    name: 'roster_streams_opened_total',
    help: 'Server-Sent Event streams opened since start',
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'roster_store_errors_total',
    help: 'Unexpected errors from the store (or elsewhere) that a request or a stream met, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'roster_' });
  }

  /** Counts one response; `elapsedMs` is null for event streams, whose duration means nothing. */
  observe(method: string, route: string, status: number, elapsedMs: number | null): void {
    const key = `${method} ${status} ${route}`;
    let bound = this.bound.get(key);
    if (!bound) {
      // prom-client resolves a label set on every call; resolve each one once.
      bound = {
        count: this.requests.labels({ method, route, status: String(status) }),
        time: this.duration.labels({ method, route }),
      };
      this.bound.set(key, bound);
    }
    bound.count.inc();
    if (elapsedMs !== null) bound.time.observe(elapsedMs / 1000);
  }

  /** Label sets seen so far; routes are patterns, so there are few. */
  private readonly bound = new Map<
    string,
    { count: { inc(): void }; time: { observe(value: number): void } }
  >();

  storeError(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    this.storeErrors.inc({ code: typeof code === 'string' ? code.slice(0, 40) : 'unknown' });
  }
}

/**
 * Counts every response, and serves `/metrics`. It shows aggregates only (route patterns,
 * never SIDs); with `token` set it asks for `Authorization: Bearer <token>`.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string | null): void {
  app.addHook('onResponse', async (req, reply) => {
    const type = reply.getHeader('content-type');
    const stream = typeof type === 'string' && type.startsWith('text/event-stream');
    metrics.observe(
      req.method,
      req.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      stream ? null : reply.elapsedTime,
    );
  });
  app.addHook('onError', async (_req, _reply, err) => {
    const status = (err as { statusCode?: number }).statusCode;
    if (err instanceof RosterError || (status !== undefined && status < 500)) return;
    metrics.storeError(err);
  });

  const expected = token === null ? null : Buffer.from(`Bearer ${token}`);
  app.get('/metrics', async (req, reply) => {
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer realm="metrics"').send('Unauthorized\n');
      }
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
