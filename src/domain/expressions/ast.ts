/**
 * The syntax tree of a TaskRouter expression. Every node carries its place in the source
 * (`start` inclusive, `end` exclusive, 0-based UTF-16 offsets) so that later checks can point
 * at it; messages show positions 1-based.
 */

/** A step into a JSON document: an object key (`location.city`) or an array index (`skills[0]`). */
export type KeySegment = string | number;

export type Scalar = string | number | boolean;

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A JSON key path exactly as written, prefix (`worker.`, `task.`) included. */
export interface KeyNode extends Span {
  readonly kind: 'key';
  readonly path: readonly KeySegment[];
}

export interface ConstantNode extends Span {
  readonly kind: 'constant';
  readonly value: Scalar;
}

/** A JSON-style array of constants: `["en", "es"]`. */
export interface ArrayNode extends Span {
  readonly kind: 'array';
  readonly items: readonly ConstantNode[];
}

export type Operand = KeyNode | ConstantNode | ArrayNode;

export const SCALAR_OPERATORS = ['==', '!=', '>', '>=', '<', '<='] as const;
export const ARRAY_OPERATORS = ['IN', 'NOT IN', 'HAS', 'CONTAINS'] as const;
export type ScalarOperator = (typeof SCALAR_OPERATORS)[number];
export type ArrayOperator = (typeof ARRAY_OPERATORS)[number];
export type ComparisonOperator = ScalarOperator | ArrayOperator;

export interface ComparisonNode extends Span {
  readonly kind: 'comparison';
  readonly operator: ComparisonOperator;
  readonly left: Operand;
  readonly right: Operand;
}

/**
 * `AND` / `OR` over two or more operands. The parser flattens `a AND (b AND c)` into one node,
 * so an operand is never a node of the same kind: that keeps print → parse an identity.
 */
export interface LogicalNode extends Span {
  readonly kind: 'and' | 'or';
  readonly operands: readonly ExpressionNode[];
}

export type ExpressionNode = ComparisonNode | LogicalNode;

export function isScalarOperator(operator: ComparisonOperator): operator is ScalarOperator {
  return (SCALAR_OPERATORS as readonly string[]).includes(operator);
}
