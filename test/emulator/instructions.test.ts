// Per-instruction results and flags (expected values worked out from the SDM's definitions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCode, arith, FLAGS as F, makeCpu, runToExit, CODE } from './cpuKit';
import { CpuExitReason } from '../../src/emulator/vcpu';

const movabs = (reg: number, v: bigint): number[] => {
  const b = [0x48 | (reg >= 8 ? 1 : 0), 0xb8 + (reg & 7)];
  for (let i = 0n; i < 8n; i++) b.push(Number((BigInt.asUintN(64, v) >> (8n * i)) & 0xffn));
  return b;
};

test('ADD sets CF/ZF/PF/AF on a 32-bit wrap and OF/SF/AF on an 8-bit signed overflow', () => {
  let c = runCode('long64', [0xb8, 0xff, 0xff, 0xff, 0xff, 0x05, 1, 0, 0, 0]); // mov eax,-1; add eax,1
  assert.equal(c.getGpr(0), 0n);
  assert.equal(arith(c), F.CF | F.ZF | F.PF | F.AF);
  c = runCode('long64', [0xb0, 0x7f, 0x04, 0x01]); // mov al,7f; add al,1
  assert.equal(c.getGpr(0) & 0xffn, 0x80n);
  assert.equal(arith(c), F.OF | F.SF | F.AF);
});

test('16-bit CMP and 64-bit SUB borrow', () => {
  let c = runCode('long64', [0x66, 0xb8, 0x00, 0x80, 0x66, 0xbb, 0x01, 0x00, 0x66, 0x39, 0xd8]); // mov ax,8000; mov bx,1; cmp ax,bx
  assert.equal(arith(c), F.OF | F.AF | F.PF); // 0x8000-1 = 0x7fff: signed overflow, borrow from bit 4, PF of 0xff
  c = runCode('long64', [0x31, 0xc0, 0xbb, 1, 0, 0, 0, 0x48, 0x29, 0xd8]); // xor eax,eax; mov ebx,1; sub rax,rbx
  assert.equal(c.getGpr(0), 0xffffffffffffffffn);
  assert.equal(arith(c), F.CF | F.SF | F.PF | F.AF);
});

test('ADC/SBB consume CF; INC/DEC preserve it', () => {
  let c = runCode('long64', [0xf9, 0xb8, 1, 0, 0, 0, 0xbb, 2, 0, 0, 0, 0x11, 0xd8]); // stc; adc eax,ebx
  assert.equal(c.getGpr(0), 4n);
  c = runCode('long64', [0xf9, 0xb8, 1, 0, 0, 0, 0xbb, 1, 0, 0, 0, 0x19, 0xd8]); // stc; sbb eax,ebx -> -1
  assert.equal(c.getGpr(0), 0xffffffffn);
  assert.equal(arith(c) & F.CF, F.CF);
  c = runCode('long64', [0xf9, 0xb8, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xc0]); // stc; mov eax,7fffffff; inc eax
  assert.equal(arith(c), F.CF | F.OF | F.SF | F.AF | F.PF);
});

test('NEG sets CF for non-zero; logic ops clear CF/OF', () => {
  let c = runCode('long64', [0xb8, 5, 0, 0, 0, 0x48, 0xf7, 0xd8]); // neg rax
  assert.equal(c.getGpr(0), 0xfffffffffffffffbn);
  assert.equal(arith(c), F.CF | F.SF | F.AF);
  c = runCode('long64', [0xf9, 0xb8, 0xf0, 0, 0, 0, 0x25, 0x0f, 0, 0, 0]); // stc; and eax,0f
  assert.equal(arith(c), F.ZF | F.PF);
});

