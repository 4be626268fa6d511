import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addFact,
  cumulativeFigures,
  emptyTally,
  mergeTally,
  parseWaitThresholds,
  planWindow,
  statisticsWindow,
  type CumulativeFact,
} from '../../src/domain/cumulative-statistics.js';
import { InvalidParameterError } from '../../src/domain/errors.js';

function tallyOf(facts: readonly CumulativeFact[]) {
  const tally = emptyTally();
  for (const f of facts) addFact(tally, f);
  return tally;
}

const accepted = (waitSeconds: number, waitInQueueSeconds = waitSeconds): CumulativeFact => ({
  kind: 'reservation-accepted',
  waitSeconds,
  waitInQueueSeconds,
});
const canceled = (waitSeconds: number): CumulativeFact => ({ kind: 'task-canceled', waitSeconds });

describe('cumulativeFigures', () => {
  it('is all zeros for no facts, with no split unless asked', () => {
    const figures = cumulativeFigures(emptyTally(), []);
    expect(figures.avgTaskAcceptanceTime).toBe(0);
    expect(figures.waitDurationUntilAccepted).toEqual({ avg: 0, min: 0, max: 0, total: 0 });
    expect(figures.splitByWaitTime).toBeNull();
    expect(figures.tasksCreated + figures.reservationsAccepted + figures.tasksCanceled).toBe(0);
  });

  it.each([
    { kind: 'task-created', field: 'tasksCreated' },
    { kind: 'task-entered', field: 'tasksEntered' },
    { kind: 'task-completed', field: 'tasksCompleted' },
    { kind: 'task-deleted', field: 'tasksDeleted' },
    { kind: 'task-moved', field: 'tasksMoved' },
    { kind: 'task-timed-out-in-workflow', field: 'tasksTimedOutInWorkflow' },
    { kind: 'reservation-created', field: 'reservationsCreated' },
    { kind: 'reservation-rejected', field: 'reservationsRejected' },
    { kind: 'reservation-timed-out', field: 'reservationsTimedOut' },
    { kind: 'reservation-canceled', field: 'reservationsCanceled' },
    { kind: 'reservation-rescinded', field: 'reservationsRescinded' },
  ] as const)('counts $kind in $field and nowhere else', ({ kind, field }) => {
    const figures = cumulativeFigures(tallyOf([{ kind }, { kind }, { kind }]), []);
    for (const [key, value] of Object.entries(figures)) {
      if (typeof value !== 'number') continue;
      expect([key, value]).toEqual([key, key === field ? 3 : 0]);
    }
  });

  it.each([
    { waits: [10], avg: 10, min: 10, max: 10, total: 10 },
    { waits: [1, 2], avg: 2, min: 1, max: 2, total: 3 }, // 1.5 rounds half up
    { waits: [0, 0, 1], avg: 0, min: 0, max: 1, total: 1 },
    { waits: [3.9, 4.2], avg: 4, min: 3, max: 4, total: 7 }, // whole seconds, truncated
    { waits: [120, 5, 61], avg: 62, min: 5, max: 120, total: 186 },
  ])('waits until accepted $waits → avg $avg min $min max $max total $total', ({ waits, ...expected }) => {
    const figures = cumulativeFigures(tallyOf(waits.map((w) => accepted(w))), []);
    expect(figures.waitDurationUntilAccepted).toEqual(expected);
    expect(figures.avgTaskAcceptanceTime).toBe(expected.avg);
    expect(figures.reservationsAccepted).toBe(waits.length);
  });

  it('measures the wait in queue apart from the wait since creation', () => {
    const figures = cumulativeFigures(tallyOf([accepted(30, 10), accepted(50, 20)]), []);
    expect(figures.waitDurationUntilAccepted).toEqual({ avg: 40, min: 30, max: 50, total: 80 });
    expect(figures.waitDurationInQueueUntilAccepted).toEqual({ avg: 15, min: 10, max: 20, total: 30 });
  });

  it('measures waits until canceled', () => {
    const figures = cumulativeFigures(tallyOf([canceled(7), canceled(3), { kind: 'task-created' }]), []);
    expect(figures.tasksCanceled).toBe(2);
    expect(figures.waitDurationUntilCanceled).toEqual({ avg: 5, min: 3, max: 7, total: 10 });
  });

  it.each([
    {
      facts: [accepted(5), accepted(10), accepted(11), canceled(9), canceled(30)],
      thresholds: [10],
      split: [{ threshold: 10, above: [1, 1], below: [1, 2] }],
    },
    {
      facts: [accepted(0), accepted(60), canceled(0)],
      thresholds: [30, 0, 60],
      split: [
        { threshold: 30, above: [0, 1], below: [1, 1] },
        { threshold: 0, above: [0, 1], below: [1, 1] },
        { threshold: 60, above: [0, 0], below: [1, 2] },
      ],
    },
    { facts: [], thresholds: [5], split: [{ threshold: 5, above: [0, 0], below: [0, 0] }] },
  ])(
    'splits by wait time: a wait equal to the threshold is within it ($thresholds)',
    ({ facts, thresholds, split }) => {
      const figures = cumulativeFigures(tallyOf(facts), thresholds);
      expect(figures.splitByWaitTime).toEqual(
        split.map((s) => ({
          threshold: s.threshold,
          above: { tasksCanceled: s.above[0], reservationsAccepted: s.above[1] },
          below: { tasksCanceled: s.below[0], reservationsAccepted: s.below[1] },
        })),
      );
    },
  );
});

