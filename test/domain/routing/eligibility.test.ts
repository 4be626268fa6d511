import { describe, expect, it } from 'vitest';
import {
  ineligibility,
  isEligible,
  knownWorkerProblem,
  knownWorkerValue,
  type Ineligibility,
  type WorkerCandidate,
} from '../../../src/domain/routing/eligibility.js';
import {
  parseWorkflowConfiguration,
  type WorkflowTarget,
} from '../../../src/domain/workflows/configuration.js';
import type { TaskDocument } from '../../../src/domain/workflows/route.js';

const Q1 = 'WQ' + '1'.repeat(32);
const WK = 'WK' + 'a'.repeat(32);

const target = (fields: Record<string, unknown>): WorkflowTarget =>
  parseWorkflowConfiguration(
    JSON.stringify({
      task_routing: { filters: [{ expression: '1==1', targets: [{ queue: Q1, ...fields }] }] },
    }),
    { queueExists: (sid) => sid === Q1 },
  ).filters[0]!.targets[0]!;

const worker = (overrides: Partial<WorkerCandidate> = {}): WorkerCandidate => ({
  sid: WK,
  friendlyName: 'alice',
  attributes: { level: 3, languages: ['en'] },
  fields: { sid: WK, friendly_name: 'alice', activity_name: 'Idle' },
  queueMember: true,
  activityAvailable: true,
  channel: { available: true, capacity: 2, assignedTasks: 0, pendingReservations: 0 },
  heldTasks: 0,
  ...overrides,
});

const task: TaskDocument = { attributes: { language: 'en', agent: WK, agent_name: 'alice', min_level: 2 } };
const multi = (t?: WorkflowTarget) => ({ target: t, multitasking: true });
const single = (t?: WorkflowTarget) => ({ target: t, multitasking: false });
const channel = (assignedTasks: number, pendingReservations: number, capacity = 2, available = true) => ({
  available,
  capacity,
  assignedTasks,
  pendingReservations,
});

describe('worker eligibility in a step', () => {
  const plain = target({});
  it.each<[string, WorkerCandidate, WorkflowTarget, boolean, Ineligibility | undefined]>([
    ['a free member', worker(), plain, true, undefined],
    ['not a member of the step’s queue', worker({ queueMember: false }), plain, true, 'not-queue-member'],
    ['in an unavailable activity', worker({ activityAvailable: false }), plain, true, 'activity-unavailable'],
    ['no channel for the task’s channel', worker({ channel: undefined }), plain, true, 'no-channel'],
    [
      'its channel switched off',
      worker({ channel: channel(0, 0, 2, false) }),
      plain,
      true,
      'channel-unavailable',
    ],
    ['capacity left', worker({ channel: channel(1, 0) }), plain, true, undefined],
    ['capacity used by assigned tasks', worker({ channel: channel(2, 0) }), plain, true, 'no-capacity'],
    ['pending reservations hold capacity', worker({ channel: channel(1, 1) }), plain, true, 'no-capacity'],
    ['a zero-capacity channel', worker({ channel: channel(0, 0, 0) }), plain, true, 'no-capacity'],
    ['single-tasking, holding nothing', worker({ channel: undefined }), plain, false, undefined],
    ['single-tasking, holding a task', worker({ heldTasks: 1 }), plain, false, 'busy'],
    [
      'single-tasking ignores channel capacity',
      worker({ channel: channel(2, 0), heldTasks: 0 }),
      plain,
      false,
      undefined,
    ],
    [
      'target expression true (worker vs task)',
      worker(),
      target({ expression: 'worker.languages HAS task.language' }),
      true,
      undefined,
    ],
    [
      'target expression false',
      worker(),
      target({ expression: 'level > task.min_level AND level > 5' }),
      true,
      'target-expression',
    ],
    ['known worker by SID', worker(), target({ known_worker_sid: 'task.agent' }), true, undefined],
    [
      'another worker than the known one',
      worker({ sid: 'WK' + 'b'.repeat(32) }),
      target({ known_worker_sid: 'task.agent' }),
      true,
      'not-known-worker',
    ],
    [
      'known worker by friendly name',
      worker(),
      target({ known_worker_friendly_name: 'task.agent_name' }),
      true,
      undefined,
    ],
    [
      'a task without the known-worker key',
      worker(),
      target({ known_worker_sid: 'task.missing' }),
      true,
      'not-known-worker',
    ],
    [
      'the known worker must be in the queue',
      worker({ queueMember: false }),
      target({ known_worker_sid: 'task.agent' }),
      true,
      'not-queue-member',
    ],
    [
      'the known worker must have capacity',
      worker({ channel: channel(2, 0) }),
      target({ known_worker_sid: 'task.agent' }),
      true,
      'no-capacity',
    ],
    [
      'a known worker and an expression: both apply',
      worker(),
      target({ known_worker_sid: 'task.agent', expression: 'level > 5' }),
      true,
      'target-expression',
    ],
  ])('%s', (_name, candidate, step, multitasking, why) => {
    const routingStep = multitasking ? multi(step) : single(step);
    expect(ineligibility(candidate, task, routingStep)).toBe(why);
    expect(isEligible(candidate, task, routingStep)).toBe(why === undefined);
  });

  it('default_filter has no conditions beyond membership and load', () => {
    expect(ineligibility(worker(), task, multi(undefined))).toBeUndefined();
    expect(ineligibility(worker({ queueMember: false }), task, multi(undefined))).toBe('not-queue-member');
  });

  it('reads worker fields in the target expression', () => {
    expect(isEligible(worker(), task, multi(target({ expression: "worker.activity_name == 'Idle'" })))).toBe(
      true,
    );
  });
});

describe('known-worker steps', () => {
  const bySid = target({ known_worker_sid: 'task.agent' });

  it.each<[string, unknown, string | undefined]>([
    ['a string', { agent: WK }, WK],
    ['missing', {}, undefined],
    ['empty', { agent: '' }, undefined],
    ['not a string', { agent: 7 }, undefined],
  ])('the value named is %s', (_name, attributes, value) => {
    expect(knownWorkerValue(bySid, { attributes })).toBe(value);
  });

  it.each<[string, unknown, { queueMember: boolean } | undefined, number | undefined, string | undefined]>([
    ['a member of the queue', { agent: WK }, { queueMember: true }, undefined, undefined],
    [
      'not in the queue: 40152',
      { agent: WK },
      { queueMember: false },
      40152,
      `Worker ${WK} isn't part of the queue specified in the Workflow target (${Q1})`,
    ],
    ['no such worker: 40155', { agent: WK }, undefined, 40155, `Worker ${WK} is not part of the workspace`],
    ['no value: 40155', {}, undefined, 40155, "The task's agent names no Worker of the workspace"],
  ])('%s', (_name, attributes, found, code, message) => {
    const problem = knownWorkerProblem(bySid, { attributes }, found);
    expect(problem?.code).toBe(code);
    expect(problem?.message).toBe(message);
  });

  it('a step without a known worker has no such problem', () => {
    expect(knownWorkerProblem(target({}), task, undefined)).toBeUndefined();
  });
});
