import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvalAccessor, evaluateExpression, resolveLValue } from '../../src/debugAdapter/expression/evaluate';
import { ExpressionError, parseExpression } from '../../src/debugAdapter/expression/parser';
import { exitAccessor, exitStops } from '../../src/debugAdapter/exitFilters';
import { describeExit } from '../../src/partition/exitDescription';

const regs: Record<string, bigint> = { rax: 0x1122334455667788n, rbp: 0x2000n, 'rflags.zf': 1n, 'cs.base': 0x10000n };
const mem = new Map<bigint, number>();
for (let i = 0; i < 16; i++) mem.set(0x1ff8n + BigInt(i), 0xa0 + i);

const acc: EvalAccessor = {
  name: (path) => regs[path.join('.').toLowerCase()],
  readMemory: (address, size, physical) => {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const b = mem.get(address + BigInt(i) + (physical ? 0x100n : 0n));
      if (b === undefined) throw new ExpressionError(`memory at 0x${(address + BigInt(i)).toString(16)} is not readable`);
      v = (v << 8n) | BigInt(b);
    }
    return v;
  },
};
const ev = (s: string): bigint => evaluateExpression(s, acc).value;

test('C operators with C precedence', () => {
  assert.equal(ev('1 + 2 * 3'), 7n);
  assert.equal(ev('(1 + 2) * 3'), 9n);
  assert.equal(ev('1 << 4 | 1'), 17n);
  assert.equal(ev('7 & 3 == 3'), 1n); // == binds tighter than &
  assert.equal(ev('10 % 4 + 10 / 4'), 4n);
  assert.equal(ev('1 ? 5 : 6'), 5n);
  assert.equal(ev('0 || 0 && 1'), 0n);
  assert.equal(ev('!0 + ~0'), 0n); // 1 + 0xffffffffffffffff wraps
  assert.equal(ev('-1'), 0xffffffffffffffffn);
  assert.equal(ev("'A'"), 0x41n);
  assert.equal(ev('3F8h + 0b1 + 0o7'), 0x3f8n + 8n);
});

test('registers, fields and memory of every size', () => {
  assert.equal(ev('rax'), 0x1122334455667788n);
  assert.equal(ev('RAX & 0xff'), 0x88n);
  assert.equal(ev('rflags.ZF'), 1n);
  assert.equal(ev('cs.Base + 1'), 0x10001n);
  assert.equal(ev('byte [rbp-8]'), 0xa0n);
  assert.equal(ev('word [0x1ff8]'), 0xa1a0n);
  assert.equal(ev('qword ptr [rbp - 8]'), 0xa7a6a5a4a3a2a1a0n);
  assert.equal(ev('[rbp-8]'), 0xa7a6a5a4a3a2a1a0n);
  assert.equal(ev('dword [rbp]'), 0xabaaa9a8n);
  assert.equal(ev('byte phys:[0x1ef8]'), 0xa0n);
});

test('format suffixes', () => {
  assert.equal(evaluateExpression('rax,x', acc).format, 'x');
  assert.equal(evaluateExpression('rax , b', acc).format, 'b');
  assert.equal(evaluateExpression('rax', acc).format, undefined);
});

test('errors are ExpressionErrors with a message, never crashes', () => {
  for (const bad of ['', '1 +', '(1', 'nosuch', '[0x5000]', '1 / 0', 'rax,q', '0x', '1 2', ')', 'byte [', "'", '@@', 'a..b', '1 ? 2']) {
    assert.throws(() => ev(bad), ExpressionError, `'${bad}' should be an ExpressionError`);
  }
  assert.throws(() => ev('nosuch'), /unknown name 'nosuch'/);
  assert.throws(() => ev('[0x5000]'), /not readable/);
  assert.throws(() => ev('('.repeat(500) + '1' + ')'.repeat(500)), /nested too deeply/);
  assert.throws(() => ev('-'.repeat(500) + '1'), /nested too deeply/);
});

test('random strings only ever give ExpressionErrors (fixed seed)', () => {
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = 'rax bp[]()+-*/%&|^~!<>=?:,.$0x1fhqwordbyte phys:\'"\\_@\t';
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const len = rnd(24);
    for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)];
    try { ev(s); } catch (e) { assert.ok(e instanceof ExpressionError, `${JSON.stringify(s)} threw ${String(e)}`); }
  }
});

test('assignment targets', () => {
  assert.deepEqual(resolveLValue('rflags.ZF', acc), { kind: 'name', path: ['rflags', 'ZF'] });
  assert.deepEqual(resolveLValue('dword [rbp-8]', acc), { kind: 'memory', address: 0x1ff8n, size: 4, physical: false });
  assert.throws(() => resolveLValue('rax + 1', acc), /cannot be assigned/);
});

test('parser keeps dotted names whole', () => {
  assert.deepEqual(parseExpression('$exit.AccessInfo.IsWrite').ast, { kind: 'name', path: ['$exit', 'AccessInfo', 'IsWrite'], offset: 0 });
});

const ioExit = {
  ExitReason: 2,
  VpContext: { ExecutionState: { Cpl: 0, Cr0Pe: true }, InstructionLength: 1, Cr8: 0, Cs: { Base: 0n, Limit: 0xffff, Selector: 0, Attributes: 0x9b }, Rip: 0x7c05n, Rflags: 2n },
  IoPortAccess: { InstructionByteCount: 1, InstructionBytes: new Uint8Array([0xee]), AccessInfo: { IsWrite: true, AccessSize: 1, StringOp: false, RepPrefix: false }, PortNumber: 0x3f8, Rax: 0x41n, Rcx: 0n, Rsi: 0n, Rdi: 0n },
};

test('exit-filter conditions over the decoded exit context', () => {
  const a = exitAccessor(ioExit);
  assert.equal(evaluateExpression('PortNumber == 0x3f8 && AccessInfo.IsWrite', a).value, 1n);
  assert.equal(evaluateExpression('portnumber', a).value, 0x3f8n);
  assert.equal(evaluateExpression('Rip', a).value, 0x7c05n);
  assert.equal(evaluateExpression('ExecutionState.Cr0Pe', a).value, 1n);
  assert.deepEqual(exitStops({ enabled: true, condition: 'PortNumber == 0x3f9' }, ioExit), { stop: false });
  assert.deepEqual(exitStops({ enabled: true }, ioExit), { stop: true });
  assert.deepEqual(exitStops({ enabled: false }, ioExit), { stop: false });
  const bad = exitStops({ enabled: true, condition: 'MsrNumber == 1' }, ioExit);
  assert.equal(bad.stop, true);
  assert.match(bad.error!, /unknown name 'MsrNumber'/);
});

test('exit descriptions', () => {
  assert.equal(describeExit(ioExit), 'X64IoPortAccess: OUT 0x3F8 ← 0x41 (1 byte)');
  assert.equal(describeExit({ ExitReason: 0x1000, VpContext: { Rip: 0n }, MsrAccess: { AccessInfo: { IsWrite: true }, MsrNumber: 0xc0000080, Rax: 0x500n, Rdx: 0n } }),
    'X64MsrAccess: WRMSR 0xC0000080 (IA32_EFER) ← 0x500');
  assert.equal(describeExit({ ExitReason: 0x1002, VpContext: { Rip: 0x10n }, VpException: { ExceptionInfo: { ErrorCodeValid: true }, ExceptionType: 14, ErrorCode: 2, ExceptionParameter: 0xdead000n } }),
    'Exception: #PF (14) error code 0x2 CR2 0xDEAD000 at RIP 0x10');
});