describe('mergeTally', () => {
  const fact = fc.oneof(
    fc
      .constantFrom<CumulativeFact['kind']>(
        'task-created',
        'task-entered',
        'task-completed',
        'task-deleted',
        'task-moved',
        'task-timed-out-in-workflow',
        'reservation-created',
        'reservation-rejected',
        'reservation-timed-out',
        'reservation-canceled',
        'reservation-rescinded',
      )
      .map((kind) => ({ kind }) as CumulativeFact),
    fc.nat(7200).map((w) => canceled(w)),
    fc.tuple(fc.nat(7200), fc.nat(7200)).map(([a, b]) => accepted(Math.max(a, b), Math.min(a, b))),
  );

  it('gives the figures of the whole, however the facts are cut into buckets', () => {
    fc.assert(
      fc.property(
        fc.array(fact, { maxLength: 200 }),
        fc.array(fc.nat(200), { maxLength: 8 }),
        fc.array(fc.nat(7200), { maxLength: 4 }),
        (facts, cuts, thresholds) => {
          const bounds = [
            0,
            ...cuts.map((c) => Math.min(c, facts.length)).sort((a, b) => a - b),
            facts.length,
          ];
          const merged = emptyTally();
          for (let i = 1; i < bounds.length; i++)
            mergeTally(merged, tallyOf(facts.slice(bounds[i - 1], bounds[i])));
          const unique = [...new Set(thresholds)];
          expect(cumulativeFigures(merged, unique)).toEqual(cumulativeFigures(tallyOf(facts), unique));
        },
      ),
    );
  });
});

describe('parseWaitThresholds', () => {
  it.each([
    { text: undefined, thresholds: [] },
    { text: '', thresholds: [] },
    { text: '30', thresholds: [30] },
    { text: '5,30, 60', thresholds: [5, 30, 60] },
    { text: '60,5,60', thresholds: [60, 5] },
    { text: '0', thresholds: [0] },
  ])('$text → $thresholds', ({ text, thresholds }) => {
    expect(parseWaitThresholds(text)).toEqual(thresholds);
  });

  it.each(['5,', 'a', '-1', '1.5', '5;10', '1234567890'])(
    'refuses %j with a 400 naming the parameter',
    (text) => {
      expect(() => parseWaitThresholds(text)).toThrow(InvalidParameterError);
      expect(() => parseWaitThresholds(text)).toThrow(/SplitByWaitTime/);
    },
  );
});

