import type { Store } from '../storage/store.js';
import { AccountService } from './accounts.js';
import { ActivityService } from './activities.js';
import { StatisticsService } from './statistics.js';
import { TaskChannelService } from './task-channels.js';
import { WorkerService } from './workers.js';
import { WorkspaceService } from './workspaces.js';

export type Services = ReturnType<typeof createServices>;

export function createServices(store: Store, now: () => Date = () => new Date()) {
  const deps = { store, now };
  return {
    accounts: new AccountService(deps),
    workspaces: new WorkspaceService(deps),
    activities: new ActivityService(deps),
    taskChannels: new TaskChannelService(deps),
    workers: new WorkerService(deps),
    statistics: new StatisticsService(deps),
  };
}
