import type { KeySegment, Scalar } from './ast.js';

/** A syntax error at a 0-based offset of the source; the parser's caller names the parameter. */
export class ExpressionSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const KEYWORDS = ['AND', 'OR', 'IN', 'NOT', 'HAS', 'CONTAINS'] as const;
export type Keyword = (typeof KEYWORDS)[number];
export type SymbolOperator = '==' | '=' | '!=' | '>' | '>=' | '<' | '<=';

interface TokenBase {
  readonly start: number;
  readonly end: number;
}
export type Token = TokenBase &
  (
    | { readonly type: 'key'; readonly path: readonly KeySegment[] }
    | { readonly type: 'word'; readonly word: string } // a bare name that a caller may read as a keyword
    | { readonly type: 'constant'; readonly value: Scalar }
    | { readonly type: 'operator'; readonly operator: SymbolOperator }
    | { readonly type: 'punctuation'; readonly char: '(' | ')' | '[' | ']' | ',' }
    | { readonly type: 'end' }
  );

const WHITESPACE = /\s+/y;
const NAME_START = /[\p{L}_]/u;
const NAME = /[\p{L}\p{N}_]+/uy;
const NAME_CHAR = /[\p{L}\p{N}_]/u;
const NUMBER = /-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const INDEX = /\[(\d+)\]/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Longest array index accepted; larger ones cannot address a JSON array Roster stores. */
const MAX_INDEX = 1_000_000;

/**
 * Splits an expression into tokens on demand, so that the first error in reading order is
 * the one reported, whether it is lexical or grammatical.
 */
export class Lexer {
  private offset = 0;

  constructor(readonly source: string) {}

  next(): Token {
    const source = this.source;
    WHITESPACE.lastIndex = this.offset;
    if (WHITESPACE.test(source)) this.offset = WHITESPACE.lastIndex;
    const start = this.offset;
    if (start >= source.length) return { type: 'end', start, end: start };
    const c = source[start]!;
    switch (c) {
      case '(':
      case ')':
      case '[':
      case ']':
      case ',':
        this.offset++;
        return { type: 'punctuation', char: c, start, end: start + 1 };
      case '"':
      case "'":
        return this.string(c);
      case '=':
        return this.operator(source[start + 1] === '=' ? '==' : '=');
      case '!':
        if (source[start + 1] === '=') return this.operator('!=');
        throw new ExpressionSyntaxError(start, "'!' is not an operator; use '!=' or NOT IN");
      case '>':
        return this.operator(source[start + 1] === '=' ? '>=' : '>');
      case '<':
        return this.operator(source[start + 1] === '=' ? '<=' : '<');
      case '&':
        throw new ExpressionSyntaxError(start, `'${c}' is not an operator; use AND`);
      case '|':
        throw new ExpressionSyntaxError(start, `'${c}' is not an operator; use OR`);
    }
    if (c === '-' || c === '.' || (c >= '0' && c <= '9')) return this.number();
    if (NAME_START.test(c)) return this.key();
    throw new ExpressionSyntaxError(start, `unexpected character '${c}'`);
  }

  private operator(operator: SymbolOperator): Token {
    const start = this.offset;
    this.offset += operator.length;
    return { type: 'operator', operator, start, end: this.offset };
  }

  private string(quote: string): Token {
    const source = this.source;
    const start = this.offset;
    let value = '';
    let chunk = start + 1; // start of the text not yet copied into value
    for (let i = chunk; i < source.length; i++) {
      const c = source[i];
      if (c === quote) {
        this.offset = i + 1;
        return { type: 'constant', value: value + source.slice(chunk, i), start, end: this.offset };
      }
      if (c !== '\\') continue;
      value += source.slice(chunk, i);
      const e = source[i + 1] ?? '';
      const simple = ESCAPES[e];
      if (simple !== undefined) {
        value += simple;
        i += 1;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
        i += 5;
      } else {
        throw new ExpressionSyntaxError(i, `unknown escape '\\${e}' in a string`);
      }
      chunk = i + 1;
    }
    throw new ExpressionSyntaxError(start, `unterminated string (no closing ${quote})`);
  }

  private number(): Token {
    const source = this.source;
    const start = this.offset;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(source);
    if (!match) {
      if (source[start] === '-') {
        throw new ExpressionSyntaxError(start, 'hyphens are not supported in TaskRouter expressions');
      }
      throw new ExpressionSyntaxError(start, `unexpected character '${source[start]}'`);
    }
    const end = start + match[0].length;
    const after = source[end];
    if (after !== undefined && (after === '.' || NAME_CHAR.test(after))) {
      throw new ExpressionSyntaxError(start, `malformed number '${source.slice(start, end + 1)}'`);
    }
    const value = Number(match[0]);
    if (!Number.isFinite(value))
      throw new ExpressionSyntaxError(start, `number '${match[0]}' is out of range`);
    this.offset = end;
    // -0 reads as 0, so that printing it back gives the same tree.
    return { type: 'constant', value: value === 0 ? 0 : value, start, end };
  }

  private key(): Token {
    const source = this.source;
    const start = this.offset;
    const path: KeySegment[] = [this.name()];
    for (;;) {
      const c = source[this.offset];
      if (c === '.') {
        this.offset++;
        if (!NAME_CHAR.test(source[this.offset] ?? '')) {
          throw new ExpressionSyntaxError(this.offset, `expected a key name after '.'`);
        }
        path.push(this.name());
      } else if (c === '[') {
        INDEX.lastIndex = this.offset;
        const match = INDEX.exec(source);
        if (!match) throw new ExpressionSyntaxError(this.offset, "expected an array index such as '[0]'");
        const index = Number(match[1]);
        if (index > MAX_INDEX)
          throw new ExpressionSyntaxError(this.offset + 1, `array index ${match[1]} is too large`);
        path.push(index);
        this.offset = INDEX.lastIndex;
      } else if (c === '-') {
        throw new ExpressionSyntaxError(this.offset, 'hyphens are not supported in TaskRouter expressions');
      } else {
        break;
      }
    }
    const end = this.offset;
    const only = path[0] as string;
    if (path.length === 1) {
      const upper = only.toUpperCase();
      if (upper === 'TRUE' || upper === 'FALSE')
        return { type: 'constant', value: upper === 'TRUE', start, end };
      return { type: 'word', word: only, start, end };
    }
    return { type: 'key', path, start, end };
  }

  private name(): string {
    NAME.lastIndex = this.offset;
    const match = NAME.exec(this.source)!;
    this.offset = NAME.lastIndex;
    return match[0];
  }
}
