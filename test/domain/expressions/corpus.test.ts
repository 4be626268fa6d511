import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../../src/domain/errors.js';
import {
  compileExpression,
  TARGET_SCOPE,
  TASK_SCOPE,
  WORKER_SCOPE,
  type ExpressionScope,
  type Fields,
} from '../../../src/domain/expressions/index.js';

interface Case {
  expression: string;
  attributes: unknown;
  expected: boolean;
  fields?: Fields;
  scope?: ExpressionScope;
  /** The secondary document (the task, for TARGET_SCOPE). */
  other?: unknown;
  otherFields?: Fields;
}

const c = (expression: string, attributes: unknown, expected: boolean, more: Partial<Case> = {}): Case => ({
  expression,
  attributes,
  expected,
  ...more,
});

// The task attributes of Twilio's expression-syntax page.
const DOC_TASK = { string_const: 'foo', object: { array: ['a', 'b', 'c'], attr: 'bar' } };
const WORKER = {
  skills: ['support', 'sales'],
  languages: ['english', 'spanish'],
  language: 'en',
  skill_rating: 6,
  level: 3,
  location: { city: 'Lisbon', country: 'PT', zones: [{ name: 'west' }, { name: 'east' }] },
  vip: true,
  tags: 'senior,remote',
  phone: '+351210000000',
  zip: 94110,
  score: '08',
  empty: [],
  nothing: null,
};

