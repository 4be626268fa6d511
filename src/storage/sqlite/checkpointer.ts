import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints the write-ahead log on a thread of its own, so that no request waits for one.
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the log past 1,000 pages: it
 * copies those pages into the database file and syncs it (an fsync, even at synchronous=NORMAL),
 * on the event loop, while every request waits; under a stream of small commits (worker updates
 * spread over a million rows) that was the larger part of the time a commit took.
 *
 * Here the writer's automatic checkpoint is set far higher (`WRITER_AUTOCHECKPOINT_PAGES`, a
 * safety net only) and, every `every` commits, a thread with a connection of its own runs a
 * PASSIVE checkpoint: it copies what no reader still needs and never blocks the writer or the
 * readers. SQLite then starts the log over at the writer's next transaction once all of it is
 * copied. What a commit makes durable does not change (the log is what is durable; a checkpoint
 * only moves it), nor does a crash in the middle of a checkpoint lose anything. The thread starts
 * on the first request, so a store that commits little never starts one.
 */
export const WRITER_AUTOCHECKPOINT_PAGES = 10_000;

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // A busy or vanished file: the next request tries again, and the writer's own checkpoint
    // remains the safety net.
  }
  parentPort.postMessage('done');
});
`;

export class Checkpointer {
  private thread: Worker | null = null;
  private commits = 0;
  private running = false;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly path: string,
    private readonly every = 64,
  ) {}

  /** After each commit: every `every` of them, a checkpoint (unless one is still running). */
  committed(): void {
    if (this.closed || ++this.commits < this.every || this.running) return;
    this.commits = 0;
    this.running = true;
    (this.thread ??= this.start()).postMessage('checkpoint');
  }

  private start(): Worker {
    const thread = new Worker(THREAD, {
      eval: true,
      workerData: { path: this.path, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    thread.on('message', () => {
      this.running = false;
      for (const resolve of this.idle.splice(0)) resolve();
    });
    // Without the thread, the writer's own automatic checkpoint still keeps the log bounded.
    thread.on('error', () => {
      this.thread = null;
      this.closed = true;
      this.running = false;
      for (const resolve of this.idle.splice(0)) resolve();
    });
    thread.unref();
    return thread;
  }

  /** Resolves once no checkpoint is running. */
  whenIdle(): Promise<void> {
    return this.running ? new Promise((resolve) => this.idle.push(resolve)) : Promise.resolve();
  }

  /** Lets a running checkpoint finish, then closes the thread's connection. */
  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    if (!thread) return;
    this.thread = null;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    // Referenced again until it has exited: the thread is all that keeps the process up while
    // this is awaited (at shutdown), and the store closes its own connections only after.
    thread.ref();
    thread.postMessage('close');
    await exited;
  }
}
