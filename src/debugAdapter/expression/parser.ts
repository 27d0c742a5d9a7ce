// Tokenizer and recursive-descent parser for debugger expressions: C operators over
// 64-bit-and-wider integers, dotted names (rflags.ZF, $exit.AccessInfo.IsWrite), sized
// memory operands in NASM/Intel spelling (`qword [rbp-8]`, `byte phys:[0x7c00]`) and a
// trailing format suffix (`,x`). Every failure is an ExpressionError; nothing else escapes.

export class ExpressionError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (at column ${offset + 1})`);
    this.name = 'ExpressionError';
  }
}

export type Ast =
  | { kind: 'number'; value: bigint }
  | { kind: 'name'; path: string[]; offset: number }
  | { kind: 'memory'; size: number; physical: boolean; address: Ast }
  | { kind: 'unary'; op: string; operand: Ast }
  | { kind: 'binary'; op: string; left: Ast; right: Ast }
  | { kind: 'ternary'; test: Ast; then: Ast; else: Ast };

export type ValueFormat = 'x' | 'd' | 'b' | 'o' | 'c' | 's';

export interface ParsedExpression {
  ast: Ast;
  format?: ValueFormat;
}

interface Token { type: 'num' | 'name' | 'op' | 'end'; text: string; value?: bigint; offset: number }

const MEMORY_SIZES: Record<string, number> = { byte: 1, word: 2, dword: 4, qword: 8, tword: 10, oword: 16, xmmword: 16 };
const FORMATS = new Set<string>(['x', 'd', 'b', 'o', 'c', 's']);
// Longest operators first so `<<` wins over `<`.
const OPERATORS = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '&', '|', '^', '~', '!', '<', '>', '(', ')', '[', ']', '?', ':', ','];
const MAX_LENGTH = 4096;
const MAX_DEPTH = 64;

function isNameStart(c: string): boolean { return /[A-Za-z_$@]/.test(c); }
function isNameChar(c: string): boolean { return /[A-Za-z0-9_$@.]/.test(c); }

function parseNumber(text: string, offset: number): bigint {
  const v = parseDigits(text, offset);
  // Values are 64-bit: a wider literal is an error, not a silently huge value (found by test/reliability/expressionFuzz.ts).
  if (v >= 1n << 64n) throw new ExpressionError(`number '${text}' does not fit in 64 bits`, offset);
  return v;
}

function parseDigits(text: string, offset: number): bigint {
  let t = text.replace(/_/g, '');
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(t) || /^0[bB][01]+$/.test(t) || /^0[oO][0-7]+$/.test(t)) return BigInt(t.toLowerCase());
    if (/^[0-9][0-9a-fA-F]*[hH]$/.test(t)) return BigInt('0x' + t.slice(0, -1)); // NASM 3F8h
    if (/^[0-9]+$/.test(t)) return BigInt(t);
  } catch { /* fall through */ }
  t = text;
  throw new ExpressionError(`bad number '${t}'`, offset);
}

export function tokenize(source: string): Token[] {
  if (source.length > MAX_LENGTH) throw new ExpressionError(`expression longer than ${MAX_LENGTH} characters`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) { i++; continue; }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < source.length && /[0-9A-Za-z_]/.test(source[j])) j++;
      const text = source.slice(i, j);
      tokens.push({ type: 'num', text, value: parseNumber(text, i), offset: i });
      i = j;
      continue;
    }
    if (c === "'") {
      const end = source.indexOf("'", i + 1);
      if (end < 0 || end - i - 1 < 1 || end - i - 1 > 8) throw new ExpressionError('bad character literal', i);
      let v = 0n;
      // Little-endian like NASM: 'AB' is 0x4241.
      for (let k = end - 1; k > i; k--) v = (v << 8n) | BigInt(source.charCodeAt(k) & 0xff);
      tokens.push({ type: 'num', text: source.slice(i, end + 1), value: v, offset: i });
      i = end + 1;
      continue;
    }
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < source.length && isNameChar(source[j])) j++;
      const text = source.slice(i, j);
      if (text.endsWith('.') || text.includes('..')) throw new ExpressionError(`bad name '${text}'`, i);
      tokens.push({ type: 'name', text, offset: i });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character '${c}'`, i);
    tokens.push({ type: 'op', text: op, offset: i });
    i += op.length;
  }
  tokens.push({ type: 'end', text: '', offset: source.length });
  return tokens;
}

