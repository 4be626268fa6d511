import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between a Roster node and PostgreSQL that fails the way networks do: `cut()`
 * drops every connection and refuses new ones (the database went away); `stall()` keeps every
 * connection open but lets no reply through, and accepts new ones without ever answering them
 * (a vanished host, replies dropped); `restore()` lets traffic flow again.
 */
export class FaultyProxy {
  private mode: 'up' | 'cut' | 'stalled' = 'up';
  private readonly pairs = new Set<[client: Socket, upstream: Socket]>();
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(target: { host: string; port: number }): Promise<FaultyProxy> {
    const server = createServer();
    const proxy = new FaultyProxy(server);
    server.on('connection', (client) => proxy.accept(client, target));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    this.track(client);
    if (this.mode === 'stalled') return; // accepted, never answered
    const upstream = connect(target.port, target.host);
    this.track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
  }

  /** Every connection dropped; new ones refused until `restore()`. */
  cut(): void {
    this.mode = 'cut';
    for (const socket of this.sockets) socket.destroy();
  }

  /** Replies stop: nothing the server sends reaches the client any more. */
  stall(): void {
    this.mode = 'stalled';
    for (const [client, upstream] of this.pairs) upstream.unpipe(client);
  }

  restore(): void {
    this.mode = 'up';
  }

  /** Drops every connection, answered or not, and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}
