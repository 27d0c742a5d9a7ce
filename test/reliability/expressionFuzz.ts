// Expression evaluator fuzzer: random strings (printable, operator-heavy, unicode, very long)
// and mutations of valid expressions, through evaluateExpression, evaluateCondition and
// resolveLValue with an accessor over registers and a sparse memory. Allowed: a value, or an
// ExpressionError with a message. Findings: any other exception (RangeError from a huge shift
// or BigInt, TypeError, stack overflow), a value outside 64 bits, or a case slower than 1 s.
import { evaluateCondition, evaluateExpression, resolveLValue, type EvalAccessor } from '../../src/debugAdapter/expression/evaluate';
import { ExpressionError } from '../../src/debugAdapter/expression/parser';
import { campaign, Rng, type FuzzOptions, type FuzzReport } from './fuzzKit';

const REGS: Record<string, bigint> = { rax: 0x1122334455667788n, rbx: 0n, rsp: 0x7ff0n, rip: 0x100000n, 'rflags.zf': 1n, 'cs.base': 0n, eax: 0x55667788n };
const acc: EvalAccessor = {
  name: (path) => { const k = path.join('.').toLowerCase(); return Object.hasOwn(REGS, k) ? REGS[k] : undefined; },
  readMemory: (address, size) => {
    if (address < 0x1000n || address > 0x200000n) throw new ExpressionError(`memory at 0x${address.toString(16)} is not readable`);
    return (address * 0x9e3779b97f4a7c15n) & ((1n << BigInt(8 * size)) - 1n);
  },
};

const VALID = ['rax + 8', '[rsp]', 'qword [rbp-8]', 'byte [0x1000 + rbx*4]', 'rflags.ZF', '(rax >> 32) & 0xffff', 'rax == 0x10 && rbx != 3',
  'dword phys:[0x2000]', '-1 / 0', '1 ? rax : rbx', '~rax | 1 << 63', "'A' + 1", '3F8h', '0b1010 ^ 0o17', 'cs.base + rip', 'eax % 7',
  'rax, x', 'rax,d', '*(rsp + 8)', '$exit.PortNumber', 'rax = 5', 'word [rip]'];
const TOKENS = ['(', ')', '[', ']', '+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '~', '!', '==', '!=', '<=', '>=', '&&', '||', '?', ':', ',',
  'rax', 'rsp', 'byte', 'word', 'dword', 'qword', 'phys:', 'ptr', '0x', '0xffffffffffffffffffff', '99999999999999999999999', '1e309', "'", '"', '.', '$',
  'rflags.', 'h', 'b', '0', '64', '-1', '=', ' ', '\t', '\u00e9', '\u{1f600}', '\u0000', '[[[[', 'NaN', 'Infinity', '__proto__', 'constructor'];

function randomString(r: Rng): string {
  switch (r.int(4)) {
    case 0: return Array.from({ length: r.int(40) }, () => String.fromCharCode(32 + r.int(95))).join('');
    case 1: return Array.from({ length: r.int(30) }, () => r.pick(TOKENS)).join(r.bool(0.5) ? ' ' : '');
    case 2: { // deep nesting and long chains
      const n = r.pick([10, 100, 1000, 5000]);
      return r.bool(0.5) ? '('.repeat(n) + '1' + ')'.repeat(r.bool(0.8) ? n : n - 1) : Array.from({ length: n }, () => r.pick(['1', 'rax', '-1'])).join(r.pick([' << ', ' * ', ' + ', ' - ', ' ** ', ' >> ']));
    }
    default: {
      const s = r.pick(VALID).split('');
      for (let k = 1 + r.int(4); k > 0; k--) {
        const at = r.int(s.length + 1);
        if (r.bool(0.5)) s.splice(at, 1); else s.splice(at, 0, r.pick(TOKENS));
      }
      return s.join('');
    }
  }
}

export function fuzzExpressions(opts: FuzzOptions): FuzzReport {
  return campaign('expressions', opts, (seed) => {
    const r = new Rng(seed);
    const src = randomString(r);
    const started = Date.now();
    let outcome = 'error';
    for (const f of [() => { const v = evaluateExpression(src, acc).value; if (v < 0n || v >= 1n << 64n) throw new Error(`value ${v} outside 64 bits`); },
      () => evaluateCondition(src, acc), () => resolveLValue(src, acc)]) {
      try { f(); outcome = 'value'; } catch (e) {
        if (!(e instanceof ExpressionError) || !e.message) throw new Error(`${JSON.stringify(src.slice(0, 200))}: ${(e as Error).stack ?? String(e)}`);
      }
    }
    if (Date.now() - started > 1000) throw new Error(`${JSON.stringify(src.slice(0, 200))}: took ${Date.now() - started} ms`);
    return outcome;
  });
}
