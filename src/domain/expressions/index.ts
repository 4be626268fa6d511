/**
 * TaskRouter's expression language: parse → print → compile to a predicate over parsed JSON.
 * Pure; the language and every choice where Twilio is silent are in docs/expressions.md.
 */
import { InvalidParameterError } from '../errors.js';
import type { ExpressionNode } from './ast.js';
import {
  compileKeyRead,
  compileTree,
  keysOf,
  resolveKey,
  type ExpressionKey,
  type ExpressionScope,
  type KeyRead,
  type Predicate,
} from './compiler.js';
import { ExpressionSyntaxError } from './lexer.js';
import { compileOrderByClauses, parseOrderBySyntax, type CompiledOrderBy } from './order-by.js';
import { parseKeyReference, parseSyntax } from './parser.js';
import { printExpression } from './printer.js';

export type * from './ast.js';
export type { ExpressionKey, ExpressionScope, Fields, KeyRead, Predicate } from './compiler.js';
export type { CompiledOrderBy, OrderByClause, OrderDirection, SortValue } from './order-by.js';
export { MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH } from './parser.js';
export { printExpression } from './printer.js';

/** TaskQueue `TargetWorkers`, Workers `TargetWorkersExpression`: worker attributes, bare or `worker.`. */
export const WORKER_SCOPE: ExpressionScope = { primary: 'worker' };
/** Workflow filter expressions, `EvaluateTaskAttributes`: task attributes, bare or `task.`. */
export const TASK_SCOPE: ExpressionScope = { primary: 'task' };
/** A workflow target's `expression`: the worker (bare or `worker.`) against the task (`task.`). */
export const TARGET_SCOPE: ExpressionScope = { primary: 'worker', secondary: 'task' };

export interface ExpressionOptions {
  /** The request parameter an error is reported against: `TargetWorkers`, `Configuration`. */
  readonly parameter: string;
  /**
   * What the message calls it, if not "<parameter> expression" (or "… order_by", "… key"):
   * `task_routing.filters[1].expression`.
   */
  readonly label?: string;
}

export interface CompileOptions extends ExpressionOptions {
  readonly scope: ExpressionScope;
}

export interface CompiledExpression {
  /** The expression as given. */
  readonly source: string;
  /** Its canonical text (see printExpression). */
  readonly text: string;
  readonly tree: ExpressionNode;
  /** Every key it reads, prefix resolved, in order of first appearance. */
  readonly keys: readonly ExpressionKey[];
  /** Its value when no document can change it (`1 == 1` is true), else undefined. */
  readonly constant: boolean | undefined;
  readonly test: Predicate;
}

/**
 * Parses an expression into a tree with source positions. A malformed one throws
 * InvalidParameterError saying where (1-based) and what was expected there.
 */
export function parseExpression(source: string, options: ExpressionOptions): ExpressionNode {
  return withPosition(options, 'expression', () => parseSyntax(source));
}

/** Parses and compiles once; the predicate it returns never parses again. */
export function compileExpression(source: string, options: CompileOptions): CompiledExpression {
  const tree = parseExpression(source, options);
  const compiled = compileTree(tree, options.scope);
  const constant = 'constant' in compiled ? compiled.constant : undefined;
  const test: Predicate = 'read' in compiled ? compiled.read : constant ? () => true : () => false;
  return { source, text: printExpression(tree), tree, keys: keysOf(tree, options.scope), constant, test };
}

export interface CompiledKeyReference {
  readonly key: ExpressionKey;
  readonly read: KeyRead;
}

/**
 * A lone key naming a value, as a workflow target's `known_worker_sid` or
 * `known_worker_friendly_name` (`task.transferTargetSid`, read with TASK_SCOPE).
 */
export function compileKeyReference(source: string, options: CompileOptions): CompiledKeyReference {
  const key = withPosition(options, 'key', () => parseKeyReference(source));
  return { key: resolveKey(key.path, options.scope), read: compileKeyRead(key.path, options.scope) };
}

/** A workflow target's `order_by` (`worker.level DESC, worker.experience ASC`), read with WORKER_SCOPE. */
export function compileOrderBy(source: string, options: CompileOptions): CompiledOrderBy {
  const clauses = withPosition(options, 'order_by', () => parseOrderBySyntax(source));
  return compileOrderByClauses(source, clauses, options.scope);
}

function withPosition<T>(options: ExpressionOptions, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    throw new InvalidParameterError(
      options.parameter,
      `Invalid ${options.label ?? `${options.parameter} ${what}`} at ${error.offset + 1}: ${error.detail}`,
    );
  }
}
