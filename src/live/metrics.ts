import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Histogram } from 'prom-client';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RosterError } from '../domain/errors.js';

/** What /metrics says of event callbacks: counts since start, and the queue by state. */
export interface CallbackMetricsSource {
  stats: { attempts: number; delivered: number; retried: number; failed: number };
  counts: () => Promise<{ pending: number; failed: number }>;
}

/** The Prometheus metrics of one app (a registry each, so that tests can build several apps). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'> = new Counter({
    name: 'roster_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
    // Responses are counted in plain numbers (see `observe`) and handed over when scraped.
    collect: (): void => {
      for (const bound of this.bound.values()) {
        if (bound.pending === 0) continue;
        bound.count.inc(bound.pending);
        bound.pending = 0;
      }
    },
  });
  readonly duration = new DurationHistogram(
    'roster_http_request_duration_seconds',
    'Time to answer an HTTP request (event streams excluded), by method and route pattern',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
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

  constructor(callbacks?: CallbackMetricsSource) {
    collectDefaultMetrics({ register: this.registry, prefix: 'roster_' });
    if (callbacks) this.registerCallbacks(callbacks);
    // Duck-typed like prom-client's own metrics: the registry asks it for `get()`.
    this.registry.registerMetric(this.duration as unknown as Histogram);
  }

  private registerCallbacks(source: CallbackMetricsSource): void {
    const attempts = new Counter({
      name: 'roster_event_callback_attempts_total',
      help: 'Event callback POSTs made by this node since start, by outcome (delivered, retried, failed: given up)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect: (): void => {
        attempts.reset();
        attempts.inc({ outcome: 'delivered' }, source.stats.delivered);
        attempts.inc({ outcome: 'retried' }, source.stats.retried);
        attempts.inc({ outcome: 'failed' }, source.stats.failed);
      },
    });
    const queued = new Gauge({
      name: 'roster_event_callbacks',
      help: 'Event callbacks in the store, by state: pending (to be sent) or failed (given up)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect: async (): Promise<void> => {
        const counts = await source.counts();
        queued.set({ state: 'pending' }, counts.pending);
        queued.set({ state: 'failed' }, counts.failed);
      },
    });
  }

  /**
   * Counts one response; `elapsedMs` is null for event streams, whose duration means nothing.
   * On the hot path of every request, so it only adds to plain numbers: prom-client resolves and
   * checks a label set on every call (about a microsecond, a few percent of a fast request).
   */
  observe(method: string, route: string, status: number, elapsedMs: number | null): void {
    const key = `${method} ${status} ${route}`;
    let bound = this.bound.get(key);
    if (!bound) {
      bound = {
        count: this.requests.labels({ method, route, status: String(status) }),
        pending: 0,
        time: this.duration.series(method, route),
      };
      this.bound.set(key, bound);
    }
    bound.pending++;
    if (elapsedMs !== null) this.duration.observe(bound.time, elapsedMs / 1000);
  }

  /** Label sets seen so far; routes are patterns, so there are few. */
  private readonly bound = new Map<
    string,
    { count: { inc(n: number): void }; pending: number; time: Series }
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

/** One (method, route) of the duration histogram: counts per bucket (not cumulative), sum, count. */
interface Series {
  labels: { method: string; route: string };
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram kept in plain arrays, exposed through prom-client's registry as its own
 * histograms are (name, help, type and `get()` with the same series: `_bucket` with `le`, `_sum`,
 * `_count`).
 */
class DurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
  ) {}

  series(method: string, route: string): Series {
    const key = `${method} ${route}`;
    let s = this.all.get(key);
    if (!s) {
      s = {
        labels: { method, route },
        buckets: new Array<number>(this.upperBounds.length).fill(0),
        sum: 0,
        count: 0,
      };
      this.all.set(key, s);
    }
    return s;
  }

  observe(s: Series, seconds: number): void {
    const i = this.upperBounds.findIndex((bound) => seconds <= bound);
    if (i !== -1) s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
  }

  get() {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const s of this.all.values()) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ value: cumulative, labels: { ...s.labels, le }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: s.labels, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Zeroes every series (they stay bound to their callers). */
  reset(): void {
    for (const s of this.all.values()) {
      s.buckets.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
