import { isSid, SidPrefix } from './domain/sid.js';
import { ConfigError } from './domain/errors.js';

export { ConfigError };

/** The only module that reads process.env. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  publicUrl: string;
  account: { sid: string; authToken: string } | null;
  logLevel: string;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** DATABASE_URL: PostgreSQL instead of SQLite, shared by every node that points at it. */
  postgres: {
    url: string;
    poolSize: number;
    statementTimeoutMs: number;
    queryTimeoutMs: number;
    connectTimeoutMs: number;
    idleInTransactionTimeoutMs: number;
    keepAliveDelayMs: number;
  } | null;
  /** Requests per second per account, per kind; 0 turns the limit off. */
  rateLimit: { readsPerSecond: number; writesPerSecond: number };
  bodyLimitBytes: number;
  /** Socket limits: see `HttpLimits` in src/app.ts. */
  http: {
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxConnections: number;
  };
  /** Origins (scheme://host[:port]) trusted with credentials and writes from a browser. */
  corsOrigins: string[];
  /** Statistics streams: at most one event per interval; a heartbeat comment this often. */
  stream: { intervalMs: number; heartbeatMs: number };
  /** When set, /metrics asks for this bearer token; otherwise it is open. */
  metricsToken: string | null;
  /** Twilio's limits (capacity 50, 100 activities, 15 task channels) enforced; ROSTER_TWILIO_LIMITS=off lifts them. */
  twilioLimits: boolean;
  /** 'manual' (ROSTER_CLOCK=manual): time moves only by POST /roster/v1/Clock, for tests of TTLs and timeouts. */
  clock: 'system' | 'manual';
  /** Event callbacks: each attempt's deadline, the first retry's delay, when to give up, how many at once. */
  callbacks: { timeoutMs: number; retryBaseMs: number; horizonMs: number; concurrency: number };
  /** Events older than this many days are deleted (0 keeps them all). */
  eventRetentionDays: number;
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return Number(v);
}

export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST || '127.0.0.1';
  const port = intVar(env, 'PORT', 8080, 0, 65535);
  const hostInUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const publicUrl = (env.ROSTER_PUBLIC_URL || `http://${hostInUrl}:${port}`).replace(/\/+$/, '');
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new ConfigError(`ROSTER_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  }

  const sid = env.ROSTER_ACCOUNT_SID || undefined;
  const token = env.ROSTER_AUTH_TOKEN || undefined;
  if ((sid === undefined) !== (token === undefined)) {
    throw new ConfigError('Set both ROSTER_ACCOUNT_SID and ROSTER_AUTH_TOKEN, or neither');
  }
  if (sid !== undefined && !isSid(sid, SidPrefix.account)) {
    throw new ConfigError(`ROSTER_ACCOUNT_SID must be "AC" followed by 32 hex digits, got "${sid}"`);
  }
  if (token !== undefined && (token.length < 8 || token.length > 256)) {
    throw new ConfigError('ROSTER_AUTH_TOKEN must be 8 to 256 characters long');
  }

  const synchronous = (env.ROSTER_SQLITE_SYNCHRONOUS || 'NORMAL').toUpperCase();
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new ConfigError(`ROSTER_SQLITE_SYNCHRONOUS must be NORMAL or FULL, got "${synchronous}"`);
  }

  const twilioLimits = (env.ROSTER_TWILIO_LIMITS || 'on').toLowerCase();
  if (twilioLimits !== 'on' && twilioLimits !== 'off') {
    throw new ConfigError(`ROSTER_TWILIO_LIMITS must be on or off, got "${env.ROSTER_TWILIO_LIMITS}"`);
  }

  const clock = (env.ROSTER_CLOCK || 'system').toLowerCase();
  if (clock !== 'system' && clock !== 'manual') {
    throw new ConfigError(`ROSTER_CLOCK must be system or manual, got "${env.ROSTER_CLOCK}"`);
  }

  const corsOrigins = (env.ROSTER_CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of corsOrigins) {
    let valid = false;
    try {
      valid = new URL(origin).origin === origin;
    } catch {
      // not a URL at all
    }
    if (!valid) {
      throw new ConfigError(
        `ROSTER_CORS_ORIGINS must list origins like https://dashboard.example.com:8443 (no path), got "${origin}"`,
      );
    }
  }

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }

  return {
    host,
    port,
    dataDir: env.ROSTER_DATA_DIR || './data',
    publicUrl,
    account: sid !== undefined && token !== undefined ? { sid, authToken: token } : null,
    logLevel: env.ROSTER_LOG_LEVEL || 'info',
    sqliteSynchronous: synchronous,
    postgres:
      databaseUrl === undefined
        ? null
        : {
            url: databaseUrl,
            poolSize: intVar(env, 'ROSTER_PG_POOL_SIZE', 10, 1, 1000),
            statementTimeoutMs: intVar(env, 'ROSTER_PG_STATEMENT_TIMEOUT_MS', 10_000, 0, 3_600_000),
            queryTimeoutMs: intVar(env, 'ROSTER_PG_QUERY_TIMEOUT_MS', 15_000, 0, 3_600_000),
            connectTimeoutMs: intVar(env, 'ROSTER_PG_CONNECT_TIMEOUT_MS', 5_000, 100, 600_000),
            idleInTransactionTimeoutMs: intVar(
              env,
              'ROSTER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS',
              30_000,
              0,
              3_600_000,
            ),
            keepAliveDelayMs: intVar(env, 'ROSTER_PG_KEEPALIVE_MS', 10_000, 100, 3_600_000),
          },
    rateLimit: {
      readsPerSecond: intVar(env, 'ROSTER_RATE_LIMIT_READS', 10_000, 0, 1_000_000_000),
      writesPerSecond: intVar(env, 'ROSTER_RATE_LIMIT_WRITES', 5_000, 0, 1_000_000_000),
    },
    bodyLimitBytes: intVar(env, 'ROSTER_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    http: {
      requestTimeoutMs: intVar(env, 'ROSTER_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
      headersTimeoutMs: intVar(env, 'ROSTER_HEADERS_TIMEOUT_MS', 10_000, 100, 3_600_000),
      keepAliveTimeoutMs: intVar(env, 'ROSTER_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
      maxConnections: intVar(env, 'ROSTER_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    },
    corsOrigins,
    stream: {
      intervalMs: intVar(env, 'ROSTER_STREAM_INTERVAL_MS', 50, 0, 60_000),
      heartbeatMs: intVar(env, 'ROSTER_STREAM_HEARTBEAT_MS', 15_000, 100, 3_600_000),
    },
    metricsToken: env.ROSTER_METRICS_TOKEN || null,
    twilioLimits: twilioLimits === 'on',
    clock,
    callbacks: {
      timeoutMs: intVar(env, 'ROSTER_CALLBACK_TIMEOUT_MS', 15_000, 100, 600_000),
      retryBaseMs: intVar(env, 'ROSTER_CALLBACK_RETRY_MS', 1_000, 10, 3_600_000),
      horizonMs: intVar(env, 'ROSTER_CALLBACK_RETRY_HORIZON_MS', 3_600_000, 0, 30 * 86_400_000),
      concurrency: intVar(env, 'ROSTER_CALLBACK_CONCURRENCY', 8, 1, 1_000),
    },
    eventRetentionDays: intVar(env, 'ROSTER_EVENT_RETENTION_DAYS', 30, 0, 36_500),
  };
}
