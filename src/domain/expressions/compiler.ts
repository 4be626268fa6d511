import type {
  ComparisonNode,
  ComparisonOperator,
  ExpressionNode,
  KeyNode,
  KeySegment,
  Operand,
  Scalar,
} from './ast.js';
import { printKeyPath } from './printer.js';
import {
  compareValues,
  containsText,
  equalsOneOf,
  numericValue,
  shareNoValue,
  shareValue,
  valuesDiffer,
  valuesEqual,
} from './values.js';

/** Fields that sit beside a document's attributes, read before them: a worker's `sid`, `activity_name`… */
export type Fields = Readonly<Record<string, unknown>>;

/**
 * The test a compiled expression makes. `attributes` (parsed JSON) and `fields` make the primary document
 * (the worker for TargetWorkers); `otherAttributes` and `otherFields` the secondary one (the
 * task in a workflow target's worker expression). Nothing is copied or parsed per call.
 */
export type Predicate = (
  attributes: unknown,
  fields?: Fields,
  otherAttributes?: unknown,
  otherFields?: Fields,
) => boolean;

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

/** Constant lists up to this long are tested inline; longer ones through a hashed set. */
const INLINE_LIST = 8;

/**
 * Compiles a tree once into a predicate: constants folded, key paths resolved into small
 * reader functions, each comparison into a test specialised for its constant.
 *
 * The predicate is generated JavaScript (as ajv and fast-json-stringify do) because a tree
 * of closures shares its call sites between every expression and runs at a fifth of a
 * hand-written function. Nothing from the source text reaches the generated code except
 * through JSON.stringify (strings, key names) or as finite numbers, integers and booleans.
 */
export function compileTree(node: ExpressionNode, scope: ExpressionScope): CompiledTest {
  const emitter = new Emitter(scope);
  const result = emitter.test(node);
  if (typeof result === 'boolean') return { constant: result };
  return { read: emitter.build<Predicate>(result) };
}

/** A function reading one key (a known-worker reference, an order_by clause) from the documents. */
export function compileKeyRead(path: readonly KeySegment[], scope: ExpressionScope): KeyRead {
  const emitter = new Emitter(scope);
  return emitter.build<KeyRead>(emitter.key(path));
}

export type KeyRead = (
  attributes: unknown,
  fields?: Fields,
  otherAttributes?: unknown,
  otherFields?: Fields,
) => unknown;

class Emitter {
  readonly declarations: string[] = [];
  readonly values: unknown[] = [];
  private readonly keys = new Map<string, string>();
  private tests = 0;

  constructor(private readonly scope: ExpressionScope) {}

  /** The function of (w, wf, t, tf) returning `result`, with every declaration it uses. */
  build<F>(result: string): F {
    const code = `"use strict";\n${this.declarations.join('\n')}\nreturn function (w, wf, t, tf) { return ${result}; };`;
    const factory = new Function('numericValue', 'values', code) as (
      numeric: typeof numericValue,
      values: readonly unknown[],
    ) => F;
    return factory(numericValue, this.values);
  }

  /** JavaScript for a node over (w, wf, t, tf), or its value when it is known now. */
  test(node: ExpressionNode): string | boolean {
    if (node.kind === 'comparison') return this.comparison(node);
    const isAnd = node.kind === 'and';
    const parts: string[] = [];
    for (const operand of node.operands) {
      const part = this.test(operand);
      if (typeof part === 'string') parts.push(part);
      // false decides an AND, true an OR; the other value changes nothing.
      else if (part !== isAnd) return !isAnd;
    }
    if (parts.length === 0) return isAnd;
    return parts.length === 1 ? parts[0]! : `(${parts.join(isAnd ? ' && ' : ' || ')})`;
  }

  private comparison(node: ComparisonNode): string | boolean {
    const { left, right } = node;
    if (left.kind !== 'key' && right.kind !== 'key') {
      return RELATIONS[node.operator](constantOf(left), constantOf(right));
    }
    if (left.kind === 'key' && right.kind === 'key') {
      return `${this.value(RELATIONS[node.operator])}(${this.key(left.path)}, ${this.key(right.path)})`;
    }
    // One key against a constant: the key goes left, the test is specialised for the constant.
    if (left.kind === 'key') return this.valueTest(node.operator, this.key(left.path), constantOf(right));
    const mirrored = MIRRORED[node.operator];
    const key = this.key((right as KeyNode).path);
    if (mirrored !== undefined) return this.valueTest(mirrored, key, constantOf(left));
    return `${this.value(RELATIONS[node.operator])}(${this.value(constantOf(left))}, ${key})`;
  }