describe('statisticsWindow', () => {
  const now = Date.parse('2026-11-29T12:00:30Z');
  const at = (iso: string) => Date.parse(iso);

  it.each([
    { params: {}, start: '2026-11-29T11:45:30Z', end: '2026-11-29T12:00:30Z' },
    { params: { minutes: 60 }, start: '2026-11-29T11:00:30Z', end: '2026-11-29T12:00:30Z' },
    {
      params: { startDate: new Date('2026-11-28T00:00:00Z') },
      start: '2026-11-28T00:00:00Z',
      end: '2026-11-29T12:00:30Z',
    },
    {
      params: { startDate: new Date('2026-11-28T00:00:00Z'), minutes: 5 },
      start: '2026-11-28T00:00:00Z',
      end: '2026-11-29T12:00:30Z',
    },
    {
      params: { endDate: new Date('2026-11-29T10:00:00Z') },
      start: '2026-11-29T09:45:00Z',
      end: '2026-11-29T10:00:00Z',
    },
    {
      params: { endDate: new Date('2026-12-01T00:00:00Z'), minutes: 1 },
      start: '2026-11-29T11:59:30Z',
      end: '2026-11-29T12:00:30Z',
    },
  ])('$params → [$start, $end)', ({ params, start, end }) => {
    expect(statisticsWindow(params, now)).toEqual({ startMs: at(start), endMs: at(end) });
  });

  it.each([
    { params: { startDate: new Date('2026-11-29T13:00:00Z') }, name: /StartDate/ },
    {
      params: { startDate: new Date('2026-11-29T10:00:00Z'), endDate: new Date('2026-11-29T09:00:00Z') },
      name: /StartDate/,
    },
    { params: { minutes: 0 }, name: /Minutes/ },
    { params: { minutes: 1.5 }, name: /Minutes/ },
  ])('refuses $params', ({ params, name }) => {
    expect(() => statisticsWindow(params, now)).toThrow(name);
  });
});

describe('planWindow', () => {
  it.each([
    { start: 0, end: 180_000, first: 0, endBucket: 3, edges: [] },
    { start: 30_000, end: 180_000, first: 1, endBucket: 3, edges: [[30_000, 60_000]] },
    {
      start: 30_000,
      end: 190_000,
      first: 1,
      endBucket: 3,
      edges: [
        [30_000, 60_000],
        [180_000, 190_000],
      ],
    },
    { start: 10_000, end: 50_000, first: 1, endBucket: 1, edges: [[10_000, 50_000]] },
    { start: 50_000, end: 70_000, first: 1, endBucket: 1, edges: [[50_000, 70_000]] },
    { start: 60_000, end: 60_000, first: 1, endBucket: 1, edges: [] },
  ])(
    '[$start, $end) → buckets [$first, $endBucket) and edges $edges',
    ({ start, end, first, endBucket, edges }) => {
      const plan = planWindow({ startMs: start, endMs: end });
      expect(plan.firstBucket).toBe(first);
      expect(plan.endBucket).toBe(endBucket);
      expect(plan.edges.map((e) => [e.startMs, e.endMs])).toEqual(edges);
    },
  );

  it('covers every millisecond of the window exactly once', () => {
    fc.assert(
      fc.property(
        fc.nat(10_000_000),
        fc.nat(10_000_000),
        fc.integer({ min: 1, max: 100_000 }),
        (a, b, bucketMs) => {
          const window = { startMs: Math.min(a, b), endMs: Math.max(a, b) };
          const plan = planWindow(window, bucketMs);
          const pieces = [
            ...plan.edges,
            ...(plan.endBucket > plan.firstBucket
              ? [{ startMs: plan.firstBucket * bucketMs, endMs: plan.endBucket * bucketMs }]
              : []),
          ].sort((x, y) => x.startMs - y.startMs);
          let covered = window.startMs;
          for (const p of pieces) {
            expect(p.startMs).toBe(covered);
            expect(p.endMs).toBeGreaterThan(p.startMs);
            covered = p.endMs;
          }
          expect(covered).toBe(pieces.length === 0 ? window.startMs : window.endMs);
          if (pieces.length === 0) expect(window.endMs).toBe(window.startMs);
        },
      ),
    );
  });
});
