import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

export interface RosterProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves when stdout has printed a line matching `pattern`; rejects if the process exits
   * first, or after `deadlineMs` (a safety net so a hung server fails the test with its output).
   */
  waitFor(pattern: RegExp, deadlineMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `roster <args>` from the TypeScript sources, as a separate process. */
export function runRoster(args: string[], env: Record<string, string>): RosterProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ROSTER_LOG_LEVEL: 'warn', ...env },
  });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const w of [...waiters]) {
      const m = out.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, deadlineMs = 20_000) {
      const m = out.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(`roster printed no ${pattern} within ${deadlineMs} ms\nstdout: ${out}\nstderr: ${err}`),
          );
        }, deadlineMs);
        const waiter = {
          pattern,
          resolve: (found: RegExpMatchArray) => {
            clearTimeout(timer);
            resolve(found);
          },
        };
        waiters.push(waiter);
        void exited.then(({ code }) => {
          clearTimeout(timer);
          reject(
            new Error(`roster exited (${code}) before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`),
          );
        });
      });
    },
  };
}