test('shifts and rotates: SHL OF, SAR sign fill and CF, ROL 64, RCR through CF, SHLD', () => {
  let c = runCode('long64', [0xb8, 0, 0, 0, 0x40, 0xd1, 0xe0]); // shl eax,1 -> 0x80000000, OF=1, CF=0
  assert.equal(c.getGpr(0), 0x80000000n);
  assert.equal(arith(c) & (F.OF | F.CF | F.SF), F.OF | F.SF);
  c = runCode('long64', [0xb8, 0x81, 0, 0, 0x80, 0xb1, 4, 0xd3, 0xf8]); // sar eax,cl(4)
  assert.equal(c.getGpr(0), 0xf8000008n);
  assert.equal(arith(c) & F.CF, 0n);
  c = runCode('long64', [...movabs(0, 0x8000000000000001n), 0x48, 0xc1, 0xc0, 0x05]); // rol rax,5
  assert.equal(c.getGpr(0), 0x30n);
  assert.equal(arith(c) & (F.CF | F.OF), 0n);
  c = runCode('long64', [0xf9, 0xb8, 2, 0, 0, 0, 0xd1, 0xd8]); // stc; rcr eax,1 -> 0x80000001, CF=0
  assert.equal(c.getGpr(0), 0x80000001n);
  assert.equal(arith(c) & (F.CF | F.OF), F.OF);
  c = runCode('long64', [0xb8, 0x34, 0x12, 0, 0, 0xbb, 0, 0, 0, 0xf0, 0x0f, 0xa4, 0xd8, 0x04]); // shld eax,ebx,4
  assert.equal(c.getGpr(0), 0x1234fn);
});

test('MUL/IMUL 64-bit products and overflow flags; DIV/IDIV; #DE on divide by zero', () => {
  let c = runCode('long64', [...movabs(0, -1n), ...movabs(3, -1n), 0x48, 0xf7, 0xe3]); // mul rbx
  assert.equal(c.getGpr(0), 1n);
  assert.equal(c.getGpr(2), 0xfffffffffffffffen);
  assert.equal(arith(c) & (F.CF | F.OF), F.CF | F.OF);
  c = runCode('long64', [...movabs(0, -3n), ...movabs(3, 7n), 0x48, 0x0f, 0xaf, 0xc3]); // imul rax,rbx
  assert.equal(c.getGpr(0), BigInt.asUintN(64, -21n));
  assert.equal(arith(c) & (F.CF | F.OF), 0n);
  c = runCode('long64', [...movabs(0, 1n << 62n), 0x48, 0x6b, 0xc0, 0x04]); // imul rax,rax,4 overflows
  assert.equal(arith(c) & (F.CF | F.OF), F.CF | F.OF);
  c = runCode('long64', [...movabs(2, 1n), ...movabs(0, 0n), ...movabs(3, 3n), 0x48, 0xf7, 0xf3]); // div rbx: 2^64/3
  assert.equal(c.getGpr(0), 0x5555555555555555n);
  assert.equal(c.getGpr(2), 1n);
  c = runCode('long64', [0xb8, 0xf9, 0xff, 0xff, 0xff, 0x99, 0xbb, 2, 0, 0, 0, 0xf7, 0xfb]); // eax=-7; cdq; idiv ebx
  assert.equal(c.getGpr(0), 0xfffffffdn);
  assert.equal(c.getGpr(2), 0xffffffffn);
  c = makeCpu('long64', [0x31, 0xdb, 0xf7, 0xf3]); // xor ebx,ebx; div ebx
  c.setExceptionExitBitmap(1);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 0);
  assert.equal(c.getRip(), BigInt(CODE + 2));
});

