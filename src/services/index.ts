import { TWILIO_LIMITS } from '../domain/defaults.js';
import { ManualClock, type Clock } from '../domain/clock.js';
import { AccountService } from './accounts.js';
import { ActivityService } from './activities.js';
import { systemClock } from './clock.js';
import { LocalChangeBus, type ChangeBus, type WorkspaceChange } from './ports/changes.js';
import type { NewDomainEvent, Store } from './ports/store.js';
import { StatisticsService } from './statistics.js';
import { MEMBERSHIP_TIMER, QueueMembership } from './membership.js';
import { Reclaimer, type ReclaimerOptions } from './reclaimer.js';
import { TaskChannelService } from './task-channels.js';
import { RoutingEngine } from './routing.js';
import { TaskQueueService } from './task-queues.js';
import { ReservationService, TaskService } from './tasks.js';
import { WorkerService } from './workers.js';
import { WorkflowService } from './workflows.js';
import { WorkspaceService } from './workspaces.js';
import { TimeControl } from '../timers/time-control.js';
import { TimerService } from '../timers/timer-service.js';
import { EventService } from './events.js';
import { CumulativeStatisticsService } from './cumulative-statistics.js';
import { StatisticsRoller } from './statistics-roller.js';

export type Services = ReturnType<typeof createServices>;

export interface ServiceOptions {
  /** Time for the services (default: the system clock). A ManualClock can be moved by the API (`time`). */
  clock?: Clock;
  /** Only the current time, e.g. a fixed one; timers then use the system clock. */
  now?: () => Date;
  changes?: ChangeBus;
  /** Hears timer firings that failed (they are tried again). */
  onTimerError?: (err: unknown) => void;
  /** Twilio's limits (default on); false lifts them. */
  twilioLimits?: boolean;
  /** How the background deletes of large resources run (tests make batches small). */
  reclaimer?: ReclaimerOptions;
}

export function createServices(store: Store, options: ServiceOptions = {}) {
  const now = options.now;
  const clock: Clock =
    options.clock ?? (now ? { now: () => now().getTime(), setTimer: systemClock.setTimer } : systemClock);
  const deps = {
    store,
    clock,
    now: () => new Date(clock.now()),
    changes: options.changes ?? new LocalChangeBus(),
    limits: options.twilioLimits === false ? null : TWILIO_LIMITS,
  };
  const membership = new QueueMembership();
  /** Durable timers (task TTLs, step and reservation timeouts, membership passes); `serve` starts them. */
  const timers = new TimerService(deps, { onError: options.onTimerError });
  // A queue's membership pass that its write could not finish is finished by this timer.
  timers.on(MEMBERSHIP_TIMER, (tx, timer) => membership.finishPass(tx, timer, clock.now()));
  // The outbox's publisher: change notifications come from the events each commit appended.
  store.onEvents((events) => {
    for (const change of changesOf(events)) deps.changes.publish(change);
  });
  const routing = new RoutingEngine(deps, membership, timers);
  return {
    clock,
    /** Moves a manual clock and fires the timers on the way (POST /roster/v1/Clock); null on the system clock. */
    time: clock instanceof ManualClock ? new TimeControl({ clock, store, timers }) : null,
    changes: deps.changes,
    accounts: new AccountService(deps),
    workspaces: new WorkspaceService(deps),
    activities: new ActivityService(deps, membership, routing),
    taskChannels: new TaskChannelService(deps),
    workers: new WorkerService(deps, membership, routing),
    taskQueues: new TaskQueueService(deps, membership, routing),
    workflows: new WorkflowService(deps, routing),
    tasks: new TaskService(deps, routing),
    reservations: new ReservationService(deps, routing),
    statistics: new StatisticsService(deps),
    cumulativeStatistics: new CumulativeStatisticsService(deps),
    /** Folds closed minutes of the event log into the cumulative statistics' rollups; `serve` starts it. */
    statisticsRoller: new StatisticsRoller({ store, clock, onError: options.onTimerError }),
    events: new EventService(deps),
    timers,
    /** Deletes what workspace and task channel deletes left, in small batches; `serve` starts it. */
    reclaimer: new Reclaimer(deps, { onError: options.onTimerError, ...options.reclaimer }),
  };
}

/** One notification per workspace a transaction changed ('deleted' when it deleted the workspace). */
export function changesOf(events: readonly NewDomainEvent[]): WorkspaceChange[] {
  const changes = new Map<string, WorkspaceChange>();
  for (const e of events) {
    const kind = e.type === 'workspace.deleted' ? 'deleted' : 'updated';
    const seen = changes.get(e.workspaceSid);
    if (seen && seen.kind === 'deleted') continue;
    changes.set(e.workspaceSid, { accountSid: e.accountSid, workspaceSid: e.workspaceSid, kind });
  }
  return [...changes.values()];
}
