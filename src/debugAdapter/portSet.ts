// The ports an I/O exit filter's condition can stop at, so the machine reports only their
// exits and serves every other port in-process (machine/inProcessPorts.ts). The analysis
// works on the condition's syntax tree and must never drop a port the filter could stop at:
// a condition that errors stops too (exitStops), so a port may be left out only where the
// condition provably evaluates to false without error. What it cannot prove reports every port.
import { decodeRunVpExitContext } from '../partition/exitContext';
import { WhvRunVpExitReason, WHV_RUN_VP_EXIT_CONTEXT_SIZE } from '../partition/hvdef';
import type { PortRange } from '../machine/devices/device';
import { evaluateAst } from './expression/evaluate';
import { ExpressionError, parseExpression, type Ast } from './expression/parser';
import { exitField } from './exitFilters';

/** Sorted, disjoint, non-adjacent inclusive [first, last] port spans. */
type Spans = readonly (readonly [number, number])[];

const LAST_PORT = 0xffff;
const ALL: Spans = [[0, LAST_PORT]];
const NONE: Spans = [];

/** An I/O exit with every field an I/O exit carries: names that resolve here resolve at every I/O exit. */
const IO_EXIT = (() => {
  const bytes = new Uint8Array(WHV_RUN_VP_EXIT_CONTEXT_SIZE);
  new DataView(bytes.buffer).setUint32(0, WhvRunVpExitReason.X64IoPortAccess, true);
  return decodeRunVpExitContext(bytes);
})();

/**
 * The port ranges an X64IoPortAccess filter with this condition can stop at (an access's
 * PortNumber, its first port); undefined: every port (no condition, or none provable).
 */
export function filterPorts(condition: string | undefined): PortRange[] | undefined {
  if (!condition) return undefined;
  let spans: Spans;
  try {
    spans = mayStop(parseExpression(condition).ast, { nodes: ENUMERATION_BUDGET });
  } catch {
    return undefined; // the filter's own check reports the syntax error
  }
  if (spans.length === 1 && spans[0][0] === 0 && spans[0][1] === LAST_PORT) return undefined;
  return spans.map(([first, last]) => ({ base: first, count: last - first + 1 }));
}

/**
 * Syntax-tree nodes evaluated at every port, summed over a condition: each node costs 65,536
 * evaluations (about 1-5 ms), and a long condition must not stall the adapter.
 */
const ENUMERATION_BUDGET = 32;

/** Ports outside the result make `ast` evaluate to 0 without error at an I/O exit. */
function mayStop(ast: Ast, budget: { nodes: number }): Spans {
  const value = constant(ast);
  if (value !== undefined) return value === 0n ? NONE : ALL;
  if (ast.kind !== 'binary') return portOnly(ast) ? enumerate(ast, budget) : ALL;
  const { op, left, right } = ast;
  if (op === '||') return union(mayStop(left, budget), mayStop(right, budget));
  // Short-circuit: the right side is only evaluated when the left is true, so its ports
  // narrow the left's when the left cannot error where it is false.
  if (op === '&&') return canError(left) ? mayStop(left, budget) : intersect(mayStop(left, budget), mayStop(right, budget));
  // The port compared with a constant; other expressions of the port alone are enumerated.
  const c = !Object.hasOwn(MIRROR, op) ? undefined : isPort(left) ? constant(right) : isPort(right) ? constant(left) : undefined;
  if (c !== undefined) return compare(isPort(left) ? op : MIRROR[op], c);
  return portOnly(ast) ? enumerate(ast, budget) : ALL;
}

const MIRROR: Record<string, string> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** The ports p with `p op c` (op a comparison). */
function compare(op: string, c: bigint): Spans {
  const span = (first: bigint, last: bigint): Spans => {
    const f = first < 0n ? 0 : Number(first), l = last > BigInt(LAST_PORT) ? LAST_PORT : Number(last);
    return f <= l ? [[f, l]] : NONE;
  };
  switch (op) {
    case '==': return span(c, c);
    case '!=': return union(span(0n, c - 1n), span(c + 1n, BigInt(LAST_PORT)));
    case '<': return span(0n, c - 1n);
    case '<=': return span(0n, c);
    case '>': return span(c + 1n, BigInt(LAST_PORT));
    default: return span(c, BigInt(LAST_PORT)); // >=
  }
}

