import type {
  ComparisonNode,
  ComparisonOperator,
  ExpressionNode,
  KeySegment,
  Operand,
  Scalar,
} from './ast.js';
import { printKeyPath } from './printer.js';
import {
  compareValues,
  containsText,
  equalsConstant,
  equalsOneOf,
  isScalar,
  shareNoValue,
  shareValue,
  valuesDiffer,
  valuesEqual,
} from './values.js';

/** Fields that sit beside a document's attributes, read before them: a worker's `sid`, `activity_name`… */
export type Fields = Readonly<Record<string, unknown>>;

/**
 * A compiled expression. `attributes` (parsed JSON) and `fields` make the primary document
 * (the worker for TargetWorkers); `otherAttributes` and `otherFields` the secondary one (the
 * task in a workflow target's worker expression). Nothing is copied or parsed per call.
 */
export type Predicate = (
  attributes: unknown,
  fields?: Fields,
  otherAttributes?: unknown,
  otherFields?: Fields,
) => boolean;

type Getter = (
  attributes: unknown,
  fields?: Fields,
  otherAttributes?: unknown,
  otherFields?: Fields,
) => unknown;

/**
 * Which documents an expression reads. Bare keys and keys under `primary.` read the primary
 * document; keys under `secondary.` the secondary one.
 */
export interface ExpressionScope {
  readonly primary: string;
  readonly secondary?: string;
}

/** A key an expression reads, resolved against its scope. */
export interface ExpressionKey {
  /** The scope's name for the document: `worker`, `task`. */
  readonly document: string;
  /** The path inside it, prefix removed: `['location', 'city']`, `['skills', 0]`. */
  readonly path: readonly KeySegment[];
  /** The path as text: `location.city`. */
  readonly text: string;
}

export function resolveKey(path: readonly KeySegment[], scope: ExpressionScope): ExpressionKey {
  const [first, second] = path;
  const prefixed = path.length > 1 && typeof second === 'string';
  let document = scope.primary;
  let inner = path;
  if (prefixed && first === scope.primary) inner = path.slice(1);
  else if (prefixed && scope.secondary !== undefined && first === scope.secondary) {
    document = scope.secondary;
    inner = path.slice(1);
  }
  return { document, path: inner, text: printKeyPath(inner) };
}

/** Every distinct key a tree reads, in order of first appearance. */
export function keysOf(node: ExpressionNode, scope: ExpressionScope): ExpressionKey[] {
  const keys = new Map<string, ExpressionKey>();
  const visit = (n: ExpressionNode): void => {
    if (n.kind !== 'comparison') return n.operands.forEach(visit);
    for (const operand of [n.left, n.right]) {
      if (operand.kind !== 'key') continue;
      const key = resolveKey(operand.path, scope);
      keys.set(`${key.document}\u0000${key.text}`, key);
    }
  };
  visit(node);
  return [...keys.values()];
}

/** Either known at compile time or a function of the documents. */
export type CompiledTest = { readonly constant: boolean } | { readonly read: Predicate };
type CompiledOperand = { readonly constant: Scalar | readonly Scalar[] } | { readonly read: Getter };

/** Compiles a tree once into a predicate: key paths resolved, constants folded, constant sets hashed. */
export function compileTree(node: ExpressionNode, scope: ExpressionScope): CompiledTest {
  if (node.kind === 'comparison') return compileComparison(node, scope);
  const isAnd = node.kind === 'and';
  const tests: Predicate[] = [];
  for (const operand of node.operands) {
    const compiled = compileTree(operand, scope);
    if ('read' in compiled) tests.push(compiled.read);
    // false decides an AND, true an OR; the other value changes nothing.
    else if (compiled.constant !== isAnd) return { constant: !isAnd };
  }
  if (tests.length === 0) return { constant: isAnd };
  if (tests.length === 1) return { read: tests[0]! };
  if (tests.length === 2) {
    const [a, b] = tests as [Predicate, Predicate];
    return {
      read: isAnd
        ? (w, wf, t, tf) => a(w, wf, t, tf) && b(w, wf, t, tf)
        : (w, wf, t, tf) => a(w, wf, t, tf) || b(w, wf, t, tf),
    };
  }
  return {
    read: isAnd
      ? (w, wf, t, tf) => {
          for (const test of tests) if (!test(w, wf, t, tf)) return false;
          return true;
        }
      : (w, wf, t, tf) => {
          for (const test of tests) if (test(w, wf, t, tf)) return true;
          return false;
        },
  };
}

const RELATIONS: Readonly<Record<ComparisonOperator, (a: unknown, b: unknown) => boolean>> = {
  '==': valuesEqual,
  '!=': valuesDiffer,
  '>': (a, b) => (compareValues(a, b) ?? Number.NaN) > 0,
  '>=': (a, b) => (compareValues(a, b) ?? Number.NaN) >= 0,
  '<': (a, b) => (compareValues(a, b) ?? Number.NaN) < 0,
  '<=': (a, b) => (compareValues(a, b) ?? Number.NaN) <= 0,
  IN: shareValue,
  'NOT IN': shareNoValue,
  HAS: (a, b) => shareValue(b, a),
  CONTAINS: containsText,
};

