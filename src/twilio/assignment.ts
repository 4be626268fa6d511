import { pascalCase } from './events.js';

/**
 * Assignment callbacks on the wire: the form parameters TaskRouter POSTs to a workflow's
 * AssignmentCallbackUrl when it reserves a worker for a task, and the instruction the answer
 * may carry, as the Reservation update's parameters.
 */

/** What an assignment callback says of the task, the worker and the reservation. */
export interface AssignmentContext {
  accountSid: string;
  workspaceSid: string;
  workflowSid: string;
  taskQueueSid: string | null;
  taskSid: string;
  taskAgeSeconds: number;
  taskPriority: number;
  taskAttributes: string;
  workerSid: string;
  workerAttributes: string;
  reservationSid: string;
  assignmentCallbackUrl: string | null;
  fallbackAssignmentCallbackUrl: string | null;
}

export function assignmentCallbackParams(c: AssignmentContext): Record<string, string> {
  return {
    AccountSid: c.accountSid,
    WorkspaceSid: c.workspaceSid,
    WorkflowSid: c.workflowSid,
    ...(c.taskQueueSid === null ? {} : { TaskQueueSid: c.taskQueueSid }),
    TaskSid: c.taskSid,
    TaskAge: String(c.taskAgeSeconds),
    TaskPriority: String(c.taskPriority),
    TaskAttributes: c.taskAttributes,
    WorkerSid: c.workerSid,
    WorkerAttributes: c.workerAttributes,
    ReservationSid: c.reservationSid,
  };
}

export const ASSIGNMENT_INSTRUCTIONS = [
  'accept',
  'reject',
  'dequeue',
  'call',
  'redirect',
  'conference',
] as const;
export type AssignmentInstructionName = (typeof ASSIGNMENT_INSTRUCTIONS)[number];

/**
 * An instruction as the Reservation update takes it: `Instruction`, `WorkerActivitySid` (a
 * reject's `activity_sid`), and the instruction's own parameters by their update names.
 */
export interface AssignmentInstruction {
  instruction: AssignmentInstructionName;
  workerActivitySid?: string;
  parameters: Record<string, string>;
}

/** The prefix of each instruction's parameters in the Reservation update (`from` → `DequeueFrom`). */
const PREFIX: Record<AssignmentInstructionName, string> = {
  accept: '',
  reject: '',
  dequeue: 'Dequeue',
  call: 'Call',
  redirect: 'Redirect',
  conference: '',
};

export type ParsedAnswer =
  | { kind: 'instruction'; instruction: AssignmentInstruction }
  /** An empty answer: the reservation stays pending, for the worker to accept or reject. */
  | { kind: 'none' }
  | { kind: 'invalid'; why: string };

/**
 * The answer to an assignment callback: a JSON object with `instruction` (and its
 * parameters, snake_case as Twilio documents them), or an empty body.
 */
export function parseAssignmentAnswer(body: string): ParsedAnswer {
  if (body.trim() === '') return { kind: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: 'invalid', why: 'the answer is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', why: 'the answer is not a JSON object' };
  }
  const o = value as Record<string, unknown>;
  const name = typeof o.instruction === 'string' ? o.instruction.toLowerCase() : undefined;
  if (name === undefined) return { kind: 'none' };
  if (!(ASSIGNMENT_INSTRUCTIONS as readonly string[]).includes(name)) {
    return { kind: 'invalid', why: `unknown instruction "${String(o.instruction)}"` };
  }
  const instruction: AssignmentInstruction = {
    instruction: name as AssignmentInstructionName,
    parameters: {},
  };
  for (const [key, v] of Object.entries(o)) {
    if (key === 'instruction' || v === null || v === undefined) continue;
    const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v as number);
    if (key === 'activity_sid' || key === 'worker_activity_sid') instruction.workerActivitySid = text;
    else instruction.parameters[PREFIX[instruction.instruction] + pascalCase(key)] = text;
  }
  return { kind: 'instruction', instruction };
}
