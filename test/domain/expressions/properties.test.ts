import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../../src/domain/errors.js';
import {
  ARRAY_OPERATORS,
  SCALAR_OPERATORS,
  type ComparisonOperator,
  type ConstantNode,
  type ExpressionNode,
  type KeySegment,
  type Operand,
  type Scalar,
} from '../../../src/domain/expressions/ast.js';
import { resolveKey } from '../../../src/domain/expressions/compiler.js';
import {
  compileExpression,
  parseExpression,
  printExpression,
  TARGET_SCOPE,
  WORKER_SCOPE,
  type ExpressionScope,
  type Fields,
} from '../../../src/domain/expressions/index.js';
import {
  compareValues,
  containsText,
  shareNoValue,
  shareValue,
  valuesDiffer,
  valuesEqual,
} from '../../../src/domain/expressions/values.js';

const OPTIONS = { parameter: 'TargetWorkers', scope: WORKER_SCOPE };
const compile = (source: string, scope: ExpressionScope = WORKER_SCOPE) =>
  compileExpression(source, { parameter: 'TargetWorkers', scope });

// Trees compared without positions (generated ones have zeros).
const bare = (node: ExpressionNode): unknown =>
  JSON.parse(
    JSON.stringify(node, (key, value: unknown) => (key === 'start' || key === 'end' ? undefined : value)),
  );
const at = <T extends object>(node: T) => ({ ...node, start: 0, end: 0 });

const KEYWORDS = new Set(['and', 'or', 'in', 'not', 'has', 'contains', 'true', 'false']);
const name = fc
  .stringMatching(/^[A-Za-z_é][A-Za-z0-9_é]{0,6}$/)
  .filter((n) => !KEYWORDS.has(n.toLowerCase()));
const laterName = fc.stringMatching(/^[A-Za-z0-9_é]{1,6}$/);
const path = fc
  .tuple(name, fc.array(fc.oneof(laterName, fc.nat(20)), { maxLength: 3 }))
  .map(([first, rest]): KeySegment[] => [first, ...rest]);
const scalar: fc.Arbitrary<Scalar> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
  fc.boolean(),
);
const constant = scalar.map((value): ConstantNode => at({ kind: 'constant', value }));
const keyOperand = path.map((p): Operand => at({ kind: 'key', path: p }));
const arrayOperand = fc
  .array(constant, { maxLength: 4 })
  .map((items): Operand => at({ kind: 'array', items }));
const scalarOperand = fc.oneof(keyOperand, constant);
const anyOperand = fc.oneof(keyOperand, constant, arrayOperand);

const comparison: fc.Arbitrary<ExpressionNode> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...SCALAR_OPERATORS), scalarOperand, scalarOperand)
    .map(([operator, left, right]) => at({ kind: 'comparison' as const, operator, left, right })),
  fc
    .tuple(fc.constantFrom(...ARRAY_OPERATORS), anyOperand, anyOperand)
    .map(([operator, left, right]) => at({ kind: 'comparison' as const, operator, left, right })),
);

// AND/OR nodes never hold a node of their own kind: the parser flattens those.
const { tree } = fc.letrec<{ tree: ExpressionNode; and: ExpressionNode; or: ExpressionNode }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, comparison, tie('and'), tie('or')),
  and: fc
    .array(fc.oneof({ depthSize: 'small' }, comparison, tie('or')), { minLength: 2, maxLength: 4 })
    .map((operands) => at({ kind: 'and' as const, operands })),
  or: fc
    .array(fc.oneof({ depthSize: 'small' }, comparison, tie('and')), { minLength: 2, maxLength: 4 })
    .map((operands) => at({ kind: 'or' as const, operands })),
}));

