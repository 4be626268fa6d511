import type {
  ArrayNode,
  ComparisonNode,
  ComparisonOperator,
  ConstantNode,
  ExpressionNode,
  KeyNode,
  Operand,
} from './ast.js';
import { isScalarOperator } from './ast.js';
import { ExpressionSyntaxError, KEYWORDS, Lexer, type Keyword, type Token } from './lexer.js';

/** Longest expression accepted, in characters (as long as the longest attributes document). */
export const MAX_EXPRESSION_LENGTH = 16_384;
/** Deepest nesting of parentheses accepted; it bounds the parser's and the evaluator's recursion. */
export const MAX_EXPRESSION_DEPTH = 32;

type Punctuation = '(' | ')' | '[' | ']' | ',';

/**
 * Recursive descent over the grammar
 *
 *   expression := conjunction (OR conjunction)*
 *   conjunction := primary (AND primary)*
 *   primary := '(' expression ')' | operand operator operand
 *   operand := key | string | number | true | false | '[' constants ']'
 *
 * AND binds tighter than OR, as in SQL. Keywords are case-insensitive.
 */
export function parseSyntax(source: string): ExpressionNode {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionSyntaxError(
      MAX_EXPRESSION_LENGTH,
      `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`,
    );
  }
  return new Parser(source).parseAll();
}

class Parser {
  private readonly lexer: Lexer;
  private token: Token;
  /** The last token consumed, for messages that say "after …". */
  private previous: Token | undefined;
  private depth = 0;

  constructor(private readonly source: string) {
    this.lexer = new Lexer(source);
    this.token = this.lexer.next();
  }

  parseAll(): ExpressionNode {
    const node = this.expression();
    if (this.token.type !== 'end') this.fail('AND, OR or the end of the expression');
    return node;
  }

  private expression(): ExpressionNode {
    const first = this.conjunction();
    if (!this.isKeyword('OR')) return first;
    const operands: ExpressionNode[] = [];
    flattenInto(operands, first, 'or');
    while (this.isKeyword('OR')) {
      this.advance();
      flattenInto(operands, this.conjunction(), 'or');
    }
    return { kind: 'or', operands, start: first.start, end: operands[operands.length - 1]!.end };
  }

  private conjunction(): ExpressionNode {
    const first = this.primary();
    if (!this.isKeyword('AND')) return first;
    const operands: ExpressionNode[] = [];
    flattenInto(operands, first, 'and');
    while (this.isKeyword('AND')) {
      this.advance();
      flattenInto(operands, this.primary(), 'and');
    }
    return { kind: 'and', operands, start: first.start, end: operands[operands.length - 1]!.end };
  }

  private primary(): ExpressionNode {
    if (this.isPunctuation('(')) {
      if (this.depth >= MAX_EXPRESSION_DEPTH) {
        throw new ExpressionSyntaxError(
          this.token.start,
          `too many nested parentheses (at most ${MAX_EXPRESSION_DEPTH})`,
        );
      }
      this.depth++;
      this.advance();
      const inner = this.expression();
      if (!this.isPunctuation(')')) this.fail("AND, OR or ')'");
      this.advance();
      this.depth--;
      return inner;
    }
    return this.comparison();
  }

  private comparison(): ComparisonNode {
    const left = this.operand('a condition');
    const operator = this.operator();
    const right = this.operand('a value');
    if (isScalarOperator(operator)) {
      const array = left.kind === 'array' ? left : right.kind === 'array' ? right : undefined;
      if (array) {
        throw new ExpressionSyntaxError(
          array.start,
          `an array can only be compared with IN, NOT IN, HAS or CONTAINS, not '${operator}'`,
        );
      }
    }
    return { kind: 'comparison', operator, left, right, start: left.start, end: right.end };
  }

