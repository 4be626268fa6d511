import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidParameterError } from '../../../src/domain/errors.js';
import {
  assertQueueUnreferenced,
  MAX_PRIORITY,
  parseWorkflowConfiguration,
  queuesNamedBy,
} from '../../../src/domain/workflows/configuration.js';

const Q1 = 'WQ' + '1'.repeat(32);
const Q2 = 'WQ' + '2'.repeat(32);
const Q3 = 'WQ' + '3'.repeat(32);
const OTHER = 'WQ' + 'f'.repeat(32);
const context = { queueExists: (sid: string) => [Q1, Q2, Q3].includes(sid) };

const parse = (document: unknown) =>
  parseWorkflowConfiguration(typeof document === 'string' ? document : JSON.stringify(document), context);

const routing = (taskRouting: unknown) => ({ task_routing: taskRouting });

describe('a valid configuration', () => {
  // Twilio's own example (lifecycle-task-workflows-and-assignment), queues filled in.
  const docsExample = routing({
    filters: [
      {
        expression: 'type=="Support"',
        filter_friendly_name: 'Support Calls',
        targets: [
          { queue: Q1, timeout: 15, expression: 'worker.id IN task.preferred_agents' },
          { timeout: 15 },
        ],
      },
      {
        expression: 'type=="Sales"',
        filter_friendly_name: 'Sales Calls',
        targets: [{ queue: Q2, timeout: 15 }],
      },
    ],
    default_filter: { queue: Q3 },
  });

  it('compiles every part once, with the right scope', () => {
    const config = parse(docsExample);
    expect(config.filters).toHaveLength(2);
    const [support, sales] = config.filters;
    expect(support!.friendlyName).toBe('Support Calls');
    expect(support!.expression.test({ type: 'Support' })).toBe(true);
    expect(support!.expression.test({ type: 'Sales' })).toBe(false);
    const [first, second] = support!.targets;
    expect(first!.expression!.test({ id: 'a' }, undefined, { preferred_agents: ['a', 'b'] })).toBe(true);
    expect(first!.expression!.test({ id: 'c' }, undefined, { preferred_agents: ['a', 'b'] })).toBe(false);
    expect(sales!.targets[0]!.queueSid).toBe(Q2);
    expect(config.defaultQueueSid).toBe(Q3);
    expect(second!.expression).toBeUndefined();
  });

  it('gives a target without a queue the previous target’s queue', () => {
    const [first, second] = parse(docsExample).filters[0]!.targets;
    expect([first!.queueSid, first!.queueInherited]).toEqual([Q1, false]);
    expect([second!.queueSid, second!.queueInherited]).toEqual([Q1, true]);
  });

  it('sums the timeouts into the age at which each step ends', () => {
    const config = parse(
      routing({
        filters: [
          {
            expression: '1==1',
            targets: [
              { queue: Q1, timeout: 10 },
              { queue: Q2 },
              { queue: Q3, timeout: 20 },
              { queue: Q1, timeout: 5 },
            ],
          },
        ],
      }),
    );
    expect(config.filters[0]!.targets.map((t) => [t.timeout, t.expiresAtAge])).toEqual([
      [10, 10],
      [undefined, undefined],
      [20, 30],
      [5, 35],
    ]);
  });

  it('lists every queue it names once, in order of first appearance', () => {
    expect(parse(docsExample).queueSids).toEqual([Q1, Q2, Q3]);
  });

  it('reads every target field', () => {
    const config = parse(
      routing({
        filters: [
          {
            expression: 'priority > 1',
            targets: [
              {
                queue: Q1,
                priority: 10,
                timeout: 30,
                order_by: 'worker.level DESC',
                skip_if: 'workers.available == 0',
                known_worker_sid: 'task.last_agent',
              },
              { queue: Q2, known_worker_friendly_name: 'task.agent_name' },
            ],
          },
        ],
      }),
    );
    const [first, second] = config.filters[0]!.targets;
    expect(first!.priority).toBe(10);
    expect(first!.orderBy!.text).toBe('worker.level DESC');
    expect(first!.skipIf!.test(undefined, { workers: { available: 0 } })).toBe(true);
    expect(first!.knownWorker!.by).toBe('sid');
    expect(first!.knownWorker!.reference.read({ last_agent: 'WK1' })).toBe('WK1');
    expect(second!.knownWorker!.by).toBe('friendly_name');
    expect(second!.knownWorker!.reference.key.text).toBe('agent_name');
  });

  it.each([
    ['only a default_filter', routing({ default_filter: { queue: Q1 } })],
    ['empty filters and a default_filter', routing({ filters: [], default_filter: { queue: Q1 } })],
    [
      'filters without a default_filter',
      routing({ filters: [{ expression: '1==1', targets: [{ queue: Q1 }] }] }),
    ],
    [
      'unknown keys anywhere',
      {
        version: 2,
        task_routing: {
          note: 'x',
          filters: [{ expression: '1==1', colour: 'red', targets: [{ queue: Q1, weight: 3 }] }],
          default_filter: { queue: Q2, timeout: 5 },
        },
      },
    ],
    [
      'numbers written as strings',
      routing({ filters: [{ expression: '1==1', targets: [{ queue: Q1, priority: '5', timeout: '30' }] }] }),
    ],
    [
      'the largest priority',
      routing({ filters: [{ expression: '1==1', targets: [{ queue: Q1, priority: MAX_PRIORITY }] }] }),
    ],
  ])('accepts %s', (_name, document) => {
    expect(() => parse(document)).not.toThrow();
  });

  it('reads digit strings as numbers', () => {
    const target = parse(
      routing({ filters: [{ expression: '1==1', targets: [{ queue: Q1, priority: '5', timeout: '30' }] }] }),
    ).filters[0]!.targets[0]!;
    expect([target.priority, target.timeout]).toEqual([5, 30]);
  });
});

