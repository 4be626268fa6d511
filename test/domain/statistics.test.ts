import { describe, expect, it } from 'vitest';
import {
  availableCapacityPercentage,
  isChannelEligible,
  workersRealTimeStatistics,
} from '../../src/domain/statistics.js';

describe('workersRealTimeStatistics', () => {
  it.each([
    { counts: [], total: 0 },
    { counts: [0, 0, 0], total: 0 },
    { counts: [3, 0, 2], total: 5 },
    { counts: [1_000_000, 0, 7], total: 1_000_007 },
  ])('totals $counts to $total, keeping order and zeros', ({ counts, total }) => {
    const input = counts.map((workers, i) => ({ activitySid: `WA${i}`, friendlyName: `A${i}`, workers }));
    const stats = workersRealTimeStatistics(input);
    expect(stats.totalWorkers).toBe(total);
    expect(stats.activityStatistics).toEqual(
      input.map((c) => ({ sid: c.activitySid, friendlyName: c.friendlyName, workers: c.workers })),
    );
  });
});

describe('isChannelEligible', () => {
  it.each([
    { available: true, capacity: 1, eligible: true },
    { available: true, capacity: 0, eligible: false },
    { available: false, capacity: 5, eligible: false },
    { available: false, capacity: 0, eligible: false },
  ])('available=$available capacity=$capacity → $eligible', ({ available, capacity, eligible }) => {
    expect(isChannelEligible({ available, capacity })).toBe(eligible);
  });
});

describe('availableCapacityPercentage', () => {
  it.each([
    { available: true, capacity: 1, assignedTasks: 0, pct: 100 },
    { available: true, capacity: 3, assignedTasks: 1, pct: 66 },
    { available: true, capacity: 2, assignedTasks: 2, pct: 0 },
    { available: true, capacity: 2, assignedTasks: 5, pct: 0 },
    { available: true, capacity: 0, assignedTasks: 0, pct: 0 },
    { available: false, capacity: 4, assignedTasks: 0, pct: 0 },
  ])('$capacity capacity, $assignedTasks assigned, available=$available → $pct%', (c) => {
    expect(availableCapacityPercentage(c)).toBe(c.pct);
  });
});
