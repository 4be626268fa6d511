import { ConfigError, loadConfig } from '../config.js';
import { DEMO_HELP, parseDemoArgs, runDemo } from './demo.js';
import { runSeed } from './seed.js';
import { serve, type Output } from './serve.js';

export const HELP = `roster — a self-hosted server that speaks Twilio TaskRouter's v1 REST API

Usage:
  roster serve            start the server (default)
  roster seed --workers N [--name NAME]
                          create a workspace with N workers spread over its activities and
                          channels, in the same data directory; prints its SID last
  roster demo [--workers N] [--pace X]
                          Roster with a simulated contact centre (npm run demo); see demo --help
  roster --help           show this help

Environment:
  PORT                        port to listen on (default 8080)
  HOST                        address to listen on (default 127.0.0.1)
  ROSTER_DATA_DIR             where the SQLite database and credentials live (default ./data)
  ROSTER_PUBLIC_URL           base of every URL in responses (default http://HOST:PORT)
  ROSTER_ACCOUNT_SID          account to serve (AC + 32 hex digits); set with ROSTER_AUTH_TOKEN
  ROSTER_AUTH_TOKEN           that account's auth token
  ROSTER_SQLITE_SYNCHRONOUS   NORMAL (default: survives a crash) or FULL (also survives power loss)
  DATABASE_URL                postgres://user@host:port/db: keep data in PostgreSQL instead of
                              SQLite; several nodes can share one database (migrations run at start)
  ROSTER_PG_POOL_SIZE         PostgreSQL connections per node (default 10)
  ROSTER_PG_STATEMENT_TIMEOUT_MS
                              longest a PostgreSQL statement may run (default 10000; 0 = no limit)
  ROSTER_PG_QUERY_TIMEOUT_MS  the client gives up on a query with no reply (default 15000; 0 = never)
  ROSTER_PG_CONNECT_TIMEOUT_MS
                              longest wait for a PostgreSQL connection (default 5000)
  ROSTER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS
                              PostgreSQL ends a session idle inside a transaction (default 30000)
  ROSTER_PG_KEEPALIVE_MS      TCP keepalive on PostgreSQL connections after this idle (default 10000)
  ROSTER_RATE_LIMIT_READS     GET requests per second per account (default 10000; 0 = no limit)
  ROSTER_RATE_LIMIT_WRITES    POST/DELETE requests per second per account (default 5000; 0 = no limit)
  ROSTER_BODY_LIMIT           largest request body in bytes (default 1048576)
  ROSTER_TWILIO_LIMITS        on (default): Twilio's limits (channel capacity 50, 100 activities and
                              15 task channels per workspace); off lifts them
  ROSTER_CORS_ORIGINS         comma-separated browser origins trusted with credentials and writes
  ROSTER_REQUEST_TIMEOUT_MS   a request must arrive within this (default 30000; else 408)
  ROSTER_HEADERS_TIMEOUT_MS   a request head must arrive within this (default 10000)
  ROSTER_KEEP_ALIVE_TIMEOUT_MS
                              idle keep-alive connections close after this (default 72000)
  ROSTER_MAX_CONNECTIONS      connections beyond this are refused (default 10000)
  ROSTER_STREAM_INTERVAL_MS   statistics streams: at most one event per this many ms (default 50)
  ROSTER_STREAM_HEARTBEAT_MS  statistics streams: heartbeat comment interval (default 15000)
  ROSTER_METRICS_TOKEN        when set, GET /metrics needs Authorization: Bearer <token>
  ROSTER_CALLBACK_TIMEOUT_MS  event callbacks: an attempt waits this long for an answer (default 15000)
  ROSTER_CALLBACK_RETRY_MS    event callbacks: first retry after this; each next one twice as late,
                              at most 5 minutes apart (default 1000)
  ROSTER_CALLBACK_RETRY_HORIZON_MS
                              event callbacks: give a delivery up this long after its first attempt
                              (default 3600000; 0 = no retries)
  ROSTER_CALLBACK_CONCURRENCY event callbacks sent at once per node, one per workspace (default 8)
  ROSTER_EVENT_RETENTION_DAYS events older than this are deleted, hourly (default 30; 0 = keep all)
  ROSTER_LOG_LEVEL            pino log level (default info)
  ROSTER_CLOCK                system (default) or manual: time moves only when told, by
                              POST /roster/v1/Clock (Advance=<seconds> or Time=<ISO 8601>)
`;

const stdout: Output = { line: (t) => process.stdout.write(t + '\n') };

/** Runs the `roster` command; returns the exit code for commands that finish. */
export async function runCli(argv: string[]): Promise<number | 'running'> {
  const [command = 'serve', ...rest] = argv;
  if (command === 'demo' && rest.includes('--help')) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  if (command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    if (command === 'serve') {
      stopOnSignal(await serve(loadConfig(), stdout), 'finishing requests in flight, then stopping');
      return 'running';
    }
    if (command === 'demo') {
      stopOnSignal(await runDemo(loadConfig(), parseDemoArgs(rest), stdout), 'stopping the demo');
      return 'running';
    }
    if (command === 'seed') return await runSeed(loadConfig(), rest, stdout);
    process.stderr.write(`roster: unknown command "${command}"\n\n${HELP}`);
    return 2;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`roster: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** The one shutdown path: SIGTERM or SIGINT stops the server cleanly, then the process exits. */
function stopOnSignal(running: { stop: () => Promise<void> }, what: string): void {
  const shutdown = (signal: string) => {
    process.stdout.write(`${signal}: ${what}\n`);
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`roster: error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
