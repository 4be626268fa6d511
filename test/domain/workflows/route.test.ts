import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWorkflowConfiguration } from '../../../src/domain/workflows/configuration.js';
import {
  cursorAfterSkip,
  effectivePriority,
  routeChangesAt,
  routeChangesAtAge,
  routeTask,
  taskAge,
  type Route,
  type RouteCursor,
} from '../../../src/domain/workflows/route.js';

const Q1 = 'WQ' + '1'.repeat(32);
const Q2 = 'WQ' + '2'.repeat(32);
const Q3 = 'WQ' + '3'.repeat(32);
const QD = 'WQ' + 'd'.repeat(32);
const queueExists = (sid: string) => [Q1, Q2, Q3, QD].includes(sid);

const configuration = (taskRouting: unknown) =>
  parseWorkflowConfiguration(JSON.stringify({ task_routing: taskRouting }), { queueExists });

// Twilio's task-evaluation page: three 10-second steps in one filter, no default_filter.
const threeSteps = configuration({
  filters: [
    {
      expression: '1==1',
      targets: [
        { queue: Q1, timeout: 10 },
        { queue: Q2, timeout: 10 },
        { queue: Q3, timeout: 10 },
      ],
    },
  ],
});

const support = configuration({
  filters: [
    {
      filter_friendly_name: 'VIP',
      expression: 'vip == true',
      targets: [
        { queue: Q1, timeout: 30, priority: 50 },
        { queue: Q2, skip_if: '1==1' },
      ],
    },
    {
      filter_friendly_name: 'Support',
      expression: "type == 'support'",
      targets: [{ queue: Q2, timeout: 60 }, { timeout: 60, priority: 5 }, { queue: Q3 }],
    },
  ],
  default_filter: { queue: QD },
});

/** A route as [kind, filter index, step index, queue] for tables. */
const describeRoute = (route: Route) => {
  switch (route.kind) {
    case 'target':
      return ['target', route.filter.index, route.target.index, route.queueSid];
    case 'default':
      return ['default', route.queueSid];
    case 'timed-out':
      return ['timed-out', route.filter.index];
    case 'unrouted':
      return ['unrouted'];
  }
};