const CASES: Case[] = [
  // Every example on Twilio's expression-syntax page.
  c('1 == 1', {}, true),
  c('0 != 1', {}, true),
  c('"apple" != "orange"', {}, true),
  c('key > 1', { key: 2 }, true),
  c('key > 1', { key: 1 }, false),
  c('key > 1', {}, false),
  c('object.param != "apple"', { object: { param: 'pear' } }, true),
  c('object.param != "apple"', { object: { param: 'apple' } }, false),
  c('language IN ["en", "es"]', { language: 'es' }, true),
  c('language IN ["en", "es"]', { language: 'fr' }, false),
  c('(condition_a == true) OR (condition_b == true)', { condition_b: true }, true),
  c('(condition_a == true) OR (condition_b == true)', { condition_a: false, condition_b: false }, false),
  c(
    '(language == "en" OR language == "fr") AND skill_rating >= 5.1',
    { language: 'fr', skill_rating: 5.1 },
    true,
  ),
  c(
    '(language == "en" OR language == "fr") AND skill_rating >= 5.1',
    { language: 'fr', skill_rating: 5 },
    false,
  ),
  c(
    '(language == "en" OR language == "fr") AND skill_rating >= 5.1',
    { language: 'de', skill_rating: 9 },
    false,
  ),
  c("(skills HAS 'support') AND (languages HAS 'english')", WORKER, true),
  c(
    "(skills HAS 'support') AND (languages HAS 'english')",
    { skills: ['support'], languages: ['french'] },
    false,
  ),
  c("customer_value == 'Gold' AND type == 'ticket'", { customer_value: 'Gold', type: 'ticket' }, true),
  c("customer_value == 'Gold' AND type == 'ticket'", { customer_value: 'Silver', type: 'ticket' }, false),
  c('string_const == "foo"', DOC_TASK, true),
  c('object.array HAS "b"', DOC_TASK, true),
  c('object.array[2] == "c"', DOC_TASK, true),
  c('object.attr == "bar"', DOC_TASK, true),
  c('object.array[0] == "a"', DOC_TASK, true), // the changelog's fixed bug (CCIS-786)
  c('object.array[3] == "d"', DOC_TASK, false),
  c('object.missing == "bar"', DOC_TASK, false),
  // Activity-based routing and the Worker list changelog.
  c("worker.activity_name in ['Generally Available', 'High Value Tasks']", {}, true, {
    fields: { activity_name: 'High Value Tasks' },
  }),
  c("worker.activity_name in ['Generally Available', 'High Value Tasks']", {}, false, {
    fields: { activity_name: 'Offline' },
  }),
  c("worker.activity_sid == 'WA0123456789abcdef0123456789abcdef'", {}, true, {
    fields: { activity_sid: 'WA0123456789abcdef0123456789abcdef' },
  }),
  c("activity_name contains 'MNO'", {}, true, { fields: { activity_name: 'xxMNOxx' } }),
  c("activity_name contains 'MNO'", {}, false, { fields: { activity_name: 'mno' } }),
  c("activity_name IN ['ABC', 'XYZ']", {}, true, { fields: { activity_name: 'XYZ' } }),
  // Workflow filters read task attributes, bare or under task.
  c('type=="Support"', { type: 'Support' }, true, { scope: TASK_SCOPE }),
  c('task.type == "Support"', { type: 'Support' }, true, { scope: TASK_SCOPE }),
  c('task.type == "Support"', { type: 'Sales' }, false, { scope: TASK_SCOPE }),
  // Workflow targets mix the worker and the task.
  c('worker.id IN task.preferred_agents', { id: 'WK2' }, true, {
    scope: TARGET_SCOPE,
    other: { preferred_agents: ['WK1', 'WK2'] },
  }),
  c('worker.id IN task.preferred_agents', { id: 'WK3' }, false, {
    scope: TARGET_SCOPE,
    other: { preferred_agents: ['WK1', 'WK2'] },
  }),
  c('worker.sid IN task.preferred_agents', {}, true, {
    scope: TARGET_SCOPE,
    fields: { sid: 'WK1' },
    other: { preferred_agents: ['WK1'] },
  }),
  c('worker.contact_uri != task.ignoreWorkerContactUri', { contact_uri: 'client:alice' }, true, {
    scope: TARGET_SCOPE,
    other: { ignoreWorkerContactUri: 'client:bob' },
  }),
  c('worker.contact_uri != task.ignoreWorkerContactUri', { contact_uri: 'client:bob' }, false, {
    scope: TARGET_SCOPE,
    other: { ignoreWorkerContactUri: 'client:bob' },
  }),
  c('worker.contact_uri != task.ignoreWorkerContactUri', { contact_uri: 'client:bob' }, false, {
    scope: TARGET_SCOPE,
    other: {},
  }),
  c('skills HAS task.skill', WORKER, true, { scope: TARGET_SCOPE, other: { skill: 'sales' } }),
  c('task.priority > level', WORKER, true, { scope: TARGET_SCOPE, other: {}, otherFields: { priority: 5 } }),
  // skip_if reads counters of the step's queue, given as fields.
  c('workers.available == 0', {}, true, { fields: { workers: { available: 0, unavailable: 3 } } }),
  c('workers.available == 0', {}, false, { fields: { workers: { available: 2, unavailable: 0 } } }),
  c('workers.WA0123456789abcdef0123456789abcdef > 1', {}, true, {
    fields: { workers: { WA0123456789abcdef0123456789abcdef: 2 } },
  }),
  // Time-of-day routing: `=`, a number with a leading zero, lines, lowercase `in`, string hours.
  c(
    `(taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU']
      AND taskrouter.currentTime > 0800
      AND taskrouter.currentTime < 1730)
     OR
     (taskrouter.dayOfWeek = 'Sat'
      AND taskrouter.currentTime > 1100
      AND taskrouter.currentTime < 1530)`,
    {},
    true,
    { scope: TASK_SCOPE, fields: { taskrouter: { dayOfWeek: 'Sat', currentTime: 1200 } } },
  ),
  c("taskrouter.dayOfWeek = 'Sat' AND taskrouter.currentTime > 1100", {}, false, {
    fields: { taskrouter: { dayOfWeek: 'Sat', currentTime: 1030 } },
  }),
  c('taskrouter.currentHour > 8 AND taskrouter.currentHour < 18', {}, true, {
    fields: { taskrouter: { currentHour: '09' } },
  }),
  c('taskrouter.currentHour > 8 AND taskrouter.currentHour < 18', {}, false, {
    fields: { taskrouter: { currentHour: '08' } },
  }),

  // Constants and keywords.
  c('\'a\' == "a"', {}, true),
  c('1 == 1.0', {}, true),
  c('1.00 == 1', {}, true),
  c('3.141529 > 3.14', {}, true),
  c('.5 == 0.5', {}, true),
  c('-2 < -1', {}, true),
  c('1e3 == 1000', {}, true),
  c('true == TRUE', {}, true),
  c('vip == true', WORKER, true),
  c('vip == false', WORKER, false),
  c('vip != false', WORKER, true),
  c('vip = True', WORKER, true),
  c("language = 'en'", WORKER, true),
  c("language == 'en' and level == 3", WORKER, true),
  c("language == 'fr' Or level == 3", WORKER, true),
  c("skills has 'sales'", WORKER, true),
  c("language not in ['fr']", WORKER, true),
  c("tags CoNtAiNs 'remote'", WORKER, true),
  c('1 == 2 OR 1 == 1', {}, true),
  c('1 == 1 AND 1 == 2', {}, false),
  // Escapes in strings (JSON's, plus \').
  c("name == 'O\\'Brien'", { name: "O'Brien" }, true),
  c('name == "say \\"hi\\""', { name: 'say "hi"' }, true),
  c("name == 'a\\\\b'", { name: 'a\\b' }, true),
  c("name == 'caf\\u00e9\\n'", { name: 'café\n' }, true),
  c("name == 'x-y z'", { name: 'x-y z' }, true),
  // Keys.
  c("location.city == 'Lisbon'", WORKER, true),
  c("location.zones[1].name == 'east'", WORKER, true),
  c("location.zones[2].name == 'east'", WORKER, false),
  c("location.zones.name == 'east'", WORKER, false),
  c("location[0] == 'Lisbon'", WORKER, false),
  c("skills[0] == 'support'", WORKER, true),
  c("skills.0 == 'support'", WORKER, false),
  c("location.city.name == 'Lisbon'", WORKER, false),
  c("worker.location.country == 'PT'", WORKER, true),
  c("constructor == 'x'", {}, false),
  c('toString != 1', {}, false),
  c("__proto__ == 'x'", JSON.parse('{"__proto__": "x"}') as unknown, true),
  c("hasOwnProperty == 'yes'", { hasOwnProperty: 'yes' }, true),
  c("é == 'accent'", { é: 'accent' }, true),
  c("_private == 'x'", { _private: 'x' }, true),
  c("a == 'x'", null, false),
  c("a == 'x'", ['x'], false),
  c("a == 'x'", 'a', false),
  // NULL: a missing key or JSON null makes every comparison false, != and NOT IN included.
  c("missing == 'x'", WORKER, false),
  c("missing != 'x'", WORKER, false),
  c('missing > 1', WORKER, false),
  c('missing <= 1', WORKER, false),
  c("missing IN ['x']", WORKER, false),
  c("missing NOT IN ['x']", WORKER, false),
  c("missing HAS 'x'", WORKER, false),
  c("missing CONTAINS 'x'", WORKER, false),
  c("nothing != 'x'", WORKER, false),
  c("nothing NOT IN ['x']", WORKER, false),
  c("'x' NOT IN missing", WORKER, false),
  c('missing == missing', WORKER, false),
  c('missing != other', WORKER, false),
  // Numbers and strings meet only when the string is written as a number.
  c("level == '3'", WORKER, true),
  c("'3' == level", WORKER, true),
  c("level != '3'", WORKER, false),
  c("level == 'three'", WORKER, false),
  c("level != 'three'", WORKER, true),
  c('score == 8', WORKER, true),
  c("score == '8'", WORKER, false),
  c('score < 10', WORKER, true),
  c("score < '7'", WORKER, true), // two strings: by characters, not by number
  c('level IN ["1", "3"]', WORKER, true),
  c('score IN [8, 9]', WORKER, true),
  c('score IN [1, 2, "8"]', WORKER, false),
  c("zip CONTAINS '941'", WORKER, true),
  c('zip CONTAINS 94', WORKER, true),
  c("'abc' < 'abd'", {}, true),
  c("'B' < 'a'", {}, true),
  c("'10' < '9'", {}, true),
  c('vip > false', WORKER, false),
  c("vip == 'true'", WORKER, false),
  c('vip == 1', WORKER, false),
  c('skill_rating >= 6', WORKER, true),
  c('skill_rating > 6', WORKER, false),
  c('skill_rating <= 6', WORKER, true),
  c('skill_rating < 6', WORKER, false),
  c('skill_rating > level', WORKER, true),
  c('level >= skill_rating', WORKER, false),
  c('5 < skill_rating', WORKER, true),
  // Strings compare case-sensitively.
  c("language == 'EN'", WORKER, false),
  c("language != 'EN'", WORKER, true),
  c("skills HAS 'Support'", WORKER, false),
  c("tags CONTAINS 'Remote'", WORKER, false),
  // Arrays: scalar operators never match one; IN and HAS mean "the two sides share a value".
  c("skills == 'support'", WORKER, false),
  c("skills != 'support'", WORKER, false),
  c('skills > 1', WORKER, false),
  c("location == 'Lisbon'", WORKER, false),
  c("'support' IN skills", WORKER, true),
  c("'billing' IN skills", WORKER, false),
  c("skills IN ['billing', 'sales']", WORKER, true),
  c("skills IN ['billing', 'legal']", WORKER, false),
  c("skills NOT IN ['billing', 'legal']", WORKER, true),
  c("skills NOT IN ['billing', 'sales']", WORKER, false),
  c("skills HAS ['billing', 'sales']", WORKER, true),
  c("['a', 'support'] IN skills", WORKER, true),
  c("language IN 'en'", WORKER, true),
  c("language HAS 'en'", WORKER, true),
  c("'en' HAS language", WORKER, true),
  c('languages IN skills', WORKER, false),
  c('languages NOT IN skills', WORKER, true),
  c('skills HAS skills[1]', WORKER, true),
  c("empty HAS 'x'", WORKER, false),
  c("empty NOT IN ['x']", WORKER, true),
  c('language IN []', WORKER, false),
  c('language NOT IN []', WORKER, true),
  c("location.zones HAS 'west'", WORKER, false),
  c('nested HAS 1', { nested: [[1], 2] }, false),
  c('nested HAS 2', { nested: [[1], 2] }, true),
  c('flags HAS true', { flags: [false, true] }, true),
  c('flags IN [false]', { flags: [true] }, false),
  // CONTAINS: substring of a string, or of an element of an array.
  c("tags CONTAINS 'senior'", WORKER, true),
  c("tags CONTAINS 'junior'", WORKER, false),
  c("skills CONTAINS 'sup'", WORKER, true),
  c("skills CONTAINS 'xyz'", WORKER, false),
  c("tags CONTAINS ''", WORKER, true),
  c("tags CONTAINS ['junior', 'remote']", WORKER, true),
  c("phone CONTAINS '+351'", WORKER, true),
  c("location CONTAINS 'Lisbon'", WORKER, false),
  c('vip CONTAINS true', WORKER, false),
  c('tags CONTAINS language', { tags: 'en,fr', language: 'fr' }, true),
  // Fields sit beside the attributes and win over an attribute of the same name.
  c("friendly_name == 'Alice'", { friendly_name: 'Mallory' }, true, { fields: { friendly_name: 'Alice' } }),
  c("friendly_name == 'Mallory'", { friendly_name: 'Mallory' }, true, { fields: { sid: 'WK1' } }),
  c("sid == 'WK1' AND skills HAS 'sales'", WORKER, true, { fields: { sid: 'WK1' } }),
  c("worker.sid == 'WK1'", {}, true, { fields: { sid: 'WK1' } }),
  c("constructor == 'x'", {}, false, { fields: {} }),
  // Precedence: AND binds tighter than OR; parentheses override it.
  c("language == 'fr' AND level == 3 OR vip == true", WORKER, true),
  c("language == 'fr' AND (level == 3 OR vip == true)", WORKER, false),
  c("vip == true OR language == 'fr' AND level == 9", WORKER, true),
  c("(vip == true OR language == 'fr') AND level == 9", WORKER, false),
  c('((((level == 3))))', WORKER, true),
  // A prefix only names a document when more of the path follows.
  c("worker == 'x'", { worker: 'x' }, true),
  c("task.type == 'x'", { task: { type: 'x' } }, true),
  c("task.type == 'x'", { type: 'x' }, false),
];

