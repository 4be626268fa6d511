import {
  compileExpression,
  WORKER_SCOPE,
  type CompiledExpression,
  type Fields,
} from './expressions/index.js';
import type { Worker } from './types.js';

/** TaskQueue `TargetWorkers` when none is given: every worker. */
export const DEFAULT_TARGET_WORKERS = '1==1';
export const MAX_RESERVED_WORKERS = 50;

/**
 * Compiles a queue's TargetWorkers; a malformed one is a 400 saying where it fails. An empty
 * one matches no worker: Twilio says tasks then wait in the queue until deleted or moved.
 */
export function compileTargetWorkers(source: string, parameter = 'TargetWorkers'): CompiledExpression {
  if (source.trim() === '')
    return { ...compileExpression('1 == 0', { parameter, scope: WORKER_SCOPE }), source };
  return compileExpression(source, { parameter, scope: WORKER_SCOPE });
}

/** Worker fields that change after the worker is made (`sid` never does). */
const CHANGING_FIELDS = new Set(['friendly_name', 'activity_sid', 'activity_name']);

/**
 * Whether membership in the queue can change when a worker changes activity or name, or an
 * activity is renamed: its expression reads one of those fields (bare or `worker.`).
 */
export function readsChangingWorkerFields(expression: CompiledExpression): boolean {
  return expression.keys.some(
    (k) => k.document === WORKER_SCOPE.primary && CHANGING_FIELDS.has(String(k.path[0])),
  );
}

/** A worker as queue expressions see it: its attributes, beside the fields Twilio names. */
export interface WorkerDocument {
  attributes: unknown;
  fields: Fields;
}

export function workerDocument(
  w: Pick<Worker, 'sid' | 'friendlyName' | 'activitySid' | 'activityName' | 'attributes'>,
): WorkerDocument {
  return {
    attributes: JSON.parse(w.attributes) as unknown,
    fields: {
      sid: w.sid,
      friendly_name: w.friendlyName,
      activity_sid: w.activitySid,
      activity_name: w.activityName,
    },
  };
}

export function matchesQueue(expression: CompiledExpression, worker: WorkerDocument): boolean {
  return expression.test(worker.attributes, worker.fields);
}
