import type { ExpressionNode, KeySegment, Operand, Scalar } from './ast.js';

/**
 * The canonical text of a tree: keywords in capitals, `==` for `=`, strings in double quotes
 * with JSON escapes, numbers in JavaScript's shortest form, and parentheses only where OR sits
 * inside AND. Parsing the result gives the same tree (positions aside).
 */
export function printExpression(node: ExpressionNode): string {
  switch (node.kind) {
    case 'comparison':
      return `${printOperand(node.left)} ${node.operator} ${printOperand(node.right)}`;
    case 'and':
      return node.operands
        .map((o) => (o.kind === 'or' ? `(${printExpression(o)})` : printExpression(o)))
        .join(' AND ');
    case 'or':
      return node.operands.map(printExpression).join(' OR ');
  }
}

export function printOperand(operand: Operand): string {
  switch (operand.kind) {
    case 'key':
      return printKeyPath(operand.path);
    case 'constant':
      return printScalar(operand.value);
    case 'array':
      return `[${operand.items.map((item) => printScalar(item.value)).join(', ')}]`;
  }
}

export function printKeyPath(path: readonly KeySegment[]): string {
  let text = '';
  for (const segment of path)
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  return text;
}

export function printScalar(value: Scalar): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
