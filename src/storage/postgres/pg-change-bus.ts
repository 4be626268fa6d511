import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  LocalChangeBus,
  type ChangeBus,
  type ChangeListener,
  type WorkspaceChange,
} from '../../services/ports/changes.js';
import type { PostgresStore } from './postgres-store.js';

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

interface Notice {
  node: string;
  accountSid: string;
  workspaceSid: string;
  kind: WorkspaceChange['kind'];
}

function parseNotice(payload: string | undefined): Notice | null {
  try {
    const n = JSON.parse(payload ?? '') as Partial<Notice>;
    if (typeof n.node !== 'string' || typeof n.accountSid !== 'string' || typeof n.workspaceSid !== 'string')
      return null;
    return {
      node: n.node,
      accountSid: n.accountSid,
      workspaceSid: n.workspaceSid,
      kind: n.kind === 'deleted' ? 'deleted' : 'updated',
    };
  } catch {
    return null;
  }
}

/**
 * Change notifications shared by every node on one PostgreSQL database. A change published
 * here (after its commit) reaches this node's subscribers at once and the other nodes' by
 * NOTIFY; what arrives by LISTEN from this node itself is skipped, so each subscriber hears
 * every change once. The LISTEN session reconnects by itself; changes made while it was
 * down are not replayed (a subscriber that must not miss one re-reads after `onResync`).
 */
export class PgChangeBus implements ChangeBus {
  private readonly local = new LocalChangeBus();
  private readonly node = randomUUID();
  private listener: pg.Client | null = null;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private hadListener = false;
  private connected: Promise<void>;
  private readonly resyncListeners = new Set<() => void>();

  constructor(
    private readonly store: PostgresStore,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.connected = this.listen();
  }

  /** Resolves once the LISTEN session is up (or, after a failure, once a retry is scheduled). */
  ready(): Promise<void> {
    return this.connected;
  }

  publish(change: WorkspaceChange): void {
    this.local.publish(change);
    const notice: Notice = { node: this.node, ...change };
    this.store.notify(JSON.stringify(notice)).catch((err: unknown) => this.onError(err as Error));
  }

  subscribe(listener: ChangeListener): () => void {
    return this.local.subscribe(listener);
  }

  /** Called after the LISTEN session came back: changes made meanwhile were not heard. */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = this.store.newClient();
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (err) this.onError(err);
      if (this.listener === client) this.listener = null;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel !== this.store.notifyChannel) return;
      const notice = parseNotice(msg.payload);
      if (notice === null || notice.node === this.node) return;
      this.local.publish({
        accountSid: notice.accountSid,
        workspaceSid: notice.workspaceSid,
        kind: notice.kind,
      });
    });
    try {
      await this.store.ready();
      await client.connect();
      await client.query(`LISTEN "${this.store.notifyChannel}"`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const wasReconnect = this.hadListener;
    this.listener = client;
    this.hadListener = true;
    this.reconnectDelay = RECONNECT_MIN_MS;
    if (wasReconnect) for (const l of this.resyncListeners) l();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const wait = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connected = this.listen();
    }, wait);
    this.reconnectTimer.unref();
  }

  /** True while the LISTEN session is up. */
  get listening(): boolean {
    return this.listener !== null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.connected.catch(() => undefined);
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => undefined);
  }
}