test('BT/BTS, BSF/BSR, TZCNT/LZCNT, POPCNT, BSWAP, MOVSX/MOVZX/MOVSXD, CMOV/SETcc', () => {
  let c = runCode('long64', [0xb8, 0x10, 0, 0, 0, 0x0f, 0xba, 0xe8, 0x04]); // bts eax,4
  assert.equal(arith(c) & F.CF, F.CF);
  c = runCode('long64', [0xbb, 0x00, 0x01, 0, 0, 0x0f, 0xbc, 0xc3, 0x0f, 0xbd, 0xcb]); // bsf eax,ebx; bsr ecx,ebx
  assert.equal(c.getGpr(0), 8n); assert.equal(c.getGpr(1), 8n);
  c = runCode('long64', [0x31, 0xdb, 0xf3, 0x0f, 0xbc, 0xc3, 0xf3, 0x48, 0x0f, 0xbd, 0xcb]); // tzcnt eax,0; lzcnt rcx,0
  assert.equal(c.getGpr(0), 32n); assert.equal(c.getGpr(1), 64n);
  c = runCode('long64', [...movabs(3, 0xff00ff00ff00ff01n), 0xf3, 0x48, 0x0f, 0xb8, 0xc3]); // popcnt rax,rbx
  assert.equal(c.getGpr(0), 33n);
  c = runCode('long64', [...movabs(0, 0x0102030405060708n), 0x48, 0x0f, 0xc8]); // bswap rax
  assert.equal(c.getGpr(0), 0x0807060504030201n);
  c = runCode('long64', [0xbb, 0x80, 0xff, 0, 0, 0x48, 0x0f, 0xbe, 0xc3, 0x0f, 0xb7, 0xcb, 0xba, 0, 0, 0, 0x80, 0x48, 0x63, 0xf2]);
  assert.equal(c.getGpr(0), 0xffffffffffffff80n); // movsx rax,bl
  assert.equal(c.getGpr(1), 0xff80n); // movzx ecx,bx
  assert.equal(c.getGpr(6), 0xffffffff80000000n); // movsxd rsi,edx
  c = runCode('long64', [0x31, 0xc0, 0xb9, 7, 0, 0, 0, 0x0f, 0x44, 0xc1, 0x0f, 0x94, 0xc2]); // xor; cmovz eax,ecx; setz dl
  assert.equal(c.getGpr(0), 7n); assert.equal(c.getGpr(2) & 0xffn, 1n);
});

test('CMPXCHG, XADD and CMPXCHG16B', () => {
  let c = runCode('long64', [0xbb, 0, 0x40, 0, 0, 0xc7, 0x03, 5, 0, 0, 0, 0xb8, 5, 0, 0, 0, 0xb9, 9, 0, 0, 0, 0x0f, 0xb1, 0x0b, 0x8b, 0x13]);
  assert.equal(c.getGpr(2), 9n); // [rbx] replaced
  assert.equal(arith(c) & F.ZF, F.ZF);
  c = runCode('long64', [0xb8, 3, 0, 0, 0, 0xbb, 4, 0, 0, 0, 0x0f, 0xc1, 0xc3]); // xadd ebx,eax
  assert.equal(c.getGpr(3), 7n); assert.equal(c.getGpr(0), 4n);
  c = runCode('long64', [0xbe, 0, 0x40, 0, 0, 0x31, 0xc0, 0x31, 0xd2, 0xbb, 1, 0, 0, 0, 0xb9, 2, 0, 0, 0, 0x48, 0x0f, 0xc7, 0x0e, 0x48, 0x8b, 0x7e, 0x08]);
  assert.equal(c.getGpr(7), 2n); // high qword got RCX
});

test('REP MOVSB/STOSQ count each iteration as one instruction; REPE CMPSB stops at a difference', () => {
  const code = [0xbe, 0, 0x40, 0, 0, 0xbf, 0, 0x50, 0, 0, 0xb9, 10, 0, 0, 0, 0xf3, 0xa4];
  const c = runCode('long64', code, (cpu) => cpu.mem.write(0x4000, new TextEncoder().encode('0123456789')));
  const out = new Uint8Array(10); c.mem.read(0x5000, out);
  assert.equal(new TextDecoder().decode(out), '0123456789');
  assert.equal(c.getGpr(1), 0n); assert.equal(c.getGpr(6), 0x400an);
  assert.equal(c.instructionCount, 3 + 10 + 1);
  const s = runCode('long64', [0xbf, 0, 0x50, 0, 0, 0xb9, 3, 0, 0, 0, ...movabs(0, 0x1122334455667788n), 0xf3, 0x48, 0xab]);
  assert.equal(s.getGpr(7), 0x5018n);
  const e = runCode('long64', [0xbe, 0, 0x40, 0, 0, 0xbf, 0, 0x50, 0, 0, 0xb9, 8, 0, 0, 0, 0xf3, 0xa6], (cpu) => {
    cpu.mem.write(0x4000, new TextEncoder().encode('abcdefgh')); cpu.mem.write(0x5000, new TextEncoder().encode('abcXefgh'));
  });
  assert.equal(e.getGpr(1), 4n); // stopped after comparing the 4th byte
  assert.equal(arith(e) & F.ZF, 0n);
});

