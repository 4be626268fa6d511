import { describe, expect, it } from 'vitest';
import { countQueueMembers, shouldSkipStep, skipIfFields } from '../../../src/domain/routing/skip-if.js';
import {
  parseWorkflowConfiguration,
  type WorkflowTarget,
} from '../../../src/domain/workflows/configuration.js';

const Q1 = 'WQ' + '1'.repeat(32);
const IDLE = 'WA' + '1'.repeat(32);
const BUSY = 'WA' + '2'.repeat(32);
const OFFLINE = 'WA' + '3'.repeat(32);

const target = (skipIf?: string): WorkflowTarget =>
  parseWorkflowConfiguration(
    JSON.stringify({
      task_routing: { filters: [{ expression: '1==1', targets: [{ queue: Q1, skip_if: skipIf }] }] },
    }),
    { queueExists: (sid) => sid === Q1 },
  ).filters[0]!.targets[0]!;

const members = [
  { activitySid: IDLE, available: true },
  { activitySid: IDLE, available: true },
  { activitySid: BUSY, available: false },
];
const counts = countQueueMembers(members, [IDLE, BUSY, OFFLINE]);

describe('counting a queue’s members', () => {
  it('counts by availability and by activity, every activity present', () => {
    expect(counts.available).toBe(2);
    expect(counts.unavailable).toBe(1);
    expect([...counts.byActivity]).toEqual([
      [IDLE, 2],
      [BUSY, 1],
      [OFFLINE, 0],
    ]);
  });

  it('gives the fields skip_if reads', () => {
    expect(skipIfFields(counts)).toEqual({
      workers: { available: 2, unavailable: 1, [IDLE]: 2, [BUSY]: 1, [OFFLINE]: 0 },
    });
  });

  it('an empty queue counts zero everywhere', () => {
    const empty = countQueueMembers([], [IDLE]);
    expect(skipIfFields(empty)).toEqual({ workers: { available: 0, unavailable: 0, [IDLE]: 0 } });
  });
});

describe('whether a step is skipped', () => {
  it.each<[string | undefined, boolean, boolean]>([
    // Twilio's examples (worker-presence).
    ['workers.available == 0', false, false],
    ['workers.available > 1', false, true],
    ['workers.unavailable == 1', false, true],
    [`workers.${OFFLINE} < 2`, false, true],
    [`workers.${IDLE} < 2`, false, false],
    [`workers.${IDLE} < 2 OR workers.${OFFLINE} < 2`, false, true],
    ['1==1', false, true],
    // Only when no reservation was created on entering the step.
    ['1==1', true, false],
    // No skip_if: never.
    [undefined, false, false],
    // Task attributes and unknown counters are NULL: comparisons with them are false.
    ['type == "x"', false, false],
    ['workers.WAffffffffffffffffffffffffffffffff == 0', false, false],
  ])('skip_if %j, reservation created: %j → %j', (skipIf, reserved, skipped) => {
    expect(shouldSkipStep(target(skipIf), counts, reserved)).toBe(skipped);
  });
});
