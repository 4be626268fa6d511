import { describe, expect, it } from 'vitest';
import { isEligible, type WorkerCandidate } from '../../../src/domain/routing/eligibility.js';
import { parseWorkflowConfiguration } from '../../../src/domain/workflows/configuration.js';
import { routeTask } from '../../../src/domain/workflows/route.js';
import { timeOfDayFields } from '../../../src/domain/workflows/time-of-day.js';

const Q1 = 'WQ' + '1'.repeat(32);
const QD = 'WQ' + 'd'.repeat(32);
const configuration = (taskRouting: unknown) =>
  parseWorkflowConfiguration(JSON.stringify({ task_routing: taskRouting }), {
    queueExists: (sid) => sid === Q1 || sid === QD,
  });

describe('time-of-day keys', () => {
  it.each([
    ['2026-11-30T09:05:59Z', { currentTime: 905, currentHour: '09', currentMin: '05', dayOfWeek: 'Mon' }],
    ['2026-11-29T00:00:00Z', { currentTime: 0, currentHour: '00', currentMin: '00', dayOfWeek: 'Sun' }],
    ['2026-12-05T23:59:00Z', { currentTime: 2359, currentHour: '23', currentMin: '59', dayOfWeek: 'Sat' }],
    // UTC, whatever the offset written.
    [
      '2026-11-30T01:30:00+02:00',
      { currentTime: 2330, currentHour: '23', currentMin: '30', dayOfWeek: 'Sun' },
    ],
  ])('at %s', (iso, taskrouter) => {
    expect(timeOfDayFields(new Date(iso))).toEqual({ taskrouter });
  });

  // Twilio's examples (time-of-day-routing), in a filter expression.
  const officeHours = configuration({
    filters: [
      {
        expression:
          "taskrouter.currentTime > 0800 AND taskrouter.currentTime < 1830 AND taskrouter.dayOfWeek IN ['Mon','Tue','Wed','Thu','Fri']",
        targets: [{ queue: Q1 }],
      },
    ],
    default_filter: { queue: QD },
  });
  it.each([
    ['2026-11-30T08:01:00Z', Q1],
    ['2026-11-30T18:30:00Z', QD],
    ['2026-11-30T07:59:00Z', QD],
    ['2026-11-29T12:00:00Z', QD],
  ])('a filter at %s routes to %s', (iso, queueSid) => {
    const route = routeTask(officeHours, { attributes: {}, fields: timeOfDayFields(new Date(iso)) }, 0);
    expect(route.kind === 'target' || route.kind === 'default' ? route.queueSid : route.kind).toBe(queueSid);
  });

  it('a target expression reads the time of day beside the worker', () => {
    const target = configuration({
      filters: [
        {
          expression: '1==1',
          targets: [{ queue: Q1, expression: 'taskrouter.currentHour >= 8 AND worker.shift == "day"' }],
        },
      ],
    }).filters[0]!.targets[0]!;
    expect(target.expressionReadsTimeOfDay).toBe(true);
    const worker: WorkerCandidate = {
      sid: 'WK1',
      friendlyName: 'a',
      attributes: { shift: 'day' },
      fields: { sid: 'WK1' },
      queueMember: true,
      activityAvailable: true,
      channel: { available: true, capacity: 1, assignedTasks: 0, pendingReservations: 0 },
      heldTasks: 0,
    };
    const step = (iso: string) => ({
      target,
      multitasking: true,
      timeOfDay: timeOfDayFields(new Date(iso)),
    });
    expect(isEligible(worker, { attributes: {} }, step('2026-11-30T09:00:00Z'))).toBe(true);
    expect(isEligible(worker, { attributes: {} }, step('2026-11-30T07:00:00Z'))).toBe(false);
  });

  it('only expressions that read it are flagged', () => {
    const target = configuration({
      filters: [
        { expression: '1==1', targets: [{ queue: Q1, expression: 'task.taskrouter.x == 1 OR level > 1' }] },
      ],
    }).filters[0]!.targets[0]!;
    expect(target.expressionReadsTimeOfDay).toBe(false);
  });
});
