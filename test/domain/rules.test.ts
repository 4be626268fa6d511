import { describe, expect, it } from 'vitest';
import { checkActivityDeletable } from '../../src/domain/activities.js';
import { ConflictError, PreconditionFailedError } from '../../src/domain/errors.js';
import { countWorkers } from '../../src/domain/statistics.js';
import { workerChannelChange } from '../../src/domain/worker-channels.js';
import {
  applyWorkerChange,
  checkIfMatch,
  workerChangeEventTypes,
  workerEtag,
} from '../../src/domain/workers.js';

const T0 = new Date('2024-01-01T00:00:00Z');
const T1 = new Date('2024-01-01T00:01:00Z');
const worker = {
  sid: 'WK1',
  accountSid: 'AC1',
  workspaceSid: 'WS1',
  friendlyName: 'Alice',
  activitySid: 'WA1',
  attributes: '{}',
  version: 3,
  dateCreated: T0,
  dateUpdated: T0,
  dateStatusChanged: T0,
};

describe('applyWorkerChange', () => {
  it.each([
    { change: { activitySid: 'WA2' }, activity: 'WA2', statusAt: T1 },
    { change: { activitySid: 'WA1', friendlyName: 'Bob' }, activity: 'WA1', statusAt: T0 },
    { change: { friendlyName: 'Bob' }, activity: 'WA1', statusAt: T0 },
  ])(
    '$change → activity $activity, status time moved only by a real move',
    ({ change, activity, statusAt }) => {
      const after = applyWorkerChange(worker, change, T1);
      expect(after.activitySid).toBe(activity);
      expect(after.dateStatusChanged).toEqual(statusAt);
      expect(after.version).toBe(4);
      expect(after.dateUpdated).toEqual(T1);
      expect(after.friendlyName).toBe('friendlyName' in change ? change.friendlyName : 'Alice');
    },
  );
  it.each([{}, { activitySid: 'WA1' }, { friendlyName: 'Alice', activitySid: 'WA1' }])(
    '$change changes nothing: the same worker, version and date_updated',
    (change) => expect(applyWorkerChange(worker, change, T1)).toBe(worker),
  );
});

describe('checkIfMatch', () => {
  it.each(['"3"', '3', 'W/"3"', '*', '"1", "3"', undefined])('accepts %s for version 3', (tag) => {
    expect(() => checkIfMatch(worker, tag)).not.toThrow();
  });
  it.each(['"4"', '4', 'W/"2"', ''])('refuses %s for version 3', (tag) => {
    expect(() => checkIfMatch(worker, tag)).toThrow(PreconditionFailedError);
  });
  it('quotes the version as the ETag', () => expect(workerEtag(worker)).toBe('"3"'));
});

describe('workerChangeEventTypes', () => {
  it.each([
    { change: { activitySid: 'WA2' }, types: ['worker.activity.update'] },
    { change: { attributes: '{}' }, types: ['worker.attributes.update'] },
    { change: { friendlyName: 'B' }, types: ['worker.updated'] },
    {
      change: { activitySid: 'WA2', attributes: '{}' },
      types: ['worker.activity.update', 'worker.attributes.update'],
    },
    { change: {}, types: ['worker.updated'] },
  ])('$change → $types', ({ change, types }) => expect(workerChangeEventTypes(change)).toEqual(types));
});

describe('checkActivityDeletable', () => {
  const ws = { defaultActivitySid: 'WA1', timeoutActivitySid: 'WA2' };
  it.each([
    { sid: 'WA1', workers: 0, ok: false },
    { sid: 'WA2', workers: 0, ok: false },
    { sid: 'WA3', workers: 1, ok: false },
    { sid: 'WA3', workers: 0, ok: true },
  ])('$sid with $workers worker(s): deletable=$ok', ({ sid, workers, ok }) => {
    const check = () => checkActivityDeletable(ws, sid, workers);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(ConflictError);
  });
});

describe('workerChannelChange', () => {
  it.each([
    {
      before: { capacity: 1, available: true },
      patch: { available: false },
      types: ['worker.channel.availability.update'],
      moved: true,
    },
    {
      before: { capacity: 1, available: true },
      patch: { capacity: 0 },
      types: ['worker.capacity.update'],
      moved: true,
    },
    {
      before: { capacity: 0, available: true },
      patch: { capacity: 2 },
      types: ['worker.capacity.update'],
      moved: true,
    },
    {
      before: { capacity: 1, available: false },
      patch: { capacity: 2 },
      types: ['worker.capacity.update'],
      moved: false,
    },
    { before: { capacity: 1, available: true }, patch: {}, types: [], moved: false },
    {
      before: { capacity: 1, available: true },
      patch: { capacity: 1, available: true },
      types: [],
      moved: false,
    },
    {
      before: { capacity: 1, available: true },
      patch: { capacity: 1, available: false },
      types: ['worker.channel.availability.update'],
      moved: true,
    },
  ])('$before + $patch → $types, eligibility changed: $moved', ({ before, patch, types, moved }) => {
    const change = workerChannelChange(before, patch);
    expect(change.after).toEqual({ ...before, ...patch });
    expect(change.eventTypes).toEqual(types);
    expect(change.eligibilityChanged).toBe(moved);
  });
});

describe('countWorkers', () => {
  const activities = [
    { sid: 'WA1', friendlyName: 'Offline' },
    { sid: 'WA2', friendlyName: 'Available' },
  ];
  const workers = [
    { sid: 'WK1', activitySid: 'WA1' },
    { sid: 'WK2', activitySid: 'WA2' },
    { sid: 'WK3', activitySid: 'WA2' },
  ];
  const channels = [
    { workerSid: 'WK1', taskChannelSid: 'TC1', available: true, capacity: 1 },
    { workerSid: 'WK2', taskChannelSid: 'TC1', available: false, capacity: 1 },
    { workerSid: 'WK3', taskChannelSid: 'TC1', available: true, capacity: 0 },
    { workerSid: 'WK3', taskChannelSid: 'TC2', available: true, capacity: 2 },
  ];
  it.each([
    { channel: undefined, counts: [1, 2] },
    { channel: 'TC1', counts: [1, 0] },
    { channel: 'TC2', counts: [0, 1] },
    { channel: 'TC9', counts: [0, 0] },
  ])('task channel $channel → $counts, every activity listed', ({ channel, counts }) => {
    expect(countWorkers(activities, workers, channels, channel).map((c) => c.workers)).toEqual(counts);
  });
});
