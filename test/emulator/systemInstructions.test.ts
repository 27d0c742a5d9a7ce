// Descriptor-table and TSS instructions, POPF privilege rules, TSC, string I/O completion,
// 1 GiB pages, LOCK validity, and the 16/32-bit-only instructions (BOUND, INTO, BCD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, runCode, runToExit, r64, w64, CODE, HANDLERS, PDPT, SEL, FLAGS, GDT } from './cpuKit';
import { CpuExitReason, Seg } from '../../src/emulator/vcpu';

const imm32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

test('SGDT/SIDT store limit and 64-bit base; LTR marks the TSS busy and STR reads it back', () => {
  // sgdt [0x4000]; sidt [0x4010]; mov ax,0x30; ltr ax; str cx
  const c = runCode('long64', [0x0f, 0x01, 0x04, 0x25, ...imm32(0x4000), 0x0f, 0x01, 0x0c, 0x25, ...imm32(0x4010),
    0x66, 0xb8, 0x30, 0x00, 0x0f, 0x00, 0xd8, 0x0f, 0x00, 0xc9], (cpu) => cpu.setTr({ base: 0n, limit: 0xffff, selector: 0, attributes: 0x8b }));
  const b = new Uint8Array(10); c.mem.read(0x4000, b);
  assert.equal(b[0] | (b[1] << 8), 0x3f);
  assert.equal(Number(new DataView(b.buffer).getBigUint64(2, true)), GDT);
  assert.equal(c.getGpr(1) & 0xffffn, 0x30n);
  assert.equal(c.getTr().selector, 0x30);
  assert.equal(c.getTr().attributes & 0xf, 0xb); // busy 64-bit TSS
  assert.equal((r64(c.mem, GDT + 0x30) >> 40n) & 0xfn, 0xbn);
});

test('LGDT/LIDT load the tables; a far jump through the new GDT works', () => {
  // lgdt [0x4000] (limit 0x3f, base GDT); lidt [0x4010]; hlt
  const c = makeCpu('long64', [0x0f, 0x01, 0x14, 0x25, ...imm32(0x4000), 0x0f, 0x01, 0x1c, 0x25, ...imm32(0x4010), 0xf4]);
  const t = new Uint8Array(10); const v = new DataView(t.buffer);
  v.setUint16(0, 0x27, true); v.setBigUint64(2, 0x123456789an, true); c.mem.write(0x4000, t);
  v.setUint16(0, 0xfff, true); v.setBigUint64(2, 0xffff800000001000n, true); c.mem.write(0x4010, t);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.deepEqual(c.getGdtr(), { base: 0x123456789an, limit: 0x27 });
  assert.deepEqual(c.getIdtr(), { base: 0xffff800000001000n, limit: 0xfff });
});

test('POPF at CPL 3 leaves IF and IOPL alone but changes the arithmetic flags', () => {
  // ring 3 via IRETQ, then: push 0x3cd5 (IOPL=3, all arith flags, IF=0); popf; pushf; pop rax; (hlt faults at CPL3 -> #GP handler)
  const USER = CODE + 0x100;
  const c = makeCpu('long64', [0x6a, 0x23, 0x68, ...imm32(0x50000), 0x68, ...imm32(0x202), 0x6a, 0x2b, 0x68, ...imm32(USER), 0x48, 0xcf]);
  c.mem.write(USER, Uint8Array.of(0x68, ...imm32(0x3cd5), 0x9d, 0x9c, 0x58, 0xf4));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getRip(), BigInt(HANDLERS + 13 * 16 + 1)); // HLT at CPL 3
  assert.equal(c.getGpr(0), 0xed7n); // IF still 1, IOPL still 0; CF PF AF ZF SF DF OF set
});

test('RDTSC counts retired instructions (deterministic) and RDTSCP returns TSC_AUX', () => {
  const c = runCode('long64', [0x90, 0x90, 0x0f, 0x31, 0x89, 0xc6, 0x0f, 0x01, 0xf9], (cpu) => { cpu.setMsr(0x10, 1000n); cpu.setMsr(0xc0000103, 7n); });
  assert.equal(c.getGpr(6), 1002n);
  assert.equal(c.getGpr(0), 1004n);
  assert.equal(c.getGpr(1), 7n);
});

test('REP OUTSB exits once per element; REP INSW stores each completed value', () => {
  const c = makeCpu('long64', [0xbe, ...imm32(0x4000), 0xb9, 3, 0, 0, 0, 0xba, 0xf8, 0x03, 0, 0, 0xf3, 0x6e, 0xf4]);
  c.mem.write(0x4000, new TextEncoder().encode('abc'));
  let out = '';
  for (;;) {
    const r = runToExit(c);
    if (r !== CpuExitReason.IoPort) { assert.equal(r, CpuExitReason.Halt); break; }
    assert.equal(c.exit.io.isString, true); assert.equal(c.exit.io.rep, true);
    out += String.fromCharCode(c.exit.io.value);
    c.completeIo();
  }
  assert.equal(out, 'abc');
  assert.equal(c.instructionCount, 3 + 3 + 1);
  const d = makeCpu('long64', [0xbf, ...imm32(0x5000), 0xb9, 2, 0, 0, 0, 0xf3, 0x66, 0x6d, 0xf4]);
  let n = 0x1111;
  while (runToExit(d) === CpuExitReason.IoPort) { assert.equal(d.exit.io.size, 2); d.completeIo(n); n += 0x1111; }
  const b = new Uint8Array(4); d.mem.read(0x5000, b);
  assert.deepEqual([...b], [0x11, 0x11, 0x22, 0x22]);
  assert.equal(d.getGpr(7), 0x5004n);
});

