/**
 * A Workflow's `Configuration`: the JSON routing document parsed once into a typed, compiled form.
 * Every choice where Twilio is silent is in docs/routing.md ("The configuration document").
 */
import { ConflictError, InvalidParameterError } from '../errors.js';
import {
  compileExpression,
  compileKeyReference,
  compileOrderBy,
  TARGET_SCOPE,
  TASK_SCOPE,
  WORKER_SCOPE,
  type CompiledExpression,
  type CompiledKeyReference,
  type CompiledOrderBy,
  type ExpressionScope,
} from '../expressions/index.js';
import { readsTimeOfDay } from './time-of-day.js';

const PARAMETER = 'Configuration';

/** Twilio's bound for a task's priority (CreateTask `Priority`: 0 to 2^31 − 1). */
export const MAX_PRIORITY = 2_147_483_647;
/** The longest a task can live (CreateTask `Timeout`); a longer step could never end. */
export const MAX_STEP_TIMEOUT = 1_209_600;
/** Bounds on the document's size, so one request cannot make routing arbitrarily slow. */
export const MAX_FILTERS = 1_000;
export const MAX_TARGETS = 100;

export interface KnownWorker {
  /** Which worker field the task's value names. */
  readonly by: 'sid' | 'friendly_name';
  /** Reads the value from the task (`task.transferTargetSid`). */
  readonly reference: CompiledKeyReference;
}

/** One routing step: a target of a filter. */
export interface WorkflowTarget {
  /** Its position in the filter's `targets`. */
  readonly index: number;
  readonly queueSid: string;
  /** True when the target had no `queue` and took the previous target's. */
  readonly queueInherited: boolean;
  /** Which of the queue's members may take the task (TARGET_SCOPE); absent: all of them. */
  readonly expression: CompiledExpression | undefined;
  /** The expression reads `taskrouter.*` as a worker key: eligibility adds the time of day. */
  readonly expressionReadsTimeOfDay: boolean;
  /** Overrides the task's priority while the task is in this step. */
  readonly priority: number | undefined;
  /** Seconds; absent: the step never times out. */
  readonly timeout: number | undefined;
  /** The task age (seconds) at which this step ends: the sum of this and earlier timeouts. */
  readonly expiresAtAge: number | undefined;
  readonly orderBy: CompiledOrderBy | undefined;
  /** Read against `{ workers: { available, unavailable, WA…: count } }` fields. */
  readonly skipIf: CompiledExpression | undefined;
  readonly knownWorker: KnownWorker | undefined;
}

export interface WorkflowFilter {
  /** Its position in `filters`. */
  readonly index: number;
  readonly friendlyName: string | undefined;
  /** Over the task's attributes (TASK_SCOPE). */
  readonly expression: CompiledExpression;
  readonly targets: readonly WorkflowTarget[];
}

export interface WorkflowConfiguration {
  readonly filters: readonly WorkflowFilter[];
  /** Where a task that matches no filter waits, without a timeout; absent: it waits unrouted. */
  readonly defaultQueueSid: string | undefined;
  /** Every TaskQueue the document names, each once, in order of first appearance. */
  readonly queueSids: readonly string[];
}

export interface ConfigurationContext {
  /** Whether a TaskQueue with this SID is in the workflow's workspace. */
  readonly queueExists: (sid: string) => boolean;
}

type Json = Record<string, unknown>;

/**
 * Parses and compiles a Workflow's `Configuration`. A bad document throws
 * InvalidParameterError('Configuration', …) whose message starts with the path inside it:
 * `task_routing.filters[1].targets[0].queue: WQ… is not a TaskQueue of this workspace`.
 */
export function parseWorkflowConfiguration(
  text: string,
  context: ConfigurationContext,
): WorkflowConfiguration {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidParameterError(PARAMETER, `Configuration is not valid JSON: ${reason}`);
  }
  const root = object(document, 'Configuration');
  const routing = object(root['task_routing'], 'task_routing');
  const queueSids = new Set<string>();
  const queue = (value: unknown, path: string): string => {
    const sid = string(value, path);
    if (!context.queueExists(sid)) fail(path, `${sid} is not a TaskQueue of this workspace`);
    queueSids.add(sid);
    return sid;
  };

  const filterList = optionalArray(routing['filters'], 'task_routing.filters') ?? [];
  if (filterList.length > MAX_FILTERS) {
    fail('task_routing.filters', `at most ${MAX_FILTERS} filters are allowed`);
  }
  const filters = filterList.map((value, index) =>
    parseFilter(value, index, `task_routing.filters[${index}]`, queue),
  );

  let defaultQueueSid: string | undefined;
  if (routing['default_filter'] !== undefined) {
    const path = 'task_routing.default_filter';
    const defaultFilter = object(routing['default_filter'], path);
    defaultQueueSid = queue(required(defaultFilter, 'queue', path), `${path}.queue`);
  }
  if (filters.length === 0 && defaultQueueSid === undefined) {
    fail('task_routing', 'needs at least one filter or a default_filter');
  }
  return { filters, defaultQueueSid, queueSids: [...queueSids] };
}

