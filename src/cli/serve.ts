import { buildApp } from '../app.js';
import { ConfigError, type Config } from '../config.js';
import { ManualClock } from '../domain/clock.js';
import { systemClock } from '../services/clock.js';
import { createServices } from '../services/index.js';
import { createChangeBus, createStore, prepareDataDir } from '../storage/create-store.js';
import { resolveCredentials } from './credentials.js';
import { EventCallbacks } from '../events/event-callbacks.js';
import { EventRetention } from '../events/retention.js';
import { AssignmentCallbacks } from '../events/assignment-callbacks.js';
import { routingAssignmentPort } from '../events/assignment-port.js';

export interface Output {
  line(text: string): void;
}

/** Starts the server; resolves once it listens, with a function that shuts it down cleanly. */
export async function serve(
  config: Config,
  out: Output,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const dataDir = prepareDataDir(config.dataDir);
  const store = createStore(config);
  const changes = createChangeBus(store, (err) =>
    process.stderr.write(`roster: change notifications: ${err.message}\n`),
  );
  const services = createServices(store, {
    changes,
    // A manual clock starts at the time of the start and then moves only by POST /roster/v1/Clock.
    clock: config.clock === 'manual' ? new ManualClock(systemClock.now()) : undefined,
    twilioLimits: config.twilioLimits,
    onTimerError: (err) => process.stderr.write(`roster: timers: ${(err as Error).message}\n`),
    reclaimer: {
      onError: (err) => process.stderr.write(`roster: background deletes: ${(err as Error).message}\n`),
    },
  });
  const callbacks = new EventCallbacks(
    {
      store,
      clock: services.clock,
      onError: (err) => process.stderr.write(`roster: event callbacks: ${(err as Error).message}\n`),
    },
    { ...config.callbacks, retryMaxMs: 300_000 },
  );
  services.events.onReplay(() => callbacks.wake());
  const assignments = new AssignmentCallbacks(
    {
      store,
      port: routingAssignmentPort(store, services, services.clock),
      clock: services.clock,
      onError: (err) => process.stderr.write(`roster: assignment callbacks: ${(err as Error).message}\n`),
    },
    { timeoutMs: config.callbacks.timeoutMs },
  );
  const retention = new EventRetention(
    {
      store,
      clock: services.clock,
      onError: (err) => process.stderr.write(`roster: event retention: ${(err as Error).message}\n`),
    },
    { days: config.eventRetentionDays },
  );
  /** The background work, stopped in the reverse of the order it starts in. */
  const stopBackground = async () => {
    await services.statisticsRoller.stop();
    await assignments.stop();
    await retention.stop();
    await callbacks.stop();
    await services.reclaimer.stop();
    await services.timers.stop();
  };
  const creds = resolveCredentials(dataDir, config.account);
  try {
    await services.accounts.ensure(creds.accountSid, creds.authToken); // on PostgreSQL, also migrates
    await services.timers.start(); // fires what came due while Roster was down
    void services.reclaimer.start(); // goes on with deletes a stop or crash interrupted, in the background
    callbacks.start(); // sends what was still pending when Roster stopped
    retention.start();
    assignments.start();
    services.statisticsRoller.start(); // folds the log's closed minutes for cumulative statistics
  } catch (err) {
    await stopBackground();
    await changes?.close();
    await store.close();
    throw err;
  }

  const app = buildApp({
    services,
    publicUrl: config.publicUrl,
    rateLimit: config.rateLimit,
    bodyLimitBytes: config.bodyLimitBytes,
    http: config.http,
    corsOrigins: config.corsOrigins,
    live: {
      stream: config.stream,
      metricsToken: config.metricsToken,
      callbacks: { stats: callbacks.stats, counts: () => store.countDeliveries() },
    },
    logger: { level: config.logLevel },
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    await stopBackground();
    await changes?.close();
    await store.close();
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw new ConfigError(`Port ${config.port} on ${config.host} is already in use`);
    if (code === 'EACCES') throw new ConfigError(`No permission to listen on ${config.host}:${config.port}`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new ConfigError(`Cannot listen on host ${config.host}`);
    throw err;
  }

  const url = config.publicUrl;
  out.line(`Roster is listening on ${url} (data in ${config.postgres ? 'PostgreSQL' : dataDir})`);
  if (config.clock === 'manual') {
    out.line(`The clock is manual: it moves only by POST ${url}/roster/v1/Clock (Advance or Time)`);
  }
  if (creds.created) {
    out.line(`Created account ${creds.accountSid} with auth token ${creds.authToken}`);
    out.line(`(shown once; kept in ${creds.file})`);
  } else {
    out.line(
      `Account ${creds.accountSid}; its auth token is ${creds.file ? `in ${creds.file}` : 'ROSTER_AUTH_TOKEN'}`,
    );
  }
  out.line('Point twilio-node at it:');
  out.line(`  const client = require('twilio')('${creds.accountSid}', authToken);`);
  out.line(`  client.taskrouter.baseUrl = '${url}';`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close(); // stops accepting, lets in-flight requests finish
      await stopBackground(); // callbacks under way are sent again after a restart
      await changes?.close();
      await store.close();
    })());
  return { url, stop };
}