function evaluate(k: Case): boolean {
  const compiled = compileExpression(k.expression, {
    parameter: 'TargetWorkers',
    scope: k.scope ?? WORKER_SCOPE,
  });
  return compiled.test(k.attributes, k.fields, k.other, k.otherFields);
}

describe('expression corpus', () => {
  it('has at least 100 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100);
  });

  it.each(CASES.map((k) => [k.expression.replace(/\s+/g, ' '), k] as const))('%s', (_name, k) => {
    expect(evaluate(k)).toBe(k.expected);
  });
});

const ERRORS: [string, string][] = [
  ['', 'at 1: expected a condition'],
  ['   ', 'at 4: expected a condition'],
  ['skills HAS', "at 11: expected a value after 'HAS'"],
  ["skills HAS 'support' AND languages ==", "at 38: expected a value after '=='"],
  [
    'skills',
    "at 7: expected a comparison operator (==, !=, >, >=, <, <=, IN, NOT IN, HAS, CONTAINS) after 'skills'",
  ],
  [
    'skills support',
    "at 8: expected a comparison operator (==, !=, >, >=, <, <=, IN, NOT IN, HAS, CONTAINS) after 'skills', found 'support'",
  ],
  ['AND a == 1', "at 1: expected a condition, found 'AND'"],
  ['a == 1 AND', "at 11: expected a condition after 'AND'"],
  ['a == 1 OR OR b == 2', "at 11: expected a condition after 'OR', found 'OR'"],
  ['a == 1 b == 2', "at 8: expected AND, OR or the end of the expression after '1', found 'b'"],
  ['(a == 1', "at 8: expected AND, OR or ')' after '1'"],
  ['a == 1)', "at 7: expected AND, OR or the end of the expression after '1', found ')'"],
  ['()', "at 2: expected a condition after '(', found ')'"],
  ['a NOT b', "at 7: expected IN after 'NOT', found 'b'"],
  ['a NOT', "at 6: expected IN after 'NOT'"],
  ["a == 'abc", "at 6: unterminated string (no closing ')"],
  ['a == "abc', 'at 6: unterminated string (no closing ")'],
  ["a == 'a\\qb'", "at 8: unknown escape '\\q' in a string"],
  ['first-name == 1', 'at 6: hyphens are not supported in TaskRouter expressions'],
  ["a == 'x' AND -b == 1", 'at 14: hyphens are not supported in TaskRouter expressions'],
  ['a == 1abc', "at 6: malformed number '1a'"],
  ['a == 1.', "at 6: malformed number '1.'"],
  ['a == 1e999', "at 6: number '1e999' is out of range"],
  ['a. == 1', "at 3: expected a key name after '.'"],
  ['a[x] == 1', "at 2: expected an array index such as '[0]'"],
  ['a[-1] == 1', "at 2: expected an array index such as '[0]'"],
  ['a[99999999] == 1', 'at 3: array index 99999999 is too large'],
  ["a == ['x']", "at 6: an array can only be compared with IN, NOT IN, HAS or CONTAINS, not '=='"],
  ["['x'] > a", "at 1: an array can only be compared with IN, NOT IN, HAS or CONTAINS, not '>'"],
  ["a IN ['x',]", "at 11: expected a string, number, true or false in the array after ',', found ']'"],
  ["a IN ['x' 'y']", "at 11: expected ',' or ']' in the array after ''x'', found ''y''"],
  ["a IN ['x', b]", "at 12: expected a string, number, true or false in the array after ',', found 'b'"],
  ['a IN [[1]]', "at 7: expected a string, number, true or false in the array after '[', found '['"],
  ["a IN ['x'", "at 10: expected ',' or ']' in the array after ''x''"],
  ['a ! b', "at 3: '!' is not an operator; use '!=' or NOT IN"],
  ['a == 1 && b == 2', "at 8: '&' is not an operator; use AND"],
  ['a == 1 || b == 2', "at 8: '|' is not an operator; use OR"],
  ['a == 1 # comment', "at 8: unexpected character '#'"],
  ['a === 1', "at 5: expected a value after '==', found '='"],
  ['a => 1', "at 4: expected a value after '=', found '>'"],
  ['a == b == c', "at 8: expected AND, OR or the end of the expression after 'b', found '=='"],
  ['in == 1', "at 1: expected a condition, found 'in'"],
  ['a == and', "at 6: expected a value after '==', found 'and'"],
  [
    'true',
    "at 5: expected a comparison operator (==, !=, >, >=, <, <=, IN, NOT IN, HAS, CONTAINS) after 'true'",
  ],
  [
    '(((((((((((((((((((((((((((((((((a == 1)))))))))))))))))))))))))))))))))',
    'at 33: too many nested parentheses (at most 32)',
  ],
  ['a == "' + 'x'.repeat(16_400) + '"', 'at 16385: the expression is longer than 16384 characters'],
];