describe('which filter and step a task is in', () => {
  it.each<[string, unknown, number, RouteCursor | undefined, unknown[]]>([
    ['age 0: the first step', {}, 0, undefined, ['target', 0, 0, Q1]],
    ['just before 10 s', {}, 9.999, undefined, ['target', 0, 0, Q1]],
    ['at 10 s the first step has ended', {}, 10, undefined, ['target', 0, 1, Q2]],
    ['at 19 s', {}, 19, undefined, ['target', 0, 1, Q2]],
    ['at 20 s', {}, 20, undefined, ['target', 0, 2, Q3]],
    ['at 30 s: past the last step, the workflow times out', {}, 30, undefined, ['timed-out', 0]],
    [
      'a task moved on early keeps the cumulative deadline',
      {},
      8,
      { filterIndex: 0, stepIndex: 1 },
      ['target', 0, 1, Q2],
    ],
    [
      'skipped past the last step with no default: unrouted',
      {},
      0,
      { filterIndex: 0, stepIndex: 3 },
      ['unrouted'],
    ],
  ])('%s', (_name, attributes, age, cursor, expected) => {
    expect(describeRoute(routeTask(threeSteps, { attributes }, age, cursor))).toEqual(expected);
  });

  it.each<[string, unknown, number, RouteCursor | undefined, unknown[]]>([
    ['the first matching filter wins', { vip: true, type: 'support' }, 0, undefined, ['target', 0, 0, Q1]],
    ['a later filter when the first does not match', { type: 'support' }, 0, undefined, ['target', 1, 0, Q2]],
    ['no filter matches: default_filter', { type: 'sales' }, 0, undefined, ['default', QD]],
    ['default_filter never times out', { type: 'sales' }, 10_000_000, undefined, ['default', QD]],
    ['a step without a timeout never ends', { vip: true }, 10_000, undefined, ['target', 0, 1, Q2]],
    ['an inherited queue', { type: 'support' }, 60, undefined, ['target', 1, 1, Q2]],
    [
      'the last step without a timeout: no workflow timeout',
      { type: 'support' },
      500,
      undefined,
      ['target', 1, 2, Q3],
    ],
    [
      'a filter skipped whole counts as not matched: the next filter',
      { vip: true, type: 'support' },
      31,
      { filterIndex: 0, stepIndex: 2 },
      ['target', 1, 0, Q2],
    ],
    [
      'a filter skipped whole, no other match: default_filter',
      { vip: true },
      31,
      { filterIndex: 0, stepIndex: 2 },
      ['default', QD],
    ],
    [
      'the next filter is entered at the step the task’s age puts it in',
      { vip: true, type: 'support' },
      70,
      { filterIndex: 0, stepIndex: 2 },
      ['target', 1, 1, Q2],
    ],
    [
      'a filter whose skip moved on is re-tested: attributes decide',
      { type: 'support' },
      0,
      { filterIndex: 1, stepIndex: 1 },
      ['target', 1, 1, Q2],
    ],
  ])('%s', (_name, attributes, age, cursor, expected) => {
    expect(describeRoute(routeTask(support, { attributes }, age, cursor))).toEqual(expected);
  });

  it('reads task fields beside the attributes', () => {
    const byChannel = configuration({
      filters: [{ expression: "task.channel == 'voice'", targets: [{ queue: Q1 }] }],
      default_filter: { queue: QD },
    });
    expect(describeRoute(routeTask(byChannel, { attributes: {}, fields: { channel: 'voice' } }, 0))).toEqual([
      'target',
      0,
      0,
      Q1,
    ]);
  });

  it('a configuration with only a default_filter sends everything there', () => {
    const only = configuration({ default_filter: { queue: QD } });
    expect(describeRoute(routeTask(only, { attributes: { vip: true } }, 0))).toEqual(['default', QD]);
  });

  it('no filter and no default_filter: unrouted', () => {
    expect(
      describeRoute(
        routeTask(
          configuration({ filters: [{ expression: '1==2', targets: [{ queue: Q1 }] }] }),
          { attributes: {} },
          0,
        ),
      ),
    ).toEqual(['unrouted']);
  });
});

describe('skipping a step', () => {
  it('continues at the next step of the same filter', () => {
    const route = routeTask(support, { attributes: { type: 'support' } }, 0);
    if (route.kind !== 'target') throw new Error('expected a target');
    const cursor = cursorAfterSkip(route);
    expect(cursor).toEqual({ filterIndex: 1, stepIndex: 1 });
    expect(describeRoute(routeTask(support, { attributes: { type: 'support' } }, 0, cursor))).toEqual([
      'target',
      1,
      1,
      Q2,
    ]);
  });
});

describe('when the route changes by itself', () => {
  const created = new Date('2026-01-01T00:00:00.000Z');

  it.each<[string, Route, number | undefined]>([
    ['the step’s cumulative timeout', routeTask(threeSteps, { attributes: {} }, 12), 20],
    ['never in default_filter', routeTask(support, { attributes: {} }, 0), undefined],
    ['never in a step without a timeout', routeTask(support, { attributes: { vip: true } }, 40), undefined],
    ['never when unrouted', { kind: 'unrouted' }, undefined],
  ])('%s', (_name, route, age) => {
    expect(routeChangesAtAge(route)).toBe(age);
    expect(routeChangesAt(route, created)).toEqual(
      age === undefined ? undefined : new Date(created.getTime() + age * 1000),
    );
  });

  it('measures age from creation, in seconds with milliseconds', () => {
    expect(taskAge(created, new Date('2026-01-01T00:00:12.250Z'))).toBe(12.25);
  });
});

describe('effective priority', () => {
  it.each<[string, unknown, number, number]>([
    ['a target priority overrides the task’s', { vip: true }, 0, 50],
    ['a target without one keeps the task’s', { type: 'support' }, 0, 7],
    ['a later step’s priority applies once there', { type: 'support' }, 60, 5],
    ['default_filter keeps the task’s', {}, 0, 7],
  ])('%s', (_name, attributes, age, priority) => {
    expect(effectivePriority(routeTask(support, { attributes }, age), 7)).toBe(priority);
  });
});

