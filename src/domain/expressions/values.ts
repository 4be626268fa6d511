import type { Scalar } from './ast.js';

/**
 * How two JSON values compare. NULL (a missing key, or JSON null) makes every comparison
 * false. Strings compare case-sensitively. A number meets a string only when the string
 * is written as a number ("08" == 8), because attributes often carry numbers as text and
 * Twilio's own time-of-day keys do (`taskrouter.currentHour > 8` on a string hour).
 */

const NUMERIC = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a string spells in the expression grammar, else undefined. */
export function numericValue(text: string): number | undefined {
  if (!NUMERIC.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export function isScalar(value: unknown): value is Scalar {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

export function scalarsEqual(a: Scalar, b: Scalar): boolean {
  if (a === b) return true;
  if (typeof a === 'number') return typeof b === 'string' && numericValue(b) === a;
  if (typeof b === 'number') return typeof a === 'string' && numericValue(a) === b;
  return false;
}

/** Sign of a − b for two numbers or two strings (or a number and a numeric string); undefined otherwise. */
export function compareValues(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number') {
    if (typeof b === 'number') return a - b;
    if (typeof b === 'string') {
      const n = numericValue(b);
      return n === undefined ? undefined : a - n;
    }
    return undefined;
  }
  if (typeof a === 'string') {
    if (typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
    if (typeof b === 'number') {
      const n = numericValue(a);
      return n === undefined ? undefined : n - b;
    }
  }
  return undefined;
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  return isScalar(a) && isScalar(b) && scalarsEqual(a, b);
}

export function valuesDiffer(a: unknown, b: unknown): boolean {
  return isScalar(a) && isScalar(b) && !scalarsEqual(a, b);
}

/** `a IN b` and `b HAS a`: the two sides share a value, each side being a scalar or an array of them. */
export function shareValue(a: unknown, b: unknown): boolean {
  if (a == null || b == null) return false;
  if (Array.isArray(a)) {
    for (const x of a) if (!Array.isArray(x) && shareValue(x, b)) return true;
    return false;
  }
  if (!isScalar(a)) return false;
  if (Array.isArray(b)) {
    for (const y of b) if (isScalar(y) && scalarsEqual(a, y)) return true;
    return false;
  }
  return isScalar(b) && scalarsEqual(a, b);
}

/** `a NOT IN b`: both sides are defined and share no value. */
export function shareNoValue(a: unknown, b: unknown): boolean {
  return a != null && b != null && !shareValue(a, b);
}

/** The text CONTAINS reads: strings as they are, numbers as written in JSON. */
export function textOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** `a CONTAINS b`: some text of a (or of an element of it) has some text of b as a substring. */
export function containsText(a: unknown, b: unknown): boolean {
  if (a == null || b == null) return false;
  if (Array.isArray(b)) {
    for (const y of b) if (!Array.isArray(y) && containsText(a, y)) return true;
    return false;
  }
  const needle = textOf(b);
  if (needle === undefined) return false;
  if (Array.isArray(a)) {
    for (const x of a) {
      const hay = textOf(x);
      if (hay !== undefined && hay.includes(needle)) return true;
    }
    return false;
  }
  const hay = textOf(a);
  return hay !== undefined && hay.includes(needle);
}

/** A fast test "equals this constant" for the values of a key. */
export function equalsConstant(constant: Scalar): (value: unknown) => boolean {
  if (typeof constant === 'string') {
    const n = numericValue(constant);
    if (n === undefined) return (value) => value === constant;
    return (value) => value === constant || value === n;
  }
  if (typeof constant === 'number') {
    return (value) => value === constant || (typeof value === 'string' && numericValue(value) === constant);
  }
  return (value) => value === constant;
}

/** A fast test "equals one of these constants", for `key IN [...]` and `key HAS [...]`. */
export function equalsOneOf(constants: readonly Scalar[]): (value: unknown) => boolean {
  if (constants.length === 1) return equalsConstant(constants[0]!);
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const numericStrings = new Set<number>();
  let hasTrue = false;
  let hasFalse = false;
  for (const c of constants) {
    if (typeof c === 'string') {
      strings.add(c);
      const n = numericValue(c);
      if (n !== undefined) numericStrings.add(n);
    } else if (typeof c === 'number') numbers.add(c);
    else if (c) hasTrue = true;
    else hasFalse = true;
  }
  const anyNumbers = numbers.size > 0;
  return (value) => {
    if (typeof value === 'string') {
      if (strings.has(value)) return true;
      if (!anyNumbers) return false;
      const n = numericValue(value);
      return n !== undefined && numbers.has(n);
    }
    if (typeof value === 'number') return numbers.has(value) || numericStrings.has(value);
    return value === true ? hasTrue : value === false ? hasFalse : false;
  };
}