describe('malformed expressions', () => {
  it.each(ERRORS)('%j → %s', (expression, where) => {
    let thrown: unknown;
    try {
      compileExpression(expression, { parameter: 'TargetWorkers', scope: WORKER_SCOPE });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidParameterError);
    expect((thrown as InvalidParameterError).parameter).toBe('TargetWorkers');
    expect((thrown as InvalidParameterError).message).toBe(`Invalid TargetWorkers expression ${where}`);
  });

  it('names the expression with the label and reports against the parameter', () => {
    const compile = () =>
      compileExpression('type ==', {
        parameter: 'Configuration',
        label: 'task_routing.filters[1].expression',
        scope: TASK_SCOPE,
      });
    expect(compile).toThrow(
      new InvalidParameterError(
        'Configuration',
        "Invalid task_routing.filters[1].expression at 8: expected a value after '=='",
      ),
    );
    try {
      compile();
    } catch (error) {
      expect((error as InvalidParameterError).parameter).toBe('Configuration');
    }
  });

  it('accepts 32 levels of parentheses', () => {
    const expression = '('.repeat(32) + 'a == 1' + ')'.repeat(32);
    expect(
      compileExpression(expression, { parameter: 'TargetWorkers', scope: WORKER_SCOPE }).test({ a: 1 }),
    ).toBe(true);
  });
});
