import type { KeyNode } from './ast.js';
import {
  compileKeyRead,
  resolveKey,
  type ExpressionKey,
  type ExpressionScope,
  type Fields,
} from './compiler.js';
import { ExpressionSyntaxError, Lexer } from './lexer.js';
import { printKeyPath } from './printer.js';
import { numericValue } from './values.js';

export type OrderDirection = 'ASC' | 'DESC';

export interface OrderByClause {
  readonly key: KeyNode;
  readonly direction: OrderDirection;
}

/**
 * A workflow target's `order_by`: `worker.level DESC, worker.experience ASC`. Clauses are
 * separated by commas; the direction is ASC when left out; ASC and DESC are case-insensitive.
 */
export function parseOrderBySyntax(source: string): OrderByClause[] {
  const lexer = new Lexer(source);
  const clauses: OrderByClause[] = [];
  let token = lexer.next();
  const text = (t: { start: number; end: number }) => `'${source.slice(t.start, t.end)}'`;
  for (;;) {
    let key: KeyNode;
    if (token.type === 'key') key = { kind: 'key', path: token.path, start: token.start, end: token.end };
    else if (token.type === 'word')
      key = { kind: 'key', path: [token.word], start: token.start, end: token.end };
    else {
      const after = clauses.length > 0 ? " after ','" : '';
      const found = token.type === 'end' ? '' : `, found ${text(token)}`;
      throw new ExpressionSyntaxError(token.start, `expected a key${after}${found}`);
    }
    token = lexer.next();
    let direction: OrderDirection = 'ASC';
    if (token.type === 'word' && /^(asc|desc)$/i.test(token.word)) {
      direction = token.word.toUpperCase() as OrderDirection;
      token = lexer.next();
    }
    clauses.push({ key, direction });
    if (token.type === 'end') return clauses;
    if (token.type !== 'punctuation' || token.char !== ',') {
      throw new ExpressionSyntaxError(
        token.start,
        `expected ASC, DESC, ',' or the end, found ${text(token)}`,
      );
    }
    token = lexer.next();
  }
}

export function printOrderBy(clauses: readonly OrderByClause[]): string {
  return clauses.map((clause) => `${printKeyPath(clause.key.path)} ${clause.direction}`).join(', ');
}

/** A value to sort by: a number, or undefined for a missing or non-numeric one. */
export type SortValue = number | undefined;

export interface CompiledOrderBy {
  readonly source: string;
  readonly text: string;
  readonly clauses: readonly OrderByClause[];
  readonly keys: readonly ExpressionKey[];
  /** A worker's sort values, read once per worker: one per clause. */
  readonly read: (attributes: unknown, fields?: Fields) => SortValue[];
  /**
   * Orders two workers' sort values clause by clause. Numbers (and numeric strings) sort in
   * the clause's direction; a worker without a number sorts after every worker with one, in
   * either direction. 0 means a tie, which the caller breaks (longest idle first).
   */
  readonly compare: (a: readonly SortValue[], b: readonly SortValue[]) => number;
}

export function compileOrderByClauses(
  source: string,
  clauses: OrderByClause[],
  scope: ExpressionScope,
): CompiledOrderBy {
  const readers = clauses.map((clause) => compileKeyRead(clause.key.path, scope));
  const signs = clauses.map((clause) => (clause.direction === 'ASC' ? 1 : -1));
  return {
    source,
    text: printOrderBy(clauses),
    clauses,
    keys: clauses.map((clause) => resolveKey(clause.key.path, scope)),
    read: (attributes, fields) => readers.map((read) => sortValue(read(attributes, fields))),
    compare: (a, b) => {
      for (let i = 0; i < signs.length; i++) {
        const x = a[i];
        const y = b[i];
        if (x === y) continue;
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        return (x - y) * signs[i]! > 0 ? 1 : -1;
      }
      return 0;
    },
  };
}

function sortValue(value: unknown): SortValue {
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? numericValue(value) : undefined;
}