/** The same relation with its sides swapped: `5 < level` is `level > 5`. */
const MIRRORED: Readonly<Partial<Record<ComparisonOperator, ComparisonOperator>>> = {
  '==': '==',
  '!=': '!=',
  '>': '<',
  '>=': '<=',
  '<': '>',
  '<=': '>=',
  IN: 'HAS',
  'NOT IN': 'NOT IN',
  HAS: 'IN',
};

function compileComparison(node: ComparisonNode, scope: ExpressionScope): CompiledTest {
  const relation = RELATIONS[node.operator];
  const left = compileOperand(node.left, scope);
  const right = compileOperand(node.right, scope);
  if ('constant' in left && 'constant' in right) return { constant: relation(left.constant, right.constant) };
  if ('read' in left && 'read' in right) {
    const a = left.read;
    const b = right.read;
    return { read: (w, wf, t, tf) => relation(a(w, wf, t, tf), b(w, wf, t, tf)) };
  }
  // One key against a constant: put the key on the left and test its value with a closure
  // specialised for the constant.
  let operator = node.operator;
  let get: Getter;
  let constant: Scalar | readonly Scalar[];
  if ('read' in left && 'constant' in right) {
    get = left.read;
    constant = right.constant;
  } else if ('constant' in left && 'read' in right) {
    const mirrored = MIRRORED[operator];
    if (mirrored === undefined) {
      const value = left.constant;
      const b = right.read;
      return { read: (w, wf, t, tf) => relation(value, b(w, wf, t, tf)) };
    }
    operator = mirrored;
    get = right.read;
    constant = left.constant;
  } else {
    throw new Error('unreachable');
  }
  const test = valueTest(operator, constant);
  return { read: (w, wf, t, tf) => test(get(w, wf, t, tf)) };
}

/** `value <operator> constant` as a function of the value. */
function valueTest(
  operator: ComparisonOperator,
  constant: Scalar | readonly Scalar[],
): (value: unknown) => boolean {
  switch (operator) {
    case '==':
      return equalsConstant(constant as Scalar);
    case '!=': {
      const equals = equalsConstant(constant as Scalar);
      return (value) => isScalar(value) && !equals(value);
    }
    case 'IN':
    case 'HAS': {
      const oneOf = equalsOneOf(Array.isArray(constant) ? constant : [constant as Scalar]);
      return (value) => anyElement(value, oneOf);
    }
    case 'NOT IN': {
      const oneOf = equalsOneOf(Array.isArray(constant) ? constant : [constant as Scalar]);
      return (value) => value != null && !anyElement(value, oneOf);
    }
    case 'CONTAINS':
      return (value) => containsText(value, constant);
    default: {
      const relation = RELATIONS[operator];
      return (value) => relation(value, constant);
    }
  }
}

function anyElement(value: unknown, test: (element: unknown) => boolean): boolean {
  if (!Array.isArray(value)) return test(value);
  for (let i = 0; i < value.length; i++) if (test(value[i])) return true;
  return false;
}

function compileOperand(operand: Operand, scope: ExpressionScope): CompiledOperand {
  switch (operand.kind) {
    case 'constant':
      return { constant: operand.value };
    case 'array':
      return { constant: operand.items.map((item) => item.value) };
    case 'key': {
      const key = resolveKey(operand.path, scope);
      return { read: keyGetter(key.path, key.document !== scope.primary) };
    }
  }
}

/**
 * Reads a path: its first name from the fields if they have it, else from the attributes;
 * then name by name (objects only) and index by index (arrays only).
 */
export function keyGetter(path: readonly KeySegment[], secondary: boolean): Getter {
  const [first, ...rest] = path;
  const readFirst = nameReader(first as string);
  const steps = rest.map(stepReader);
  const root = secondary
    ? (_w: unknown, _wf?: Fields, t?: unknown, tf?: Fields) => {
        const field = tf === undefined ? undefined : readFirst(tf);
        return field !== undefined ? field : readFirst(t);
      }
    : (w: unknown, wf?: Fields) => {
        const field = wf === undefined ? undefined : readFirst(wf);
        return field !== undefined ? field : readFirst(w);
      };
  if (steps.length === 0) return root;
  if (steps.length === 1) {
    const step = steps[0]!;
    return (w, wf, t, tf) => step(root(w, wf, t, tf));
  }
  return (w, wf, t, tf) => {
    let value = root(w, wf, t, tf);
    for (const step of steps) value = step(value);
    return value;
  };
}

function stepReader(segment: KeySegment): (value: unknown) => unknown {
  if (typeof segment === 'string') return nameReader(segment);
  return (value) => (Array.isArray(value) ? (value[segment] as unknown) : undefined);
}

function nameReader(name: string): (value: unknown) => unknown {
  // Names that objects inherit (`constructor`, `__proto__`…) must be own properties to count.
  if (name in Object.prototype) {
    return (value) =>
      typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, name)
        ? (value as Record<string, unknown>)[name]
        : undefined;
  }
  return (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)[name]
      : undefined;
}