// Binary operator precedence, C order (higher binds tighter).
const PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
  '<': 7, '<=': 7, '>': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token { return this.tokens[this.pos]; }
  private next(): Token { return this.tokens[this.pos++]; }
  private isOp(text: string): boolean { const t = this.peek(); return t.type === 'op' && t.text === text; }
  private expect(text: string): void {
    const t = this.next();
    if (t.type !== 'op' || t.text !== text) throw new ExpressionError(`expected '${text}' but found ${t.type === 'end' ? 'the end' : `'${t.text}'`}`, t.offset);
  }

  parseTop(): ParsedExpression {
    const ast = this.expression();
    let format: ValueFormat | undefined;
    if (this.isOp(',')) {
      this.next();
      const f = this.next();
      if (f.type !== 'name' || !FORMATS.has(f.text.toLowerCase())) throw new ExpressionError('expected a format after \',\' (x, d, b, o, c or s)', f.offset);
      format = f.text.toLowerCase() as ValueFormat;
    }
    const end = this.peek();
    if (end.type !== 'end') throw new ExpressionError(`unexpected '${end.text}'`, end.offset);
    return { ast, format };
  }

  expression(): Ast {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError('expression nested too deeply');
    try {
      const test = this.binary(1);
      if (!this.isOp('?')) return test;
      this.next();
      const then = this.expression();
      this.expect(':');
      return { kind: 'ternary', test, then, else: this.expression() };
    } finally {
      this.depth--;
    }
  }

  private binary(minPrec: number): Ast {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const prec = t.type === 'op' ? PRECEDENCE[t.text] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.next();
      const right = this.binary(prec + 1);
      left = { kind: 'binary', op: t.text, left, right };
    }
  }

  private unary(): Ast {
    const t = this.peek();
    if (t.type === 'op' && (t.text === '-' || t.text === '~' || t.text === '!' || t.text === '+')) {
      this.next();
      if (++this.depth > MAX_DEPTH) throw new ExpressionError('expression nested too deeply');
      try {
        const operand = this.unary();
        return t.text === '+' ? operand : { kind: 'unary', op: t.text, operand };
      } finally {
        this.depth--;
      }
    }
    return this.primary();
  }

  private memory(size: number): Ast {
    let physical = false;
    const t = this.peek();
    if (t.type === 'name' && t.text.toLowerCase() === 'phys' && this.tokens[this.pos + 1]?.text === ':') {
      this.pos += 2;
      physical = true;
    }
    this.expect('[');
    const address = this.expression();
    this.expect(']');
    return { kind: 'memory', size, physical, address };
  }

  private primary(): Ast {
    const t = this.next();
    if (t.type === 'num') return { kind: 'number', value: t.value! };
    if (t.type === 'op' && t.text === '(') {
      const e = this.expression();
      this.expect(')');
      return e;
    }
    if (t.type === 'op' && t.text === '[') { this.pos--; return this.memory(8); }
    if (t.type === 'name') {
      const lower = t.text.toLowerCase();
      const size = Object.hasOwn(MEMORY_SIZES, lower) ? MEMORY_SIZES[lower] : undefined; // not __proto__ (expressionFuzz)
      if (size !== undefined && (this.isOp('[') || this.peek().type === 'name')) {
        if (this.peek().type === 'name' && this.peek().text.toLowerCase() === 'ptr') this.next();
        return this.memory(size);
      }
      if (lower === 'phys' && this.isOp(':')) { this.pos--; return this.memory(8); }
      return { kind: 'name', path: t.text.split('.'), offset: t.offset };
    }
    throw new ExpressionError(t.type === 'end' ? 'unexpected end of expression' : `unexpected '${t.text}'`, t.offset);
  }
}

/** Parses `source` (with an optional `,fmt` suffix). Throws ExpressionError only. */
export function parseExpression(source: string): ParsedExpression {
  const tokens = tokenize(source);
  if (tokens.length === 1) throw new ExpressionError('empty expression');
  return new Parser(tokens).parseTop();
}
