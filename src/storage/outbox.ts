import type { CommittedEventsListener, NewDomainEvent } from '../services/ports/store.js';

/** The listeners of committed events (the transactional outbox's publishing side). */
export class Outbox {
  private readonly listeners = new Set<CommittedEventsListener>();

  on(listener: CommittedEventsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** After a commit: a failing listener must not break the write that already committed, nor the others. */
  publish(events: readonly NewDomainEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch {
        // see above
      }
    }
  }
}