describe('a bad configuration names the path inside the document', () => {
  const filter = (target: Record<string, unknown>) =>
    routing({
      filters: [
        { expression: '1==1', targets: [{ queue: Q1 }] },
        { expression: '1==1', targets: [target] },
      ],
    });

  it.each<[string, unknown, string]>([
    ['not JSON', '{"task_routing": ', 'Configuration is not valid JSON: '],
    ['an array', [], 'Configuration: must be a JSON object'],
    ['no task_routing', {}, 'task_routing: is required'],
    ['task_routing a string', routing('x'), 'task_routing: must be a JSON object'],
    ['nothing to route to', routing({}), 'task_routing: needs at least one filter or a default_filter'],
    [
      'empty filters alone',
      routing({ filters: [] }),
      'task_routing: needs at least one filter or a default_filter',
    ],
    ['filters an object', routing({ filters: {} }), 'task_routing.filters: must be a JSON array'],
    ['a filter a string', routing({ filters: ['x'] }), 'task_routing.filters[0]: must be a JSON object'],
    [
      'no expression',
      routing({ filters: [{ targets: [{ queue: Q1 }] }] }),
      'task_routing.filters[0].expression: is required',
    ],
    [
      'a number expression',
      routing({ filters: [{ expression: 1, targets: [] }] }),
      'task_routing.filters[0].expression: must be a string',
    ],
    [
      'a malformed expression',
      routing({
        filters: [
          { expression: '1==1', targets: [{ queue: Q1 }] },
          { expression: 'type ==', targets: [{ queue: Q1 }] },
        ],
      }),
      'Invalid task_routing.filters[1].expression at 8: expected a value after',
    ],
    [
      'no targets',
      routing({ filters: [{ expression: '1==1' }] }),
      'task_routing.filters[0].targets: is required',
    ],
    [
      'empty targets',
      routing({ filters: [{ expression: '1==1', targets: [] }] }),
      'task_routing.filters[0].targets: needs at least one target',
    ],
    ['a target a number', filter(7 as never), 'task_routing.filters[1].targets[0]: must be a JSON object'],
    [
      'an unknown queue',
      filter({ queue: OTHER }),
      `task_routing.filters[1].targets[0].queue: ${OTHER} is not a TaskQueue of this workspace`,
    ],
    [
      'a queue not a string',
      filter({ queue: 5 }),
      'task_routing.filters[1].targets[0].queue: must be a string',
    ],
    [
      'the first target without a queue',
      filter({ timeout: 5 }),
      'task_routing.filters[1].targets[0].queue: is required on the first target',
    ],
    [
      'a zero timeout',
      filter({ queue: Q1, timeout: 0 }),
      'task_routing.filters[1].targets[0].timeout: must be an integer from 1 to 1209600',
    ],
    [
      'a fractional timeout',
      filter({ queue: Q1, timeout: 1.5 }),
      'task_routing.filters[1].targets[0].timeout: must be an integer',
    ],
    [
      'a huge timeout',
      filter({ queue: Q1, timeout: 1_209_601 }),
      'task_routing.filters[1].targets[0].timeout: must be an integer',
    ],
    [
      'a word timeout',
      filter({ queue: Q1, timeout: 'soon' }),
      'task_routing.filters[1].targets[0].timeout: must be an integer',
    ],
    [
      'a negative priority',
      filter({ queue: Q1, priority: -1 }),
      'task_routing.filters[1].targets[0].priority: must be an integer from 0 to 2147483647',
    ],
    [
      'a priority over 2^31 - 1',
      filter({ queue: Q1, priority: MAX_PRIORITY + 1 }),
      'task_routing.filters[1].targets[0].priority: must be an integer',
    ],
    [
      'a null priority',
      filter({ queue: Q1, priority: null }),
      'task_routing.filters[1].targets[0].priority: must be an integer',
    ],
    [
      'a bad target expression',
      filter({ queue: Q1, expression: 'worker.a HAS' }),
      'Invalid task_routing.filters[1].targets[0].expression at 13: expected a value',
    ],
    [
      'a bad skip_if',
      filter({ queue: Q1, skip_if: 'workers.available = = 0' }),
      'Invalid task_routing.filters[1].targets[0].skip_if at',
    ],
    [
      'a bad order_by',
      filter({ queue: Q1, order_by: 'worker.level UP' }),
      'Invalid task_routing.filters[1].targets[0].order_by at 14: expected ASC, DESC',
    ],
    [
      'an order_by array',
      filter({ queue: Q1, order_by: ['worker.level'] }),
      'task_routing.filters[1].targets[0].order_by: must be a string',
    ],
    [
      'a bad known_worker_sid',
      filter({ queue: Q1, known_worker_sid: 'task.a == 1' }),
      'Invalid task_routing.filters[1].targets[0].known_worker_sid at 8: expected the end',
    ],
    [
      'a bad known_worker_friendly_name',
      filter({ queue: Q1, known_worker_friendly_name: 3 }),
      'task_routing.filters[1].targets[0].known_worker_friendly_name: must be a string',
    ],
    [
      'both known-worker fields',
      filter({ queue: Q1, known_worker_sid: 'task.a', known_worker_friendly_name: 'task.b' }),
      'task_routing.filters[1].targets[0]: give known_worker_sid or known_worker_friendly_name, not both',
    ],
    [
      'a friendly name not a string',
      routing({ filters: [{ filter_friendly_name: 1, expression: '1==1', targets: [{ queue: Q1 }] }] }),
      'task_routing.filters[0].filter_friendly_name: must be a string',
    ],
    [
      'default_filter an array',
      routing({ default_filter: [] }),
      'task_routing.default_filter: must be a JSON object',
    ],
    [
      'default_filter without a queue',
      routing({ default_filter: {} }),
      'task_routing.default_filter.queue: is required',
    ],
    [
      'default_filter on another queue',
      routing({ default_filter: { queue: OTHER } }),
      `task_routing.default_filter.queue: ${OTHER} is not a TaskQueue of this workspace`,
    ],
  ])('%s', (_name, document, message) => {
    let error: unknown;
    try {
      parse(document);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).parameter).toBe('Configuration');
    expect((error as InvalidParameterError).message.startsWith(message)).toBe(true);
  });

  it('refuses too many filters', () => {
    const filters = Array.from({ length: 1001 }, () => ({ expression: '1==1', targets: [{ queue: Q1 }] }));
    expect(() => parse(routing({ filters }))).toThrow(
      'task_routing.filters: at most 1000 filters are allowed',
    );
  });
});

