import { describe, expect, it } from 'vitest';
import {
  activityDurations,
  addFact,
  emptyTally,
  factsOf,
  queueEntryMs,
  tallyByMinute,
  tallyFromText,
  tallyToText,
  workerActivityMs,
  workersScopeSid,
  type StatisticsEvent,
  type StatisticsWindow,
} from '../../src/domain/cumulative-statistics.js';

const WS = 'WS1';
const task = {
  task_sid: 'WT1',
  task_queue_sid: 'WQ1',
  workflow_sid: 'WW1',
  task_channel_sid: 'TC1',
  age: 12,
};
const reservation = { ...task, worker_sid: 'WK1', task_age: 30 };
const ev = (
  type: string,
  data: Record<string, unknown>,
  resourceSid = 'X',
  timeMs = 1_000_000,
): StatisticsEvent => ({
  type,
  resourceSid,
  timeMs,
  data,
});
/** Facts as "scope:kind" strings (and waits, when the fact has them). */
const facts = (e: StatisticsEvent, queueEnteredMs: number | null = null) =>
  factsOf(WS, e, queueEnteredMs).map(
    (f) =>
      `${f.scopeSid}:${f.taskChannelSid}:${f.fact.kind}` +
      ('waitSeconds' in f.fact ? `:${f.fact.waitSeconds}` : '') +
      ('waitInQueueSeconds' in f.fact ? `:${f.fact.waitInQueueSeconds}` : ''),
  );

describe('factsOf', () => {
  it.each([
    ['task.created', task, 'WT1', ['WS1:TC1:task-created', 'WQ1:TC1:task-created', 'WW1:TC1:task-created']],
    [
      'task.completed',
      task,
      'WT1',
      ['WS1:TC1:task-completed', 'WQ1:TC1:task-completed', 'WW1:TC1:task-completed'],
    ],
    ['task.deleted', task, 'WT1', ['WS1:TC1:task-deleted', 'WQ1:TC1:task-deleted', 'WW1:TC1:task-deleted']],
    [
      'task.canceled',
      task,
      'WT1',
      ['WS1:TC1:task-canceled:12', 'WQ1:TC1:task-canceled:12', 'WW1:TC1:task-canceled:12'],
    ],
    ['task-queue.entered', task, 'WQ1', ['WQ1:TC1:task-entered']],
    ['workflow.entered', task, 'WW1', ['WW1:TC1:task-entered']],
    [
      'task-queue.moved',
      { ...task, task_queue_sid: 'WQ2', task_queue_sid_previous: 'WQ1' },
      'WQ2',
      ['WS1:TC1:task-moved', 'WQ1:TC1:task-moved', 'WW1:TC1:task-moved', 'WQ2:TC1:task-entered'],
    ],
    [
      'workflow.timeout',
      task,
      'WW1',
      [
        'WS1:TC1:task-timed-out-in-workflow',
        'WQ1:TC1:task-timed-out-in-workflow',
        'WW1:TC1:task-timed-out-in-workflow',
      ],
    ],
    [
      'reservation.rejected',
      reservation,
      'WR1',
      [
        'WS1:TC1:reservation-rejected',
        'WQ1:TC1:reservation-rejected',
        'WW1:TC1:reservation-rejected',
        'WK1:TC1:reservation-rejected',
      ],
    ],
    [
      'reservation.timeout',
      { worker_sid: 'WK1' },
      'WR1',
      ['WS1::reservation-timed-out', 'WK1::reservation-timed-out'],
    ],
    ['reservation.completed', reservation, 'WR1', []],
    ['task.updated', task, 'WT1', []],
    [
      'worker.activity.update',
      { activity_sid: 'WA1' },
      'WK1',
      ['WS1/Workers::worker-event', 'WK1::worker-event'],
    ],
  ])('%s', (type, data, resourceSid, expected) => {
    expect(facts(ev(type, data, resourceSid))).toEqual(expected);
  });

  it('times an accepted reservation from creation, and in queue from its queue entry (or creation)', () => {
    const accepted = ev('reservation.accepted', reservation, 'WR1', 1_000_000);
    expect(facts(accepted, 1_000_000 - 9_500)[0]).toBe('WS1:TC1:reservation-accepted:30:9');
    expect(facts(accepted)[0]).toBe('WS1:TC1:reservation-accepted:30:30');
  });

  it('reads a queue entry from its date, or its time', () => {
    expect(
      queueEntryMs(ev('task-queue.entered', { task_queue_entered_date: '2026-01-01T00:00:05.000Z' })),
    ).toBe(Date.parse('2026-01-01T00:00:05Z'));
    expect(queueEntryMs(ev('task-queue.entered', {}, 'WQ1', 42))).toBe(42);
  });
});