  private valueTest(
    operator: ComparisonOperator,
    read: string,
    constant: Scalar | readonly Scalar[],
  ): string {
    const name = `t${this.tests++}`;
    let body = '';
    let statements: string[] | undefined;
    switch (operator) {
      case '==':
        body = equalsCode(constant as Scalar, 'v');
        break;
      case '!=':
        body = `(typeof v === "string" || typeof v === "number" || typeof v === "boolean") && !(${equalsCode(constant as Scalar, 'v')})`;
        break;
      case 'IN':
      case 'HAS':
      case 'NOT IN': {
        const list = Array.isArray(constant) ? (constant as readonly Scalar[]) : [constant as Scalar];
        const member =
          list.length <= INLINE_LIST
            ? (x: string) => (list.length === 0 ? 'false' : list.map((c) => equalsCode(c, x)).join(' || '))
            : (
                (set) => (x: string) =>
                  `${set}(${x})`
              )(this.value(equalsOneOf(list)));
        const any = [
          'if (Array.isArray(v)) {',
          `  for (let i = 0; i < v.length; i++) { const e = v[i]; if (${member('e')}) return ${operator !== 'NOT IN'}; }`,
          `  return ${operator === 'NOT IN'};`,
          '}',
        ];
        statements =
          operator === 'NOT IN'
            ? ['if (v == null) return false;', ...any, `return !(${member('v')});`]
            : [...any, `return ${member('v')};`];
        break;
      }
      case '>':
      case '>=':
      case '<':
      case '<=':
        body = orderCode(operator, constant as Scalar);
        break;
      case 'CONTAINS':
        body = `${this.value(RELATIONS.CONTAINS)}(v, ${this.value(constant)})`;
        break;
    }
    statements ??= [`return ${body};`];
    this.declarations.push(
      [`function ${name}(v) {`, ...statements.map((line) => `  ${line}`), '}'].join('\n'),
    );
    return `${name}(${read})`;
  }

  /** A call reading a key, through one reader function per distinct key. */
  key(path: readonly KeySegment[]): string {
    const key = resolveKey(path, this.scope);
    const secondary = key.document !== this.scope.primary;
    const id = `${secondary ? 1 : 0}${key.text}`;
    let name = this.keys.get(id);
    if (name === undefined) {
      name = `k${this.keys.size}`;
      this.keys.set(id, name);
      const [first, ...rest] = key.path;
      const lines = [
        `function ${name}(d, f) {`,
        `  let v = f === undefined ? undefined : ${readName('f', first as string)};`,
        `  if (v === undefined) v = ${readName('d', first as string)};`,
        ...rest.map((segment) =>
          typeof segment === 'number'
            ? `  v = Array.isArray(v) ? v[${segment}] : undefined;`
            : `  v = ${readName('v', segment)};`,
        ),
        '  return v;',
        '}',
      ];
      this.declarations.push(lines.join('\n'));
    }
    return secondary ? `${name}(t, tf)` : `${name}(w, wf)`;
  }

  /** A reference to a value handed to the generated code. */
  private value(value: unknown): string {
    const name = `c${this.values.length}`;
    this.declarations.push(`const ${name} = values[${this.values.length}];`);
    this.values.push(value);
    return name;
  }
}

function constantOf(operand: Operand): Scalar | readonly Scalar[] {
  if (operand.kind === 'constant') return operand.value;
  if (operand.kind === 'array') return operand.items.map((item) => item.value);
  throw new Error('a key is not a constant');
}

/** `x` read by name: objects only, and only own properties for names objects inherit. */
function readName(x: string, name: string): string {
  const own = name in Object.prototype ? ` && Object.hasOwn(${x}, ${JSON.stringify(name)})` : '';
  return `(typeof ${x} === "object" && ${x} !== null && !Array.isArray(${x})${own} ? ${x}[${JSON.stringify(name)}] : undefined)`;
}

/** `x == constant` as JavaScript (see scalarsEqual). */
function equalsCode(constant: Scalar, x: string): string {
  if (typeof constant === 'string') {
    const n = numericValue(constant);
    const text = JSON.stringify(constant);
    return n === undefined ? `${x} === ${text}` : `(${x} === ${text} || ${x} === ${String(n)})`;
  }
  if (typeof constant === 'number') {
    const n = String(constant);
    return `(${x} === ${n} || (typeof ${x} === "string" && numericValue(${x}) === ${n}))`;
  }
  return `${x} === ${String(constant)}`;
}

/** `v <operator> constant` as JavaScript (see compareValues); undefined compares false. */
function orderCode(operator: '>' | '>=' | '<' | '<=', constant: Scalar): string {
  if (typeof constant === 'number') {
    const n = String(constant);
    return `typeof v === "number" ? v ${operator} ${n} : typeof v === "string" && numericValue(v) ${operator} ${n}`;
  }
  if (typeof constant === 'string') {
    const n = numericValue(constant);
    const asNumber = n === undefined ? 'false' : `v ${operator} ${String(n)}`;
    return `typeof v === "string" ? v ${operator} ${JSON.stringify(constant)} : typeof v === "number" && ${asNumber}`;
  }
  return 'false';
}