// Documents over a few keys, with every shape a value can take.
const json = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.constantFrom(null, undefined, '5', '05', 5, 'en', 'support') },
  {
    weight: 2,
    arbitrary: fc.array(fc.oneof(scalar, fc.constantFrom('5', 5, 'en', 'support')), { maxLength: 4 }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const KEYS = ['a', 'b', 'skills', 'level'];
const document = fc.record({ a: json, b: json, skills: json, level: json, nested: fc.record({ a: json }) });
const fixedKey = fc.constantFrom<KeySegment[]>(
  ['a'],
  ['b'],
  ['skills'],
  ['level'],
  ['nested', 'a'],
  ['a', 0],
);
const fixedOperand = fc.oneof(
  fixedKey.map((p): Operand => at({ kind: 'key', path: p })),
  constant,
  fc.constantFrom('5', 5, 'en', 'support').map((value): Operand => at({ kind: 'constant', value })),
);
const fixedComparison = fc
  .tuple(
    fc.constantFrom<ComparisonOperator>(...SCALAR_OPERATORS, ...ARRAY_OPERATORS),
    fixedOperand,
    fixedOperand,
    arrayOperand,
  )
  .map(([operator, left, right, array]): ExpressionNode => {
    const useArray = (ARRAY_OPERATORS as readonly string[]).includes(operator) && right.kind === 'constant';
    return at({ kind: 'comparison', operator, left, right: useArray ? array : right });
  });
const { fixedTree } = fc.letrec<{ fixedTree: ExpressionNode }>((tie) => ({
  fixedTree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fixedComparison,
    fc
      .tuple(
        fc.constantFrom('and' as const, 'or' as const),
        fc.array(tie('fixedTree'), { minLength: 2, maxLength: 3 }),
      )
      .map(([kind, operands]) =>
        at({ kind, operands: operands.flatMap((o) => (o.kind === kind ? o.operands : [o])) }),
      ),
  ),
}));

/** The semantics written plainly, to check the compiler's specialised closures and folding against. */
function reference(
  node: ExpressionNode,
  w: unknown,
  wf?: Fields,
  t?: unknown,
  tf?: Fields,
  scope = WORKER_SCOPE,
): boolean {
  if (node.kind !== 'comparison') {
    const each = (o: ExpressionNode) => reference(o, w, wf, t, tf, scope);
    return node.kind === 'and' ? node.operands.every(each) : node.operands.some(each);
  }
  const value = (operand: Operand): unknown => {
    if (operand.kind === 'constant') return operand.value;
    if (operand.kind === 'array') return operand.items.map((i) => i.value);
    const key = resolveKey(operand.path, scope);
    const secondary = key.document !== scope.primary;
    const [first, ...rest] = key.path as [string, ...KeySegment[]];
    const fields = secondary ? tf : wf;
    let v: unknown =
      fields !== undefined && Object.hasOwn(fields, first) && fields[first] !== undefined
        ? fields[first]
        : readStep(secondary ? t : w, first);
    for (const segment of rest) v = readStep(v, segment);
    return v;
  };
  const a = value(node.left);
  const b = value(node.right);
  const order = compareValues(a, b);
  switch (node.operator) {
    case '==':
      return valuesEqual(a, b);
    case '!=':
      return valuesDiffer(a, b);
    case '>':
      return order !== undefined && order > 0;
    case '>=':
      return order !== undefined && order >= 0;
    case '<':
      return order !== undefined && order < 0;
    case '<=':
      return order !== undefined && order <= 0;
    case 'IN':
      return shareValue(a, b);
    case 'NOT IN':
      return shareNoValue(a, b);
    case 'HAS':
      return shareValue(b, a);
    case 'CONTAINS':
      return containsText(a, b);
  }
}

function readStep(value: unknown, segment: KeySegment): unknown {
  if (typeof segment === 'number') return Array.isArray(value) ? (value[segment] as unknown) : undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
}

describe('print → parse', () => {
  it('gives back the same tree for random trees', () => {
    fc.assert(
      fc.property(tree, (node) => {
        const text = printExpression(node);
        const parsed = parseExpression(text, OPTIONS);
        expect(bare(parsed)).toEqual(bare(node));
        expect(printExpression(parsed)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps positions that point at each node in the source', () => {
    fc.assert(
      fc.property(tree, (node) => {
        const text = printExpression(node);
        const visit = (n: ExpressionNode): void => {
          if (n.kind !== 'comparison') return n.operands.forEach(visit);
          expect(printExpression(parseExpression(text.slice(n.start, n.end), OPTIONS))).toBe(
            printExpression(n),
          );
        };
        visit(parseExpression(text, OPTIONS));
      }),
      { numRuns: 300 },
    );
  });

  it('is a fixed point of print ∘ parse for any expression that parses', () => {
    fc.assert(
      fc.property(tree, fc.array(fc.constantFrom(' ', '\n', '\t'), { maxLength: 2 }), (node, pad) => {
        // Lower-case keywords, `=`, single quotes and extra spaces all print canonically.
        const sloppy = printExpression(node)
          .replace(/ AND /g, ` and${pad.join('')} `)
          .replace(/ OR /g, ' Or ')
          .replace(/ NOT IN /g, ' not  in ');
        const once = printExpression(parseExpression(sloppy, OPTIONS));
        expect(printExpression(parseExpression(once, OPTIONS))).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('invariants of evaluation', () => {
  it('the compiled predicate agrees with the plain semantics', () => {
    fc.assert(
      fc.property(fixedTree, document, (node, doc) => {
        expect(compile(printExpression(node)).test(doc)).toBe(reference(node, doc));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with the plain semantics across a worker, a task and fields', () => {
    const prefixed = fixedTree.map((node) => {
      let i = 0;
      // Alternate the keys between the worker and the task.
      return JSON.parse(
        JSON.stringify(node, (key, value: unknown) =>
          key === 'path' && Array.isArray(value)
            ? [i++ % 2 ? 'task' : 'worker', ...(value as KeySegment[])]
            : value,
        ),
      ) as ExpressionNode;
    });
    const fields = fc.option(fc.record({ a: json, level: json }, { requiredKeys: [] }), { nil: undefined });
    fc.assert(
      fc.property(prefixed, document, fields, document, fields, (node, w, wf, t, tf) => {
        const compiled = compile(printExpression(node), TARGET_SCOPE);
        expect(compiled.test(w, wf, t, tf)).toBe(reference(node, w, wf, t, tf, TARGET_SCOPE));
      }),
      { numRuns: 2000 },
    );
  });

  it('NOT IN is the negation of IN wherever both sides are defined', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KEYS), arrayOperand, document, (key, array, doc) => {
        fc.pre(doc[key as keyof typeof doc] != null);
        const list = printOperandText(array);
        const inList = compile(`${key} IN ${list}`).test(doc);
        expect(compile(`${key} NOT IN ${list}`).test(doc)).toBe(!inList);
        // The same through the key-against-key path of the compiler.
        const other = { ...doc, other: array.kind === 'array' ? array.items.map((i) => i.value) : [] };
        expect(compile(`${key} NOT IN other`).test(other)).toBe(!compile(`${key} IN other`).test(other));
      }),
      { numRuns: 2000 },
    );
  });

  it('NOT IN and IN are both false when a side is NULL', () => {
    fc.assert(
      fc.property(arrayOperand, fc.constantFrom(null, undefined), (array, missing) => {
        const list = array.kind === 'array' ? JSON.stringify(array.items.map((i) => i.value)) : '[]';
        expect(compile(`a IN ${list}`).test({ a: missing })).toBe(false);
        expect(compile(`a NOT IN ${list}`).test({ a: missing })).toBe(false);
      }),
    );
  });

  it('AND and OR are commutative and agree with && and || on their operands', () => {
    fc.assert(
      fc.property(fixedTree, fixedTree, document, (x, y, doc) => {
        const [p, q] = [printExpression(x), printExpression(y)];
        const px = compile(p).test(doc);
        const qy = compile(q).test(doc);
        expect(compile(`(${p}) AND (${q})`).test(doc)).toBe(compile(`(${q}) AND (${p})`).test(doc));
        expect(compile(`(${p}) OR (${q})`).test(doc)).toBe(compile(`(${q}) OR (${p})`).test(doc));
        expect(compile(`(${p}) AND (${q})`).test(doc)).toBe(px && qy);
        expect(compile(`(${p}) OR (${q})`).test(doc)).toBe(px || qy);
      }),
      { numRuns: 1000 },
    );
  });

  it('a HAS b is b IN a, and mirrored comparisons agree', () => {
    const mirror: Record<string, string> = {
      '==': '==',
      '!=': '!=',
      '>': '<',
      '>=': '<=',
      '<': '>',
      '<=': '>=',
    };
    fc.assert(
      fc.property(
        fixedOperand,
        fixedOperand,
        fc.constantFrom(...SCALAR_OPERATORS),
        document,
        (l, r, op, doc) => {
          const [a, b] = [printOperandText(l), printOperandText(r)];
          expect(compile(`${a} HAS ${b}`).test(doc)).toBe(compile(`${b} IN ${a}`).test(doc));
          expect(compile(`${a} IN ${b}`).test(doc)).toBe(compile(`${b} IN ${a}`).test(doc));
          expect(compile(`${a} ${op} ${b}`).test(doc)).toBe(compile(`${b} ${mirror[op]} ${a}`).test(doc));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('== and != are complements on two defined scalars', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KEYS), scalar, document, (key, value, doc) => {
        const v = doc[key as keyof typeof doc];
        const text = printExpression(
          at({
            kind: 'comparison',
            operator: '==',
            left: at({ kind: 'key', path: [key] }),
            right: at({ kind: 'constant', value }),
          }),
        );
        const equal = compile(text).test(doc);
        const differ = compile(text.replace(' == ', ' != ')).test(doc);
        const scalarValue = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
        expect(differ).toBe(scalarValue ? !equal : false);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on any JSON document or fields', () => {
    fc.assert(
      fc.property(tree, fc.jsonValue(), fc.jsonValue(), (node, attributes, fields) => {
        const compiled = compile(printExpression(node), TARGET_SCOPE);
        const f =
          typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? fields : undefined;
        expect(typeof compiled.test(attributes, f, attributes, f)).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });

  it('reports constant expressions and the keys read', () => {
    fc.assert(
      fc.property(tree, (node) => {
        const compiled = compile(printExpression(node));
        const keys = new Set<string>();
        const visit = (n: ExpressionNode): void => {
          if (n.kind !== 'comparison') return n.operands.forEach(visit);
          for (const o of [n.left, n.right])
            if (o.kind === 'key') keys.add(resolveKey(o.path, WORKER_SCOPE).text);
        };
        visit(node);
        expect(new Set(compiled.keys.map((k) => k.text))).toEqual(keys);
        if (keys.size === 0) expect(compiled.constant).toBe(reference(node, {}));
        if (compiled.constant !== undefined) expect(compiled.test({ a: 1 })).toBe(compiled.constant);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the parser on arbitrary text', () => {
  it('either parses or throws InvalidParameterError with a position inside the text', () => {
    const alphabet = fc.constantFrom(
      ...'ab1.5[]()\'",=!<> -_\\'.split(''),
      ' AND ',
      ' OR ',
      ' IN ',
      ' NOT ',
      ' HAS ',
      ' CONTAINS ',
      'true',
      '==',
      '!=',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.array(alphabet, { maxLength: 30 }).map((p) => p.join('')),
        ),
        (text) => {
          try {
            const node = parseExpression(text, OPTIONS);
            expect(parseExpression(printExpression(node), OPTIONS)).toBeDefined();
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidParameterError);
            const match = /^Invalid TargetWorkers expression at (\d+): \S/.exec((error as Error).message);
            expect(match).not.toBeNull();
            const position = Number(match![1]);
            expect(position).toBeGreaterThanOrEqual(1);
            expect(position).toBeLessThanOrEqual(text.length + 1);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

function printOperandText(operand: Operand): string {
  return printExpression(at({ kind: 'comparison', operator: 'IN', left: operand, right: operand })).split(
    ' IN ',
  )[0]!;
}
