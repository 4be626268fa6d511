/**
 * Change notifications: one per workspace a commit changed, published after the commit from
 * the events it appended (the outbox's publisher, in `createServices`).
 * A node-local bus by default; a store with several nodes can fan it out (e.g. LISTEN/NOTIFY).
 */
export interface WorkspaceChange {
  accountSid: string;
  workspaceSid: string;
  /** 'deleted' when the workspace itself is gone. */
  kind: 'updated' | 'deleted';
}

export type ChangeListener = (change: WorkspaceChange) => void;

export interface ChangeBus {
  publish(change: WorkspaceChange): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
}

export class LocalChangeBus implements ChangeBus {
  private readonly listeners = new Set<ChangeListener>();

  publish(change: WorkspaceChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A failing subscriber must not break the write that already committed, nor the others.
      }
    }
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
