import type { Store } from './ports/store.js';
import { AccountService } from './accounts.js';
import { LocalChangeBus, type ChangeBus } from './changes.js';
import { ActivityService } from './activities.js';
import { StatisticsService } from './statistics.js';
import { TaskChannelService } from './task-channels.js';
import { WorkerService } from './workers.js';
import { WorkspaceService } from './workspaces.js';

export type Services = ReturnType<typeof createServices>;

export function createServices(store: Store, options: { now?: () => Date; changes?: ChangeBus } = {}) {
  const deps = {
    store,
    now: options.now ?? (() => new Date()),
    changes: options.changes ?? new LocalChangeBus(),
  };
  return {
    changes: deps.changes,
    accounts: new AccountService(deps),
    workspaces: new WorkspaceService(deps),
    activities: new ActivityService(deps),
    taskChannels: new TaskChannelService(deps),
    workers: new WorkerService(deps),
    statistics: new StatisticsService(deps),
  };
}
