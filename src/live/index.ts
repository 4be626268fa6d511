import type { FastifyInstance } from 'fastify';
import type { ChangeBus } from '../services/changes.js';
import { registerDashboard } from './dashboard.js';
import { Metrics, registerMetrics, type CallbackMetricsSource } from './metrics.js';
import { DEFAULT_STREAM_OPTIONS, StatisticsStreams, type StreamOptions } from './statistics-streams.js';

export { wantsEventStream, type StatisticsStreams } from './statistics-streams.js';
export type { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Server-Sent Event streams of RealTimeStatistics (src/live). */
    statisticsStreams: StatisticsStreams;
    /** The Prometheus metrics served at /metrics. */
    metrics: Metrics;
  }
}

export interface LiveOptions {
  stream?: Partial<StreamOptions>;
  /** When set, /metrics asks for `Authorization: Bearer <token>`. */
  metricsToken?: string | null;
  /** Event callback deliveries, for /metrics. */
  callbacks?: CallbackMetricsSource;
}

/** The live side of Roster: statistics streams, /metrics and the dashboard at /. */
export function registerLive(app: FastifyInstance, changes: ChangeBus, options: LiveOptions = {}): void {
  const metrics = new Metrics(options.callbacks);
  const streams = new StatisticsStreams(
    changes,
    { ...DEFAULT_STREAM_OPTIONS, ...options.stream },
    {
      opened: () => {
        metrics.openStreams.inc();
        metrics.streamsOpened.inc();
      },
      closed: () => metrics.openStreams.dec(),
      loadFailed: (err) => {
        metrics.storeError(err);
        app.log.error({ err }, 'statistics stream: recomputing failed');
      },
    },
  );
  app.decorate('statisticsStreams', streams);
  app.decorate('metrics', metrics);
  metrics.bufferedBytes = () => streams.bufferedBytes;
  // Open streams would keep app.close() waiting for ever: end them first.
  app.addHook('preClose', async () => streams.close());
  registerMetrics(app, metrics, options.metricsToken ?? null);
  registerDashboard(app);
}
