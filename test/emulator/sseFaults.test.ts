// SSE memory accesses that fault part-way: a 16-byte or FXSAVE store crossing into a
// not-present page takes #PF (CR2 = the first byte of the missing page) before writing
// anything, and a faulting load leaves the register unchanged. Plus SSE in 32-bit protected
// mode (no REX: 48 is DEC EAX there) and the decoder's mandatory-prefix rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sseCpu, run, lanes32, getLanes32, ps } from './sseKit';
import { makeCpu, runToExit, w64, PT, SMALL_PAGES } from './cpuKit';
import type { Cpu } from '../../src/emulator/cpu';

const PF = 14;
const MOV_RSI = [0xbe, 0xf8, 0x0f, 0x80, 0x00]; // mov esi, 0x800ff8 (8 bytes before the page at 0x801000)
const X = lanes32(0x11111111, 0x22222222, 0x33333333, 0x44444444);

function withHole(code: number[]): Cpu {
  const c = sseCpu([...MOV_RSI, ...code], { xmm: { 0: X, 1: X } });
  w64(c.mem, PT + 8, 0n); // SMALL_PAGES + 0x1000 not present
  c.mem.write(SMALL_PAGES + 0xf00, new Uint8Array(256).fill(0xab));
  return c;
}

function bytes(c: Cpu, gpa: number, n: number): number[] {
  const b = new Uint8Array(n);
  c.mem.read(gpa, b);
  return [...b];
}

test('MOVUPS store across into a not-present page: #PF with CR2 at the page, nothing written', () => {
  const c = withHole([0x0f, 0x11, 0x06]);
  assert.equal(run(c), PF);
  assert.equal(c.getCr(2), BigInt(SMALL_PAGES + 0x1000));
  assert.deepEqual(bytes(c, SMALL_PAGES + 0xff8, 8), new Array(8).fill(0xab));
});

test('MOVUPS load across into a not-present page: #PF, destination unchanged', () => {
  const c = withHole([0x0f, 0x10, 0x0e]);
  c.setXmm(1, 5n, 6n);
  assert.equal(run(c), PF);
  assert.deepEqual(c.getXmm(1), [5n, 6n]);
});

test('FXSAVE across into a not-present page: #PF before any byte is written; FXRSTOR: #PF, state unchanged', () => {
  let c = withHole([0x0f, 0xae, 0x86, 0x08, 0xff, 0xff, 0xff]);
  assert.equal(run(c), PF);
  assert.deepEqual(bytes(c, SMALL_PAGES + 0xf00, 256), new Array(256).fill(0xab));
  c = withHole([0x0f, 0xae, 0x8e, 0x08, 0xff, 0xff, 0xff]);
  c.setMxcsr(0x1f80);
  assert.equal(run(c), PF);
  assert.equal(c.getMxcsr(), 0x1f80);
  assert.deepEqual(c.getXmm(0), X);
});

test('SSE in 32-bit protected mode: CVTSI2SS/ADDSS/CVTTSS2SI/MOVD without REX', () => {
  const code = [0xf3, 0x0f, 0x2a, 0xc8, 0xf3, 0x0f, 0x58, 0xc9, 0xf3, 0x0f, 0x2c, 0xc9, 0x66, 0x0f, 0x6e, 0xd1, 0xf4];
  const c = makeCpu('prot32', code);
  c.setCr(4, 0x600n);
  c.setGpr(0, 21n);
  runToExit(c);
  assert.equal(c.getGpr(1), 42n);
  assert.deepEqual(getLanes32(c, 2), [42, 0, 0, 0]);
});

test('mandatory prefixes: F3 wins over 66, and the last of F2/F3 counts', () => {
  // 66 F3 0F 58 = ADDSS (the 66 is ignored); F3 F2 0F 58 = ADDSD (as an x86-64 host executes them).
  let c = sseCpu([0x66, 0xf3, 0x0f, 0x58, 0xc1], { xmm: { 0: ps(1, 1, 1, 1), 1: ps(2, 2, 2, 2) } });
  assert.equal(run(c), -1);
  assert.deepEqual(getLanes32(c, 0).map((b) => b >>> 0), [0x40400000, 0x3f800000, 0x3f800000, 0x3f800000]);
  c = sseCpu([0xf3, 0xf2, 0x0f, 0x58, 0xc1], { xmm: { 0: [0x3ff0000000000000n, 0n], 1: [0x4000000000000000n, 0n] } });
  assert.equal(run(c), -1);
  assert.deepEqual(c.getXmm(0), [0x4008000000000000n, 0n]);
});