describe('properties', () => {
  const timeouts = fc.array(fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }), {
    minLength: 1,
    maxLength: 6,
  });
  const build = (steps: (number | undefined)[]) =>
    configuration({
      filters: [{ expression: '1==1', targets: steps.map((timeout) => ({ queue: Q1, timeout })) }],
    });
  // Position along the workflow: later steps are larger, a timeout is past everything.
  const position = (route: Route) =>
    route.kind === 'target' ? route.target.index : route.kind === 'timed-out' ? Number.POSITIVE_INFINITY : -1;

  it('the step never moves back as the task ages', () => {
    fc.assert(
      fc.property(
        timeouts,
        fc.double({ min: 0, max: 700, noNaN: true }),
        fc.double({ min: 0, max: 700, noNaN: true }),
        (steps, a, b) => {
          const config = build(steps);
          const [younger, older] = a <= b ? [a, b] : [b, a];
          expect(position(routeTask(config, { attributes: {} }, younger))).toBeLessThanOrEqual(
            position(routeTask(config, { attributes: {} }, older)),
          );
        },
      ),
    );
  });

  it('a step holds exactly from its start to its cumulative deadline', () => {
    fc.assert(
      fc.property(timeouts, fc.double({ min: 0, max: 700, noNaN: true }), (steps, age) => {
        const config = build(steps);
        const route = routeTask(config, { attributes: {} }, age);
        // Cumulative sum of the defined timeouts before and at each step.
        let sum = 0;
        const ends = steps.map((t) => (t === undefined ? undefined : (sum += t)));
        if (route.kind === 'timed-out') {
          expect(ends.every((end) => end !== undefined && age >= end)).toBe(true);
          return;
        }
        if (route.kind !== 'target') throw new Error(`unexpected ${route.kind}`);
        const k = route.target.index;
        for (const end of ends.slice(0, k)) expect(end !== undefined && age >= end).toBe(true);
        const end = ends[k];
        if (end !== undefined) expect(age).toBeLessThan(end);
        expect(routeChangesAtAge(route)).toBe(end);
      }),
    );
  });
});

describe('filter choice, for any configuration and cursor', () => {
  // Filters test the attribute `t` against a value; several may match the same task.
  const spec = fc.array(
    fc.record({
      value: fc.integer({ min: 0, max: 2 }),
      steps: fc.array(fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
    { maxLength: 5 },
  );

  it('routes to the first filter at or after the cursor that matches and has steps left, else the default', () => {
    fc.assert(
      fc.property(
        spec,
        fc.boolean(),
        fc.integer({ min: 0, max: 2 }),
        fc.nat(5),
        fc.nat(3),
        fc.integer({ min: 0, max: 80 }),
        (filters, withDefault, t, filterIndex, stepIndex, age) => {
          if (filters.length === 0 && !withDefault) return;
          const config = configuration({
            filters: filters.map((f) => ({
              expression: `t == ${f.value}`,
              targets: f.steps.map((timeout) => ({ queue: Q1, timeout })),
            })),
            ...(withDefault ? { default_filter: { queue: QD } } : {}),
          });
          const route = routeTask(config, { attributes: { t } }, age, { filterIndex, stepIndex });
          const open = filters.findIndex(
            (f, i) => i >= filterIndex && f.value === t && (i > filterIndex || stepIndex < f.steps.length),
          );
          if (open === -1) {
            expect(route.kind).toBe(withDefault ? 'default' : 'unrouted');
            return;
          }
          if (route.kind === 'target') {
            expect(route.filter.index).toBe(open);
            expect(route.target.index).toBeGreaterThanOrEqual(open === filterIndex ? stepIndex : 0);
          } else {
            expect(route).toMatchObject({ kind: 'timed-out', filter: { index: open } });
          }
        },
      ),
    );
  });
});