/** Whether the only names in `ast` are the port, and it reads no memory. */
function portOnly(ast: Ast): boolean {
  switch (ast.kind) {
    case 'number': return true;
    case 'name': return isPort(ast);
    case 'memory': return false;
    case 'unary': return portOnly(ast.operand);
    case 'ternary': return portOnly(ast.test) && portOnly(ast.then) && portOnly(ast.else);
    case 'binary': return portOnly(ast.left) && portOnly(ast.right);
  }
}

/**
 * Evaluates a port-only condition at every port (milliseconds): masks such as
 * `(PortNumber & ~7) == 0x3f8`, negations. A port where it errors (division by zero) stops.
 */
function enumerate(ast: Ast, budget: { nodes: number }): Spans {
  budget.nodes -= size(ast);
  // A constant part that errors (1 / 0) makes it error wherever it is reached: not worth 64 Ki throws.
  if (budget.nodes < 0 || constantErrors(ast)) return ALL;
  let port = 0n;
  const acc = { name: () => port, readMemory: (): never => { throw new ExpressionError('no memory'); } };
  const out: [number, number][] = [];
  for (let p = 0; p <= LAST_PORT; p++) {
    port = BigInt(p);
    let stops: boolean;
    try { stops = evaluateAst(ast, acc) !== 0n; } catch { stops = true; }
    if (!stops) continue;
    const top = out[out.length - 1];
    if (top && top[1] === p - 1) top[1] = p; else out.push([p, p]);
  }
  return out;
}

/** `PortNumber` or `IoPortAccess.PortNumber`, as exitField resolves them (case-insensitively). */
function isPort(ast: Ast): boolean {
  if (ast.kind !== 'name') return false;
  const p = ast.path.map((s) => s.toLowerCase()).join('.');
  return p === 'portnumber' || p === 'ioportaccess.portnumber';
}

const NO_NAMES = {
  name: (): never => { throw new ExpressionError('not a constant'); },
  readMemory: (): never => { throw new ExpressionError('not a constant'); },
};

/** The value of a subtree without names or memory that evaluates without error; else undefined. */
function constant(ast: Ast): bigint | undefined {
  try { return evaluateAst(ast, NO_NAMES); } catch { return undefined; }
}

/** Whether `ast` holds a part without names that errors. */
function constantErrors(ast: Ast): boolean {
  if (!hasName(ast)) return constant(ast) === undefined;
  switch (ast.kind) {
    case 'unary': return constantErrors(ast.operand);
    case 'ternary': return constantErrors(ast.test) || constantErrors(ast.then) || constantErrors(ast.else);
    case 'binary': return constantErrors(ast.left) || constantErrors(ast.right);
    default: return false;
  }
}

function size(ast: Ast): number {
  switch (ast.kind) {
    case 'number': case 'name': return 1;
    case 'memory': return 1 + size(ast.address);
    case 'unary': return 1 + size(ast.operand);
    case 'ternary': return 1 + size(ast.test) + size(ast.then) + size(ast.else);
    case 'binary': return 1 + size(ast.left) + size(ast.right);
  }
}

function hasName(ast: Ast): boolean {
  switch (ast.kind) {
    case 'number': return false;
    case 'name': return true;
    case 'memory': return hasName(ast.address);
    case 'unary': return hasName(ast.operand);
    case 'ternary': return hasName(ast.test) || hasName(ast.then) || hasName(ast.else);
    case 'binary': return hasName(ast.left) || hasName(ast.right);
  }
}

/** Whether evaluating `ast` at an I/O exit can throw (unknown name, memory, division by a non-constant). */
function canError(ast: Ast): boolean {
  switch (ast.kind) {
    case 'number': return false;
    case 'name': return exitField(IO_EXIT, ast.path) === undefined;
    case 'memory': return true;
    case 'unary': return canError(ast.operand);
    case 'ternary': return canError(ast.test) || canError(ast.then) || canError(ast.else);
    case 'binary': {
      if (ast.op === '/' || ast.op === '%') {
        const d = constant(ast.right);
        return d === undefined || d === 0n || canError(ast.left);
      }
      return canError(ast.left) || canError(ast.right);
    }
  }
}

function union(a: Spans, b: Spans): Spans {
  const all = [...a, ...b].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [f, l] of all) {
    const top = out[out.length - 1];
    if (top && f <= top[1] + 1) top[1] = Math.max(top[1], l);
    else out.push([f, l]);
  }
  return out;
}

function intersect(a: Spans, b: Spans): Spans {
  const out: [number, number][] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    const f = Math.max(a[i][0], b[j][0]), l = Math.min(a[i][1], b[j][1]);
    if (f <= l) out.push([f, l]);
    if (a[i][1] < b[j][1]) i++; else j++;
  }
  return out;
}
