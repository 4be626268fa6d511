import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../../src/domain/errors.js';
import {
  compileKeyReference,
  compileOrderBy,
  TASK_SCOPE,
  WORKER_SCOPE,
} from '../../../src/domain/expressions/index.js';

const KNOWN = {
  parameter: 'Configuration',
  label: 'task_routing.filters[0].targets[0].known_worker_sid',
  scope: TASK_SCOPE,
};
const ORDER = {
  parameter: 'Configuration',
  label: 'task_routing.filters[0].targets[0].order_by',
  scope: WORKER_SCOPE,
};

describe('known-worker references', () => {
  it.each([
    ['task.transferTargetSid', { transferTargetSid: 'WK1' }, 'WK1'],
    ['transferTargetSid', { transferTargetSid: 'WK1' }, 'WK1'],
    ['task.transfer.target[1]', { transfer: { target: ['WK0', 'WK1'] } }, 'WK1'],
    ['task.transferTargetSid', {}, undefined],
    ['task.constructor', {}, undefined],
  ])('%s reads %j as %j', (source, attributes, expected) => {
    expect(compileKeyReference(source, KNOWN).read(attributes)).toBe(expected);
  });

  it('resolves the key against its scope', () => {
    expect(compileKeyReference('task.agent.name', KNOWN).key).toEqual({
      document: 'task',
      path: ['agent', 'name'],
      text: 'agent.name',
    });
  });

  it('reads a field before the attributes', () => {
    expect(compileKeyReference('task.sid', KNOWN).read({ sid: 'x' }, { sid: 'WT1' })).toBe('WT1');
  });

  it.each([
    ['', 'at 1: expected a key'],
    ["'WK1'", "at 1: expected a key, found ''WK1''"],
    ['task.x == 1', "at 8: expected the end after the key 'task.x', found '=='"],
    ['task-x', 'at 5: hyphens are not supported in TaskRouter expressions'],
    ['AND', "at 1: expected a key, found 'AND'"],
  ])('%j is refused (%s)', (source, where) => {
    expect(() => compileKeyReference(source, KNOWN)).toThrow(
      new InvalidParameterError('Configuration', `Invalid ${KNOWN.label} ${where}`),
    );
  });

  it('says "key" when no label is given', () => {
    expect(() => compileKeyReference('', { parameter: 'KnownWorkerSid', scope: TASK_SCOPE })).toThrow(
      'Invalid KnownWorkerSid key at 1: expected a key',
    );
  });
});

describe('order_by', () => {
  const workers = [
    { name: 'a', attributes: { level: 3, experience: 1 } },
    { name: 'b', attributes: { level: 5, experience: 2 } },
    { name: 'c', attributes: { level: '5', experience: 9 } },
    { name: 'd', attributes: { experience: 100 } },
    { name: 'e', attributes: { level: 'senior', experience: 100 } },
    { name: 'f', attributes: { level: 1 } },
  ];
  const sorted = (source: string) => {
    const order = compileOrderBy(source, ORDER);
    return workers
      .map((w) => ({ name: w.name, values: order.read(w.attributes) }))
      .sort((x, y) => order.compare(x.values, y.values) || x.name.localeCompare(y.name))
      .map((w) => w.name);
  };

  it.each([
    ['worker.level DESC', ['b', 'c', 'a', 'f', 'd', 'e']],
    ['worker.level ASC', ['f', 'a', 'b', 'c', 'd', 'e']],
    ['worker.level', ['f', 'a', 'b', 'c', 'd', 'e']],
    ['worker.level desc, worker.experience desc', ['c', 'b', 'a', 'f', 'd', 'e']],
    ['level DESC,experience ASC', ['b', 'c', 'a', 'f', 'd', 'e']],
    ['worker.experience DESC, worker.level DESC', ['d', 'e', 'c', 'b', 'a', 'f']],
  ])('%s orders the workers %j (missing or non-numeric values last)', (source, expected) => {
    expect(sorted(source)).toEqual(expected);
  });

  it('prints canonically and names its keys', () => {
    const order = compileOrderBy('worker.level desc ,  experience', ORDER);
    expect(order.text).toBe('worker.level DESC, experience ASC');
    expect(order.keys.map((k) => k.text)).toEqual(['level', 'experience']);
    expect(order.compare(order.read({ level: 2 }), order.read({ level: 2 }))).toBe(0);
  });

  it.each([
    ['', 'at 1: expected a key'],
    ['worker.level DOWN', "at 14: expected ASC, DESC, ',' or the end, found 'DOWN'"],
    ['worker.level DESC,', "at 19: expected a key after ','"],
    ['worker.level DESC worker.x', "at 19: expected ASC, DESC, ',' or the end, found 'worker.x'"],
    ["'level' DESC", "at 1: expected a key, found ''level''"],
  ])('%j is refused (%s)', (source, where) => {
    expect(() => compileOrderBy(source, ORDER)).toThrow(
      new InvalidParameterError('Configuration', `Invalid ${ORDER.label} ${where}`),
    );
  });
});