test('REP MOVS honours the instruction budget and resumes', () => {
  const c = makeCpu('long64', [0xbe, 0, 0x40, 0, 0, 0xbf, 0, 0x50, 0, 0, 0xb9, 100, 0, 0, 0, 0xf3, 0xa4, 0xf4]);
  assert.equal(c.run(3 + 10), CpuExitReason.BudgetExhausted);
  assert.equal(c.getGpr(1), 90n);
  assert.equal(c.getRip(), BigInt(CODE + 15));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(1), 0n);
});

test('16-bit real-mode code: segment arithmetic, PUSH/POP, LOOP', () => {
  // mov ax,0x1234; mov ds,ax... keep flat: mov cx,5; xor ax,ax; l: add ax,cx; loop l
  const c = runCode('real', [0xb9, 5, 0, 0x31, 0xc0, 0x01, 0xc8, 0xe2, 0xfc, 0x50, 0x5b]);
  assert.equal(c.getGpr(0) & 0xffffn, 15n);
  assert.equal(c.getGpr(3) & 0xffffn, 15n);
  assert.equal(c.getMode(), 'real');
});

test('32-bit protected mode: PUSHAD/POPAD, ENTER/LEAVE, LAHF/SAHF', () => {
  const c = runCode('prot32', [0xb8, 1, 0, 0, 0, 0x60, 0x31, 0xc0, 0x61, 0xc8, 0x10, 0, 0, 0xc9, 0xb4, 0xd5, 0x9e, 0x9f]);
  assert.equal(c.getGpr(0) & 0xffn, 1n);
  assert.equal(c.getGpr(4), 0x80000n);
  assert.equal((c.getGpr(0) >> 8n) & 0xffn, 0xd7n); // SAHF then LAHF: SF ZF AF PF CF + bit 1
});

test('Jcc/SETcc after 64-bit CMP: unsigned and signed orders across the high half', () => {
  // For each (a, b): cmp rax, rbx; setb cl; setae dl; setl sil; setge dil; sete r8b; setne r9b
  const cases: [bigint, bigint][] = [[1n, 2n], [2n, 1n], [0x100000000n, 0xffffffffn], [-1n, 1n], [1n, -1n], [-5n, -5n], [0x8000000000000000n, 0x7fffffffffffffffn]];
  for (const [a, b] of cases) {
    const code = [0x48, 0xb8, ...le64(a), 0x48, 0xbb, ...le64(b), 0x48, 0x39, 0xd8,
      0x0f, 0x92, 0xc1, 0x0f, 0x93, 0xc2, 0x40, 0x0f, 0x9c, 0xc6, 0x40, 0x0f, 0x9d, 0xc7, 0x41, 0x0f, 0x94, 0xc0, 0x41, 0x0f, 0x95, 0xc1];
    const c = runCode('long64', code);
    const ua = BigInt.asUintN(64, a), ub = BigInt.asUintN(64, b), sa = BigInt.asIntN(64, a), sb = BigInt.asIntN(64, b);
    const got = [1, 2, 6, 7, 8, 9].map((r) => Number(c.getGpr(r) & 0xffn));
    assert.deepEqual(got, [ua < ub, ua >= ub, sa < sb, sa >= sb, ua === ub, ua !== ub].map(Number), `${a} vs ${b}`);
  }
});

function le64(v: bigint): number[] {
  const u = BigInt.asUintN(64, v);
  return Array.from({ length: 8 }, (_, i) => Number((u >> BigInt(8 * i)) & 0xffn));
}

test('MOVBE loads/stores byte-swapped; F2 0F 38 F1 (CRC32, not modelled) is #UD', () => {
  const c = runCode('long64', [0xbb, 0, 0x40, 0, 0, 0xb8, 0x11, 0x22, 0x33, 0x44, 0x0f, 0x38, 0xf1, 0x03, 0x0f, 0x38, 0xf0, 0x0b]);
  const m = new Uint8Array(4); c.mem.read(0x4000, m);
  assert.deepEqual([...m], [0x44, 0x33, 0x22, 0x11]); // EAX = 0x44332211 stored big-endian
  assert.equal(c.getGpr(1), 0x44332211n); // and loaded back swapped
  const d = makeCpu('long64', [0xf2, 0x0f, 0x38, 0xf1, 0xc3]);
  d.setExceptionExitBitmap(1 << 6);
  assert.equal(runToExit(d), CpuExitReason.Exception);
  assert.equal(d.exit.exception.vector, 6);
});