  private operand(expected: string): Operand {
    const token = this.token;
    if (token.type === 'key') {
      this.advance();
      return { kind: 'key', path: token.path, start: token.start, end: token.end };
    }
    if (token.type === 'word' && keywordOf(token.word) === undefined) {
      this.advance();
      return { kind: 'key', path: [token.word], start: token.start, end: token.end };
    }
    if (token.type === 'constant') {
      this.advance();
      return { kind: 'constant', value: token.value, start: token.start, end: token.end };
    }
    if (this.isPunctuation('[')) return this.array();
    return this.fail(expected);
  }

  private array(): ArrayNode {
    const start = this.token.start;
    this.advance();
    const items: ConstantNode[] = [];
    if (!this.isPunctuation(']')) {
      for (;;) {
        const token = this.token;
        if (token.type !== 'constant') return this.fail('a string, number, true or false in the array');
        items.push({ kind: 'constant', value: token.value, start: token.start, end: token.end });
        this.advance();
        if (this.isPunctuation(']')) break;
        if (!this.isPunctuation(',')) return this.fail("',' or ']' in the array");
        this.advance();
      }
    }
    const end = this.token.end;
    this.advance();
    return { kind: 'array', items, start, end };
  }

  private operator(): ComparisonOperator {
    const token = this.token;
    if (token.type === 'operator') {
      this.advance();
      return token.operator === '=' ? '==' : token.operator;
    }
    const keyword = token.type === 'word' ? keywordOf(token.word) : undefined;
    if (keyword === 'IN' || keyword === 'HAS' || keyword === 'CONTAINS') {
      this.advance();
      return keyword;
    }
    if (keyword === 'NOT') {
      this.advance();
      if (!this.isKeyword('IN')) return this.fail('IN');
      this.advance();
      return 'NOT IN';
    }
    return this.fail('a comparison operator (==, !=, >, >=, <, <=, IN, NOT IN, HAS, CONTAINS)');
  }

  private advance(): void {
    this.previous = this.token;
    this.token = this.lexer.next();
  }

  private isKeyword(keyword: Keyword): boolean {
    return this.token.type === 'word' && keywordOf(this.token.word) === keyword;
  }

  private isPunctuation(char: Punctuation): boolean {
    return this.token.type === 'punctuation' && this.token.char === char;
  }

  private fail(expected: string): never {
    const token = this.token;
    const after = this.previous ? ` after ${this.quote(this.previous)}` : '';
    const found = token.type === 'end' ? '' : `, found ${this.quote(token)}`;
    throw new ExpressionSyntaxError(token.start, `expected ${expected}${after}${found}`);
  }

  private quote(token: Token): string {
    const text = this.source.slice(token.start, token.end);
    return text.length > 40 ? `'${text.slice(0, 37)}...'` : `'${text}'`;
  }
}

function keywordOf(word: string): Keyword | undefined {
  const upper = word.toUpperCase();
  return (KEYWORDS as readonly string[]).includes(upper) ? (upper as Keyword) : undefined;
}

function flattenInto(operands: ExpressionNode[], node: ExpressionNode, kind: 'and' | 'or'): void {
  if (node.kind === kind) operands.push(...node.operands);
  else operands.push(node);
}

/** A lone key, as in a target's `known_worker_sid: "task.transferTargetSid"`. */
export function parseKeyReference(source: string): KeyNode {
  const lexer = new Lexer(source);
  const token = lexer.next();
  const text = source.slice(token.start, token.end);
  let key: KeyNode | undefined;
  if (token.type === 'key') key = { kind: 'key', path: token.path, start: token.start, end: token.end };
  else if (token.type === 'word' && keywordOf(token.word) === undefined) {
    key = { kind: 'key', path: [token.word], start: token.start, end: token.end };
  }
  if (key === undefined) {
    throw new ExpressionSyntaxError(
      token.start,
      `expected a key${token.type === 'end' ? '' : `, found '${text}'`}`,
    );
  }
  const after = lexer.next();
  if (after.type !== 'end') {
    throw new ExpressionSyntaxError(
      after.start,
      `expected the end after the key '${text}', found '${source.slice(after.start, after.end)}'`,
    );
  }
  return key;
}