describe('tallies by minute', () => {
  it('buckets facts by scope, channel and minute, and survive their stored text', () => {
    const rows = tallyByMinute(WS, [
      ev('task.created', task, 'WT1', 60_000),
      ev('task.created', task, 'WT1', 119_999),
      ev('task.created', task, 'WT1', 120_000),
      { ...ev('reservation.accepted', reservation, 'WR1', 120_500), queueEnteredMs: 110_000 },
    ]);
    const ws = [...rows.values()].filter((r) => r.scopeSid === WS);
    expect(ws.map((r) => [r.minute, r.tally.tasksCreated, r.tally.reservationsAccepted])).toEqual([
      [1, 2, 0],
      [2, 1, 1],
    ]);
    const tally = emptyTally();
    addFact(tally, { kind: 'reservation-accepted', waitSeconds: 4, waitInQueueSeconds: 2 });
    addFact(tally, { kind: 'task-canceled', waitSeconds: 7 });
    addFact(tally, {
      kind: 'worker-event',
      workerSid: 'WK1',
      at: { t: 5_000, id: 3 },
      closes: { activitySid: 'WA1', ms: 2_000 },
      now: 'WA2',
    });
    addFact(tally, {
      kind: 'worker-event',
      workerSid: 'WK1',
      at: { t: 9_000, id: 4 },
      closes: null,
      now: null,
    });
    expect(tally.workers.get('WK1')).toEqual({
      ms: { WA1: 2_000 },
      first: { at: { t: 5_000, id: 3 }, closes: { activitySid: 'WA1', startMs: 3_000 } },
      last: { at: { t: 9_000, id: 4 }, now: null },
    });
    expect(tallyFromText(tallyToText(tally))).toEqual(tally);
  });
});

