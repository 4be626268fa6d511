import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got: its path, headers and form parameters. */
export interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  params: Record<string, string>;
}

/**
 * A local HTTP receiver for callbacks (127.0.0.1, a free port): records every request and
 * answers with `respond` (a status and body); `next(n)` resolves once n requests have come.
 */
export class Receiver {
  readonly received: Received[] = [];
  respond: (r: Received) => { status: number; body?: string; contentType?: string } = () => ({ status: 204 });
  private waiters: { n: number; resolve: () => void }[] = [];
  private server: Server | undefined;
  url = '';

  async start(path = '/callbacks?from=roster'): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        const r: Received = { url: req.url ?? '', headers: req.headers, params };
        this.received.push(r);
        const answer = this.respond(r);
        res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
        res.end(answer.body ?? '');
        this.waiters = this.waiters.filter((w) => {
          if (this.received.length < w.n) return true;
          w.resolve();
          return false;
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${path}`;
    return this;
  }

  /** Resolves once `n` requests have come in all. */
  until(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  types(): string[] {
    return this.received.map((r) => r.params.EventType!);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