function parseFilter(
  value: unknown,
  index: number,
  path: string,
  queue: (value: unknown, path: string) => string,
): WorkflowFilter {
  const filter = object(value, path);
  const friendlyName =
    filter['filter_friendly_name'] === undefined
      ? undefined
      : string(filter['filter_friendly_name'], `${path}.filter_friendly_name`);
  const expression = compile(required(filter, 'expression', path), `${path}.expression`, TASK_SCOPE);
  const targetList = array(required(filter, 'targets', path), `${path}.targets`);
  if (targetList.length === 0) fail(`${path}.targets`, 'needs at least one target');
  if (targetList.length > MAX_TARGETS) fail(`${path}.targets`, `at most ${MAX_TARGETS} targets are allowed`);

  const targets: WorkflowTarget[] = [];
  let elapsed = 0;
  for (const [i, item] of targetList.entries()) {
    const targetPath = `${path}.targets[${i}]`;
    const target = object(item, targetPath);
    const previous = targets.at(-1);
    let queueSid: string;
    if (target['queue'] !== undefined) queueSid = queue(target['queue'], `${targetPath}.queue`);
    else if (previous !== undefined) queueSid = previous.queueSid;
    else fail(`${targetPath}.queue`, 'is required on the first target (later ones may inherit it)');

    const timeout = integer(target['timeout'], `${targetPath}.timeout`, 1, MAX_STEP_TIMEOUT);
    if (timeout !== undefined) elapsed += timeout;
    const knownSid = target['known_worker_sid'];
    const knownName = target['known_worker_friendly_name'];
    if (knownSid !== undefined && knownName !== undefined) {
      fail(targetPath, 'give known_worker_sid or known_worker_friendly_name, not both');
    }
    const expression = optionalCompile(target['expression'], `${targetPath}.expression`, TARGET_SCOPE);
    targets.push({
      index: i,
      queueSid,
      queueInherited: target['queue'] === undefined,
      expression,
      expressionReadsTimeOfDay: readsTimeOfDay(expression, TARGET_SCOPE.primary),
      priority: integer(target['priority'], `${targetPath}.priority`, 0, MAX_PRIORITY),
      timeout,
      expiresAtAge: timeout === undefined ? undefined : elapsed,
      orderBy:
        target['order_by'] === undefined
          ? undefined
          : compileOrderBy(string(target['order_by'], `${targetPath}.order_by`), {
              parameter: PARAMETER,
              label: `${targetPath}.order_by`,
              scope: WORKER_SCOPE,
            }),
      // The counters arrive as fields; no scope strips `workers.`, so any scope reads them.
      skipIf: optionalCompile(target['skip_if'], `${targetPath}.skip_if`, TASK_SCOPE),
      knownWorker:
        knownSid !== undefined
          ? knownWorker('sid', knownSid, `${targetPath}.known_worker_sid`)
          : knownName !== undefined
            ? knownWorker('friendly_name', knownName, `${targetPath}.known_worker_friendly_name`)
            : undefined,
    });
  }
  return { index, friendlyName, expression, targets };
}

function knownWorker(by: KnownWorker['by'], value: unknown, path: string): KnownWorker {
  const reference = compileKeyReference(string(value, path), {
    parameter: PARAMETER,
    label: path,
    scope: TASK_SCOPE,
  });
  return { by, reference };
}

function compile(value: unknown, path: string, scope: ExpressionScope): CompiledExpression {
  return compileExpression(string(value, path), { parameter: PARAMETER, label: path, scope });
}

function optionalCompile(
  value: unknown,
  path: string,
  scope: ExpressionScope,
): CompiledExpression | undefined {
  return value === undefined ? undefined : compile(value, path, scope);
}

function fail(path: string, message: string): never {
  throw new InvalidParameterError(PARAMETER, `${path}: ${message}`);
}

function object(value: unknown, path: string): Json {
  if (!isObject(value)) {
    fail(path, value === undefined ? 'is required' : 'must be a JSON object');
  }
  return value as Json;
}

function required(parent: Json, key: string, path: string): unknown {
  const value = parent[key];
  if (value === undefined) fail(`${path}.${key}`, 'is required');
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'must be a JSON array');
  return value;
}

function optionalArray(value: unknown, path: string): unknown[] | undefined {
  return value === undefined ? undefined : array(value, path);
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'must be a string');
  return value;
}

/**
 * An integer in [min, max], or undefined when absent. Twilio's own page writes
 * `"timeout": "<duration>"`, so a string of digits is read as its number.
 */
function integer(value: unknown, path: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    fail(path, `must be an integer from ${min} to ${max}`);
  }
  return number;
}

/**
 * The TaskQueue SIDs a stored (already validated) configuration names, read without compiling
 * it: what the queue-deletion check needs for workflows not held compiled. Tolerant of any
 * shape: what is not a queue SID where one belongs is left out.
 */
export function queuesNamedBy(text: string): string[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return [];
  }
  const sids = new Set<string>();
  const add = (holder: unknown) => {
    const queue = isObject(holder) ? holder['queue'] : undefined;
    if (typeof queue === 'string') sids.add(queue);
  };
  const routing = isObject(document) ? document['task_routing'] : undefined;
  if (!isObject(routing)) return [];
  const filters = routing['filters'];
  for (const filter of Array.isArray(filters) ? filters : []) {
    const targets = isObject(filter) ? filter['targets'] : undefined;
    for (const target of Array.isArray(targets) ? targets : []) add(target);
  }
  add(routing['default_filter']);
  return [...sids];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stored workflow as the queue-deletion check needs it. */
export interface WorkflowQueueReferences {
  readonly sid: string;
  readonly friendlyName: string;
  readonly queueSids: readonly string[];
}

/**
 * Refuses to delete a TaskQueue that a workflow's configuration names (Twilio refuses it too;
 * a workflow pointing at a missing queue could route nothing), naming the first such workflow.
 */
export function assertQueueUnreferenced(
  queueSid: string,
  workflows: Iterable<WorkflowQueueReferences>,
): void {
  for (const workflow of workflows) {
    if (workflow.queueSids.includes(queueSid)) {
      throw new ConflictError(
        `The TaskQueue ${queueSid} cannot be deleted: the Workflow ${workflow.sid} ` +
          `(${workflow.friendlyName}) routes tasks to it`,
      );
    }
  }
}
