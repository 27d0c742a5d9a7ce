// Evaluates parsed debugger expressions over an abstract accessor, so the same code serves
// watch/hover/console expressions (registers, memory, symbols, $exit fields), breakpoint
// conditions and exit-filter conditions (decoded exit-context fields only).
import { Ast, ExpressionError, parseExpression, ValueFormat } from './parser';

/** What names and memory mean; every method may throw ExpressionError. */
export interface EvalAccessor {
  /** Value of a dotted name (`rax`, `rflags.ZF`, `HvX64RegisterCr0`, `$exit.PortNumber`, a symbol); undefined if unknown. */
  name(path: readonly string[]): bigint | undefined;
  /** Little-endian read of `size` bytes; throws ExpressionError if any byte is unreadable. */
  readMemory(address: bigint, size: number, physical: boolean): bigint;
  /** Names to suggest when a name is unknown (optional). */
  suggest?(path: readonly string[]): string | undefined;
}

/** Where an assignment goes (setExpression / setVariable / console `x = v`). */
export type LValue =
  | { kind: 'name'; path: string[] }
  | { kind: 'memory'; address: bigint; size: number; physical: boolean };

export interface EvalResult { value: bigint; format?: ValueFormat }

const MASK64 = (1n << 64n) - 1n;

function truth(v: bigint): boolean { return v !== 0n; }
function bool(b: boolean): bigint { return b ? 1n : 0n; }

export function evaluateAst(ast: Ast, acc: EvalAccessor): bigint {
  switch (ast.kind) {
    case 'number': return ast.value;
    case 'name': {
      const v = acc.name(ast.path);
      if (v === undefined) {
        const hint = acc.suggest?.(ast.path);
        throw new ExpressionError(`unknown name '${ast.path.join('.')}'${hint ? ` (did you mean ${hint}?)` : ''}`, ast.offset);
      }
      return v;
    }
    case 'memory': {
      const address = evaluateAst(ast.address, acc);
      if (address < 0n || address > MASK64) throw new ExpressionError(`address ${address} out of range`);
      return acc.readMemory(address, ast.size, ast.physical);
    }
    case 'unary': {
      const v = evaluateAst(ast.operand, acc);
      // ~ and unary - are 64-bit two's complement like the registers they usually apply to.
      if (ast.op === '-') return (-v) & MASK64;
      if (ast.op === '~') return ~v & MASK64;
      return bool(!truth(v));
    }
    case 'ternary': return truth(evaluateAst(ast.test, acc)) ? evaluateAst(ast.then, acc) : evaluateAst(ast.else, acc);
    case 'binary': {
      const l = evaluateAst(ast.left, acc);
      if (ast.op === '&&') return bool(truth(l) && truth(evaluateAst(ast.right, acc)));
      if (ast.op === '||') return bool(truth(l) || truth(evaluateAst(ast.right, acc)));
      const r = evaluateAst(ast.right, acc);
      return binary(ast.op, l, r);
    }
  }
}

function binary(op: string, l: bigint, r: bigint): bigint {
  switch (op) {
    case '+': return (l + r) & MASK64;
    case '-': return (l - r) & MASK64;
    case '*': return (l * r) & MASK64;
    case '/': if (r === 0n) throw new ExpressionError('division by zero'); return l / r;
    case '%': if (r === 0n) throw new ExpressionError('division by zero'); return l % r;
    case '<<': if (r > 127n) return 0n; return (l << r) & MASK64;
    case '>>': if (r > 127n) return 0n; return l >> r;
    case '&': return l & r;
    case '|': return l | r;
    case '^': return l ^ r;
    case '==': return bool(l === r);
    case '!=': return bool(l !== r);
    case '<': return bool(l < r);
    case '<=': return bool(l <= r);
    case '>': return bool(l > r);
    case '>=': return bool(l >= r);
  }
  throw new ExpressionError(`unknown operator '${op}'`);
}

/** Parses and evaluates; throws ExpressionError for every kind of bad input. */
export function evaluateExpression(source: string, acc: EvalAccessor): EvalResult {
  const parsed = parseExpression(source);
  return { value: evaluateAst(parsed.ast, acc), format: parsed.format };
}

/** Evaluates a condition; true when non-zero. */
export function evaluateCondition(source: string, acc: EvalAccessor): boolean {
  return evaluateExpression(source, acc).value !== 0n;
}

/** Resolves the target of an assignment: a name or a sized memory operand. */
export function resolveLValue(source: string, acc: EvalAccessor): LValue {
  const parsed = parseExpression(source);
  const ast = parsed.ast;
  if (ast.kind === 'name') return { kind: 'name', path: ast.path };
  if (ast.kind === 'memory') return { kind: 'memory', address: evaluateAst(ast.address, acc), size: ast.size, physical: ast.physical };
  throw new ExpressionError(`'${source}' cannot be assigned to (only registers, register fields and memory can)`);
}
