import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileOrderBy, WORKER_SCOPE } from '../../../src/domain/expressions/index.js';
import {
  crossQueueComparator,
  rankWorker,
  taskComparator,
  workerComparator,
  type QueuedTask,
  type QueuedTaskInQueue,
  type RankedWorker,
} from '../../../src/domain/routing/order.js';
import { chooseWorkers, type IdleWorkerCandidate } from '../../../src/domain/routing/select.js';
import { parseWorkflowConfiguration } from '../../../src/domain/workflows/configuration.js';

const orderBy = (source: string) =>
  compileOrderBy(source, { parameter: 'Configuration', scope: WORKER_SCOPE });
const sids = <T extends { sid: string }>(items: T[]) => items.map((item) => item.sid);

describe('worker order', () => {
  const workers = [
    { sid: 'WK1', attributes: { level: 1, experience: 9 }, idleSince: 500 },
    { sid: 'WK2', attributes: { level: 3, experience: 1 }, idleSince: 400 },
    { sid: 'WK3', attributes: { level: 3, experience: 5 }, idleSince: 300 },
    { sid: 'WK4', attributes: {}, idleSince: 100 },
    { sid: 'WK5', attributes: { level: 3, experience: 5 }, idleSince: 200 },
    { sid: 'WK6', attributes: { level: 3, experience: 5 }, idleSince: 200 },
  ];
  it.each<[string, string | undefined, string[]]>([
    [
      'longest idle first without order_by (ties by SID)',
      undefined,
      ['WK4', 'WK5', 'WK6', 'WK3', 'WK2', 'WK1'],
    ],
    ['order_by DESC, then longest idle', 'worker.level DESC', ['WK5', 'WK6', 'WK3', 'WK2', 'WK1', 'WK4']],
    [
      'order_by ASC: a worker without the key still last',
      'worker.level ASC',
      ['WK1', 'WK5', 'WK6', 'WK3', 'WK2', 'WK4'],
    ],
    [
      'clauses break ties lexicographically',
      'worker.level DESC, worker.experience ASC',
      ['WK2', 'WK5', 'WK6', 'WK3', 'WK1', 'WK4'],
    ],
  ])('%s', (_name, source, expected) => {
    const compiled = source === undefined ? undefined : orderBy(source);
    const ranked = workers.map((w) => rankWorker(compiled, w, w.idleSince));
    expect(sids(ranked.sort(workerComparator(compiled)))).toEqual(expected);
  });

  it('is a total order (antisymmetric, transitive, ties only for the same SID)', () => {
    const compiled = orderBy('worker.a DESC, worker.b ASC');
    const compare = workerComparator(compiled);
    const value = fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined });
    const ranked = fc
      .record({
        sid: fc.constantFrom('WK1', 'WK2', 'WK3', 'WK4'),
        a: value,
        b: value,
        idle: fc.integer({ min: 0, max: 3 }),
      })
      .map((w): RankedWorker => rankWorker(compiled, { sid: w.sid, attributes: { a: w.a, b: w.b } }, w.idle));
    fc.assert(
      fc.property(ranked, ranked, ranked, (x, y, z) => {
        expect(Math.sign(compare(x, y)) + Math.sign(compare(y, x))).toBe(0);
        if (compare(x, y) === 0) expect(x.sid).toBe(y.sid);
        if (compare(x, y) <= 0 && compare(y, z) <= 0) expect(compare(x, z)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('task order within a queue', () => {
  const tasks: QueuedTask[] = [
    { sid: 'WT1', priority: 0, orderTime: 100 },
    { sid: 'WT2', priority: 10, orderTime: 300 },
    { sid: 'WT3', priority: 0, orderTime: 50 },
    { sid: 'WT4', priority: 10, orderTime: 200 },
    { sid: 'WT5', priority: 0, orderTime: 100 },
  ];
  it.each<['FIFO' | 'LIFO', string[]]>([
    ['FIFO', ['WT4', 'WT2', 'WT3', 'WT1', 'WT5']],
    ['LIFO', ['WT2', 'WT4', 'WT1', 'WT5', 'WT3']],
  ])('%s: higher priority first, then by virtual start time, then SID', (order, expected) => {
    expect(sids([...tasks].sort(taskComparator(order)))).toEqual(expected);
  });

  it('is a total order', () => {
    const task = fc.record({
      sid: fc.constantFrom('WT1', 'WT2', 'WT3'),
      priority: fc.integer({ min: 0, max: 2 }),
      orderTime: fc.integer({ min: 0, max: 2 }),
    });
    for (const order of ['FIFO', 'LIFO'] as const) {
      const compare = taskComparator(order);
      fc.assert(
        fc.property(task, task, task, (x, y, z) => {
          expect(Math.sign(compare(x, y)) + Math.sign(compare(y, x))).toBe(0);
          if (compare(x, y) === 0) expect(x.sid).toBe(y.sid);
          if (compare(x, y) <= 0 && compare(y, z) <= 0) expect(compare(x, z)).toBeLessThanOrEqual(0);
        }),
        { numRuns: 1000 },
      );
    }
  });
});

describe('tasks across queues of both kinds', () => {
  const tasks: QueuedTaskInQueue[] = [
    { sid: 'WT1', priority: 0, orderTime: 100, queueOrder: 'FIFO' },
    { sid: 'WT2', priority: 0, orderTime: 200, queueOrder: 'FIFO' },
    { sid: 'WT3', priority: 0, orderTime: 100, queueOrder: 'LIFO' },
    { sid: 'WT4', priority: 0, orderTime: 200, queueOrder: 'LIFO' },
    { sid: 'WT5', priority: 1, orderTime: 900, queueOrder: 'LIFO' },
  ];
  it.each<['FIFO' | 'LIFO', string[]]>([
    ['FIFO', ['WT5', 'WT1', 'WT2', 'WT4', 'WT3']],
    ['LIFO', ['WT5', 'WT4', 'WT3', 'WT1', 'WT2']],
  ])(
    'prioritize_queue_order %s: priority, then that kind of queue, then each kind’s order',
    (order, expected) => {
      expect(sids([...tasks].sort(crossQueueComparator(order)))).toEqual(expected);
    },
  );

  it('is a total order', () => {
    const task = fc.record({
      sid: fc.constantFrom('WT1', 'WT2', 'WT3'),
      priority: fc.integer({ min: 0, max: 2 }),
      orderTime: fc.integer({ min: 0, max: 2 }),
      queueOrder: fc.constantFrom('FIFO' as const, 'LIFO' as const),
    });
    for (const prioritized of ['FIFO', 'LIFO'] as const) {
      const compare = crossQueueComparator(prioritized);
      fc.assert(
        fc.property(task, task, task, (x, y, z) => {
          expect(Math.sign(compare(x, y)) + Math.sign(compare(y, x))).toBe(0);
          if (compare(x, y) === 0) expect([x.sid, x.queueOrder]).toEqual([y.sid, y.queueOrder]);
          if (compare(x, y) <= 0 && compare(y, z) <= 0) expect(compare(x, z)).toBeLessThanOrEqual(0);
        }),
        { numRuns: 1000 },
      );
    }
  });
});

describe('choosing the workers to offer a task to', () => {
  const Q1 = 'WQ' + '1'.repeat(32);
  const target = (fields: Record<string, unknown>) =>
    parseWorkflowConfiguration(
      JSON.stringify({
        task_routing: { filters: [{ expression: '1==1', targets: [{ queue: Q1, ...fields }] }] },
      }),
      { queueExists: (sid) => sid === Q1 },
    ).filters[0]!.targets[0]!;
  const candidate = (sid: string, idleSince: number, level: number, free = true): IdleWorkerCandidate => ({
    sid,
    friendlyName: sid,
    attributes: { level },
    queueMember: true,
    activityAvailable: free,
    channel: { available: true, capacity: 1, assignedTasks: 0, pendingReservations: 0 },
    heldTasks: 0,
    idleSince,
  });
  const pool = [
    candidate('WK1', 300, 1),
    candidate('WK2', 100, 2, false),
    candidate('WK3', 200, 3),
    candidate('WK4', 400, 3),
    candidate('WK5', 150, 1),
  ];
  const task = { attributes: {} };

  it.each<[string, Record<string, unknown>, number, string[]]>([
    ['the longest idle eligible worker', {}, 1, ['WK5']],
    ['up to max_reserved_workers, best first', {}, 3, ['WK5', 'WK3', 'WK1']],
    ['all eligible when the limit is larger', {}, 10, ['WK5', 'WK3', 'WK1', 'WK4']],
    ['in order_by order', { order_by: 'worker.level DESC' }, 2, ['WK3', 'WK4']],
    ['only those the target expression admits', { expression: 'worker.level == 1' }, 5, ['WK5', 'WK1']],
    ['none for a zero limit', {}, 0, []],
  ])('%s', (_name, fields, limit, expected) => {
    expect(sids(chooseWorkers(pool, task, { target: target(fields), multitasking: true }, limit))).toEqual(
      expected,
    );
  });

  it('gives the same workers as sorting every eligible worker', () => {
    const compare = workerComparator(undefined);
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            sid: fc.string({ minLength: 1, maxLength: 3 }),
            idle: fc.integer({ min: 0, max: 5 }),
            free: fc.boolean(),
          }),
          {
            selector: (w) => w.sid,
            maxLength: 30,
          },
        ),
        fc.integer({ min: 1, max: 8 }),
        (specs, limit) => {
          const workers = specs.map((w) => candidate(w.sid, w.idle, 1, w.free));
          const expected = workers
            .filter((w) => w.activityAvailable)
            .sort((a, b) =>
              compare(rankWorker(undefined, a, a.idleSince), rankWorker(undefined, b, b.idleSince)),
            )
            .slice(0, limit);
          expect(
            sids(chooseWorkers(workers, task, { target: undefined, multitasking: true }, limit)),
          ).toEqual(sids(expected));
        },
      ),
    );
  });
});