describe('stints and activity durations', () => {
  const activities = [
    { sid: 'WA_OFF', friendlyName: 'Offline' },
    { sid: 'WA_ON', friendlyName: 'Available' },
    { sid: 'WA_BUSY', friendlyName: 'Unavailable' },
  ];
  const update = (
    worker: string,
    at: number,
    previous: string,
    spentMs: number,
    now: string,
    version: number,
  ) =>
    ev(
      'worker.activity.update',
      { previous_activity_sid: previous, time_in_previous_activity_ms: spentMs, activity_sid: now, version },
      worker,
      at,
    );

  it.each([
    {
      name: 'a worker in one activity since before the window counts from its start to its end',
      events: [],
      current: [{ workerSid: 'WK1', activitySid: 'WA_ON', sinceMs: 0, version: 0 }],
      window: { startMs: 100_000, endMs: 160_000 },
      want: { WA_ON: [60, 60, 60, 60] },
    },
    {
      name: 'stints are clipped at both ends and summed per worker; avg/min/max are per worker',
      events: [
        update('WK1', 130_000, 'WA_ON', 50_000, 'WA_BUSY', 1),
        update('WK2', 150_000, 'WA_ON', 10_000, 'WA_OFF', 4),
      ],
      current: [
        { workerSid: 'WK1', activitySid: 'WA_BUSY', sinceMs: 130_000, version: 1 },
        { workerSid: 'WK2', activitySid: 'WA_OFF', sinceMs: 150_000, version: 4 },
      ],
      window: { startMs: 100_000, endMs: 160_000 },
      want: { WA_ON: [20, 10, 30, 40], WA_BUSY: [30, 30, 30, 30], WA_OFF: [10, 10, 10, 10] },
    },
    {
      name: 'a deleted worker stops counting; its last stint is as long as its deletion says',
      events: [
        ev('worker.created', { activity_sid: 'WA_ON', version: 0 }, 'WK3', 110_000),
        ev(
          'worker.deleted',
          { activity_sid: 'WA_ON', version: 0, time_in_activity_ms: 30_000 },
          'WK3',
          140_000,
        ),
      ],
      current: [],
      window: { startMs: 100_000, endMs: 160_000 },
      want: { WA_ON: [30, 30, 30, 30] },
    },
    {
      name: 'a worker without events in the window spent it in the stint its next event ends',
      events: [update('WK1', 200_000, 'WA_BUSY', 150_000, 'WA_ON', 3)],
      current: [{ workerSid: 'WK1', activitySid: 'WA_ON', sinceMs: 200_000, version: 3 }],
      window: { startMs: 100_000, endMs: 160_000 },
      want: { WA_BUSY: [60, 60, 60, 60] },
    },
    {
      name: 'a worker deleted after the window spent it in its last activity',
      events: [
        ev('worker.deleted', { activity_sid: 'WA_OFF', time_in_activity_ms: 120_000 }, 'WK4', 200_000),
      ],
      current: [],
      window: { startMs: 100_000, endMs: 160_000 },
      want: { WA_OFF: [60, 60, 60, 60] },
    },
    {
      name: 'a worker row read before an update of it gives way to the update',
      events: [update('WK1', 150_000, 'WA_ON', 150_000, 'WA_BUSY', 3)],
      current: [{ workerSid: 'WK1', activitySid: 'WA_ON', sinceMs: 0, version: 2 }],
      window: { startMs: 100_000, endMs: 160_000 },
      want: { WA_ON: [50, 50, 50, 50], WA_BUSY: [10, 10, 10, 10] },
    },
  ])('$name', ({ events, current, window, want }) => {
    const durations = activityDurations(spentByWorker(events, current, window), activities);
    const got = Object.fromEntries(
      durations.filter((d) => d.total > 0).map((d) => [d.sid, [d.avg, d.min, d.max, d.total]]),
    );
    expect(got).toEqual(want);
    expect(durations.map((d) => d.friendlyName)).toEqual(['Offline', 'Available', 'Unavailable']);
  });
});

/**
 * Each worker's ms per activity in the window, as the service reckons them: from the tallies of
 * the workspace's worker events in the window and after it, and the workers now.
 */
function spentByWorker(
  events: readonly StatisticsEvent[],
  current: readonly { workerSid: string; activitySid: string; sinceMs: number }[],
  window: StatisticsWindow,
): Map<string, number>[] {
  const tallyOf = (keep: (e: StatisticsEvent) => boolean) => {
    const tally = emptyTally();
    for (const e of events.filter(keep)) {
      for (const f of factsOf(WS, e)) if (f.scopeSid === workersScopeSid(WS)) addFact(tally, f.fact);
    }
    return tallyFromText(tallyToText(tally));
  };
  const inWindow = tallyOf((e) => e.timeMs >= window.startMs && e.timeMs <= window.endMs);
  const after = tallyOf((e) => e.timeMs > window.endMs);
  const now = new Map(current.map((w) => [w.workerSid, w]));
  const sids = new Set([...inWindow.workers.keys(), ...after.workers.keys(), ...now.keys()]);
  return [...sids].map((sid) =>
    workerActivityMs(inWindow.workers.get(sid), after.workers.get(sid), now.get(sid), window),
  );
}