test('a 1 GiB page translates (PDPTE.PS)', () => {
  const c = makeCpu('long64', [0x48, 0xb8, ...imm32(0x1000), ...imm32(1), 0x8b, 0x00, 0xf4]); // mov rax, 0x100001000; mov eax,[rax]
  w64(c.mem, PDPT + 4 * 8, 0x87n); // 4 GiB -> physical 0 (1 GiB page)
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(0), 0x1000b848n); // the first code bytes
});

test('LOCK on a register destination or a non-RMW instruction is #UD; XCHG with memory is fine', () => {
  let c = makeCpu('long64', [0xf0, 0x01, 0xc0]); // lock add eax,eax
  c.setExceptionExitBitmap(1 << 6);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 6);
  c = runCode('long64', [0xbb, ...imm32(0x4000), 0xb8, 5, 0, 0, 0, 0xf0, 0x0f, 0xc1, 0x03, 0xf0, 0x87, 0x03]);
  assert.equal(c.getGpr(0), 5n);
});

test('CMPXCHG8B succeeds and fails with ZF; XLAT indexes with AL', () => {
  const c = runCode('long64', [0xbe, ...imm32(0x4000), 0x31, 0xc0, 0x31, 0xd2, 0xbb, 1, 0, 0, 0, 0xb9, 2, 0, 0, 0, 0x0f, 0xc7, 0x0e, 0x9c, 0x0f, 0xc7, 0x0e, 0x5f]);
  assert.equal(c.getGpr(7) & FLAGS.ZF, FLAGS.ZF); // first compare succeeded
  assert.equal(r64(c.mem, 0x4000), 0x0000000200000001n);
  assert.equal(c.getGpr(0), 1n); assert.equal(c.getGpr(2), 2n); // second one failed and loaded EDX:EAX
  const x = runCode('long64', [0xbb, ...imm32(0x4000), 0xb0, 2, 0xd7], (cpu) => cpu.mem.write(0x4000, Uint8Array.of(10, 20, 30)));
  assert.equal(x.getGpr(0) & 0xffn, 30n);
});

test('ENTER with a nesting level copies the enclosing frame pointers', () => {
  // 32-bit: mov ebp,0x7ff00; enter 8,2
  const c = runCode('prot32', [0xbd, ...imm32(0x7ff00), 0xc8, 8, 0, 2], (cpu) => w64(cpu.mem, 0x7fefc, 0xaabbccddn));
  const sp = Number(c.getGpr(4)), bp = Number(c.getGpr(5));
  assert.equal(bp, 0x80000 - 4);
  const b = new Uint8Array(12); c.mem.read(0x80000 - 12, b); const v = new DataView(b.buffer);
  assert.equal(v.getUint32(8, true), 0x7ff00); // saved EBP
  assert.equal(v.getUint32(4, true), 0xaabbccdd); // [EBP-4] of the enclosing frame
  assert.equal(v.getUint32(0, true), bp); // the new frame pointer
  assert.equal(sp, 0x80000 - 12 - 8);
});

test('BOUND raises #BR, INTO traps on OF, DAA adjusts (32-bit mode)', () => {
  let c = makeCpu('prot32', [0xb8, 9, 0, 0, 0, 0x62, 0x05, ...imm32(0x4000)]);
  w64(c.mem, 0x4000, 0x0000000800000000n); // bounds [0, 8]
  c.setExceptionExitBitmap(1 << 5);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 5);
  c = makeCpu('prot32', [0xb0, 0x7f, 0x04, 0x01, 0xce]);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getRip(), BigInt(HANDLERS + 4 * 16 + 1));
  c = runCode('prot32', [0xb0, 0x19, 0x04, 0x28, 0x27]); // 19 + 28 = 41 (BCD 47)
  assert.equal(c.getGpr(0) & 0xffn, 0x47n);
});

test('MOV to SS inhibits interrupts and debug traps for one instruction', () => {
  const c = makeCpu('long64', [0x66, 0xb8, SEL.data, 0, 0x8e, 0xd0, 0x90, 0xf4]);
  c.setRflags(2n | FLAGS.TF);
  c.setExceptionExitBitmap(1 << 1);
  assert.equal(runToExit(c), CpuExitReason.Exception); // after MOV AX
  assert.equal(c.getRip(), BigInt(CODE + 4));
  c.clearPendingException();
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.getRip(), BigInt(CODE + 7)); // the trap after MOV SS is held until after the NOP
  assert.equal(c.getSegment(Seg.SS).selector, SEL.data);
});

test('virtual-8086 mode stops with an UnsupportedFeature exit', () => {
  const c = makeCpu('prot32', [0x90]);
  c.setRflags(0x20002n);
  assert.equal(c.getMode(), 'v8086');
  assert.equal(runToExit(c), CpuExitReason.UnsupportedFeature);
  assert.match(c.exit.message, /virtual-8086/);
});

test('an intercepted INT3 exits on the instruction; running on delivers #BP returning past it', () => {
  const c = makeCpu('long64', [0x90, 0xcc, 0x90]);
  c.setExceptionExitBitmap(1 << 3);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 3);
  assert.equal(c.getRip(), BigInt(CODE + 1));
  assert.deepEqual([...c.exit.instructionBytes], [0xcc]);
  assert.deepEqual(c.getPendingEvent(), { vector: 3, hasErrorCode: false, errorCode: 0 });
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getRip(), BigInt(HANDLERS + 3 * 16 + 1));
  assert.equal(r64(c.mem, Number(c.getGpr(4))), BigInt(CODE + 2));
});
