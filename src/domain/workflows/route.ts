/**
 * Where a workflow sends a task: the first filter its attributes match, the routing step its age
 * puts it in, and when that changes. Pure: the task's age is passed in. docs/routing.md explains
 * each rule and where it comes from.
 */
import type { Fields } from '../expressions/index.js';
import type { WorkflowConfiguration, WorkflowFilter, WorkflowTarget } from './configuration.js';

/**
 * A task as a workflow reads it: its attributes (parsed JSON) and fields beside them. For
 * Twilio's time-of-day keys the fields include timeOfDayFields(now).
 */
export interface TaskDocument {
  readonly attributes: unknown;
  readonly fields?: Fields;
}

/**
 * How far a task has been moved on by `skip_if`: steps of filter `filterIndex` before
 * `stepIndex`, and every filter before `filterIndex`, are behind it. START is where every
 * task begins, and where it begins again when it is re-evaluated.
 */
export interface RouteCursor {
  readonly filterIndex: number;
  readonly stepIndex: number;
}

export const START: RouteCursor = { filterIndex: 0, stepIndex: 0 };

export type Route =
  /** Waiting in a step of a filter, until `target.expiresAtAge` (if any). */
  | {
      readonly kind: 'target';
      readonly filter: WorkflowFilter;
      readonly target: WorkflowTarget;
      readonly queueSid: string;
    }
  /** No filter matched: waiting in default_filter's queue, with no timeout. */
  | { readonly kind: 'default'; readonly queueSid: string }
  /** No filter matched and there is no default_filter: the task waits in no queue until its TTL. */
  | { readonly kind: 'unrouted' }
  /** The task's age is past its filter's last step: the workflow timed out; cancel the task. */
  | { readonly kind: 'timed-out'; readonly filter: WorkflowFilter };

/**
 * The route of a task of the given age (seconds since it was created). Filters are tried top
 * to bottom; a filter whose steps have all been skipped counts as not matched. Within the
 * filter, the task is in the first step (from the cursor on) whose cumulative timeout its age
 * has not reached: step k ends at age ≥ timeout[0] + … + timeout[k].
 */
export function routeTask(
  configuration: WorkflowConfiguration,
  task: TaskDocument,
  age: number,
  from: RouteCursor = START,
): Route {
  const { filters } = configuration;
  for (let i = from.filterIndex; i < filters.length; i++) {
    const filter = filters[i]!;
    if (!filter.expression.test(task.attributes, task.fields)) continue;
    const first = i === from.filterIndex ? from.stepIndex : 0;
    if (first >= filter.targets.length) continue;
    const target = stepForAge(filter, age, first);
    if (target === undefined) return { kind: 'timed-out', filter };
    return { kind: 'target', filter, target, queueSid: target.queueSid };
  }
  const queueSid = configuration.defaultQueueSid;
  return queueSid === undefined ? { kind: 'unrouted' } : { kind: 'default', queueSid };
}

/** The first step from `first` on that has not ended at this age; undefined past the last. */
export function stepForAge(filter: WorkflowFilter, age: number, first = 0): WorkflowTarget | undefined {
  for (let k = first; k < filter.targets.length; k++) {
    const target = filter.targets[k]!;
    if (target.expiresAtAge === undefined || age < target.expiresAtAge) return target;
  }
  return undefined;
}

/** Where routing continues after `skip_if` skipped the route's step. */
export function cursorAfterSkip(route: Route & { kind: 'target' }): RouteCursor {
  return { filterIndex: route.filter.index, stepIndex: route.target.index + 1 };
}

/**
 * The task age (seconds) at which the route changes by itself: the step's end. Undefined when
 * only an event can move the task (default_filter, a step without a timeout, no route).
 */
export function routeChangesAtAge(route: Route): number | undefined {
  return route.kind === 'target' ? route.target.expiresAtAge : undefined;
}

/** When the route changes by itself, for a task created at `dateCreated`; see routeChangesAtAge. */
export function routeChangesAt(route: Route, dateCreated: Date): Date | undefined {
  const age = routeChangesAtAge(route);
  return age === undefined ? undefined : new Date(dateCreated.getTime() + age * 1000);
}

/** A task's age in seconds at `now` (milliseconds kept: a step ends exactly on time). */
export function taskAge(dateCreated: Date, now: Date): number {
  return (now.getTime() - dateCreated.getTime()) / 1000;
}

/** The task's priority while on this route: a target's `priority` overrides the task's own. */
export function effectivePriority(route: Route, taskPriority: number): number {
  return route.kind === 'target' ? (route.target.priority ?? taskPriority) : taskPriority;
}
