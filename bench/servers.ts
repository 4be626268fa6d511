import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A server the benchmarks started as a child process. */
export interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  startupMs: number;
}

/** Spawns a server and resolves when its stdout says where it listens (no sleeps). */
export async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  listening: RegExp,
): Promise<Server> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const m = listening.exec(line);
    if (m) {
      const startupMs = performance.now() - started;
      lines.on('line', () => undefined);
      return { name, url: m[1]!, child, startupMs };
    }
  }
  throw new Error(`${name} exited before listening:\n${stderr}`);
}

export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await exited;
}