describe('deleting a queue a workflow names', () => {
  const workflows = [
    { sid: 'WW1', friendlyName: 'Sales', queueSids: [Q1] },
    { sid: 'WW2', friendlyName: 'Support', queueSids: [Q2, Q3] },
  ];

  it('is refused, naming the workflow', () => {
    expect(() => assertQueueUnreferenced(Q3, workflows)).toThrow(
      new ConflictError(
        `The TaskQueue ${Q3} cannot be deleted: the Workflow WW2 (Support) routes tasks to it`,
      ),
    );
  });

  it('is allowed when no workflow names it', () => {
    expect(() => assertQueueUnreferenced(OTHER, workflows)).not.toThrow();
  });
});

describe('the queues a stored configuration names, read without compiling', () => {
  it.each<[string, string, string[]]>([
    [
      'every target and the default, once each',
      JSON.stringify(
        routing({
          filters: [
            { expression: '1==1', targets: [{ queue: Q1 }, { timeout: 5 }, { queue: Q2 }] },
            { expression: '1==1', targets: [{ queue: Q1 }] },
          ],
          default_filter: { queue: Q3 },
        }),
      ),
      [Q1, Q2, Q3],
    ],
    ['only a default', JSON.stringify(routing({ default_filter: { queue: Q2 } })), [Q2]],
    ['not JSON', '{', []],
    [
      'odd shapes are passed over',
      JSON.stringify(routing({ filters: [1, { targets: 'x' }, { targets: [null, { queue: 5 }] }] })),
      [],
    ],
  ])('%s', (_name, text, expected) => {
    expect(queuesNamedBy(text)).toEqual(expected);
  });

  it('agrees with the parsed configuration on a valid document', () => {
    const text = JSON.stringify(
      routing({
        filters: [{ expression: '1==1', targets: [{ queue: Q2 }, { queue: Q1 }] }],
        default_filter: { queue: Q2 },
      }),
    );
    expect(queuesNamedBy(text)).toEqual(parse(text).queueSids);
  });
});
