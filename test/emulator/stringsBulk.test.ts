// Bulk REP MOVS/STOS (src/emulator/stringsBulk.ts) must be indistinguishable from running
// one iteration at a time: registers, memory, instruction counts, faults and SMC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, runToExit, CODE, SMALL_PAGES, PT, w64, FLAGS } from './cpuKit';
import { CpuExitReason } from '../../src/emulator/vcpu';
import type { Cpu } from '../../src/emulator/cpu';

const REP_MOVSB = [0xf3, 0xa4], REP_MOVSQ = [0xf3, 0x48, 0xa5], REP_STOSB = [0xf3, 0xaa];

function repCpu(code: number[], rsi: number, rdi: number, rcx: number): Cpu {
  const c = makeCpu('long64', [...code, 0xf4]);
  c.setGpr(6, BigInt(rsi)); c.setGpr(7, BigInt(rdi)); c.setGpr(1, BigInt(rcx));
  return c;
}

function bytes(c: Cpu, gpa: number, n: number): Uint8Array {
  const b = new Uint8Array(n); c.mem.read(gpa, b); return b;
}

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

test('page-crossing rep movsq (forward and DF=1) copies every byte and retires one instruction per element', () => {
  for (const down of [false, true]) {
    const n = 1030, src = SMALL_PAGES + 0x0ffc, dst = SMALL_PAGES + 0x5ff4;
    const lowSrc = down ? src - (n - 1) * 8 : src, lowDst = down ? dst - (n - 1) * 8 : dst;
    const c = repCpu(REP_MOVSQ, src, dst, n);
    if (down) c.setRflags(2n | FLAGS.DF);
    const data = pattern(n * 8, 3);
    c.mem.write(lowSrc, data);
    assert.equal(runToExit(c), CpuExitReason.Halt);
    assert.deepEqual(bytes(c, lowDst, n * 8), data);
    assert.equal(bytes(c, lowDst - 1, 1)[0], 0);
    assert.equal(bytes(c, lowDst + n * 8, 1)[0], 0);
    assert.equal(c.getGpr(1), 0n);
    assert.equal(c.getGpr(6), BigInt(down ? src - n * 8 : src + n * 8));
    assert.equal(c.getGpr(7), BigInt(down ? dst - n * 8 : dst + n * 8));
    assert.equal(c.instructionCount, n + 1, 'n iterations and the HLT');
  }
});

test('rep stosb stopped by the budget mid-page leaves exact RCX/RDI, RIP and count, then finishes', () => {
  const start = SMALL_PAGES + 0x100, n = 10000, slice = 2500;
  const c = repCpu(REP_STOSB, 0, start, n);
  c.setGpr(0, 0x5an);
  assert.equal(c.run(slice), CpuExitReason.BudgetExhausted);
  assert.equal(c.instructionCount, slice);
  assert.equal(c.getGpr(1), BigInt(n - slice));
  assert.equal(c.getGpr(7), BigInt(start + slice));
  assert.equal(c.getRip(), BigInt(CODE));
  assert.deepEqual(bytes(c, start, slice), new Uint8Array(slice).fill(0x5a));
  assert.equal(bytes(c, start + slice, 1)[0], 0, 'no byte past the budget is stored');
  assert.equal(c.run(1), CpuExitReason.BudgetExhausted);
  assert.equal(c.getGpr(7), BigInt(start + slice + 1));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.instructionCount, n + 1);
  assert.deepEqual(bytes(c, start, n), new Uint8Array(n).fill(0x5a));
  assert.equal(c.getGpr(1), 0n);
});

test('rep stosq/stosw store the element pattern across pages', () => {
  for (const [op, s, v] of [[[0xf3, 0x48, 0xab], 8, 0x1122334455667788n], [[0xf3, 0x66, 0xab], 2, 0xbeefn]] as const) {
    const n = 1500, start = SMALL_PAGES + 0x7f0 + 1;
    const c = repCpu([...op], 0, start, n);
    c.setGpr(0, v);
    assert.equal(runToExit(c), CpuExitReason.Halt);
    const got = bytes(c, start, n * s);
    for (let i = 0; i < n * s; i++) assert.equal(got[i], Number((v >> BigInt(8 * (i % s))) & 0xffn));
    assert.equal(c.getGpr(7), BigInt(start + n * s));
  }
});

test('a #PF in the middle of rep movsq leaves RCX/RSI/RDI and CR2 of the faulting iteration', () => {
  const src = SMALL_PAGES + 0x8000, dst = SMALL_PAGES + 0x2f00, n = 100;
  const c = repCpu(REP_MOVSQ, src, dst, n);
  w64(c.mem, PT + 3 * 8, 0n);
  c.setExceptionExitBitmap(1 << 14);
  c.mem.write(src, pattern(n * 8, 9));
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 14);
  assert.equal(c.getCr(2), BigInt(SMALL_PAGES + 0x3000));
  const done = 0x100 / 8;
  assert.equal(c.getGpr(1), BigInt(n - done));
  assert.equal(c.getGpr(6), BigInt(src + done * 8));
  assert.equal(c.getGpr(7), BigInt(dst + done * 8));
  assert.equal(c.getRip(), BigInt(CODE));
  assert.equal(c.instructionCount, done);
  assert.deepEqual(bytes(c, dst, 0x100), pattern(0x100, 9));
});

/** Element-by-element MOVS on a byte array, the CPU's order. */
function reference(mem: Uint8Array, src: number, dst: number, s: number, n: number, down: boolean): void {
  for (let i = 0; i < n; i++) {
    const k = down ? -i * s : i * s;
    const v = mem.slice(src + k, src + k + s);
    mem.set(v, dst + k);
  }
}

test('overlapping rep movs (forward and DF=1, every element size) replicates like the CPU', () => {
  const base = SMALL_PAGES + 0x9000, span = 0x3000;
  for (const [code, s] of [[REP_MOVSB, 1], [[0xf3, 0x66, 0xa5], 2], [[0xf3, 0xa5], 4], [REP_MOVSQ, 8]] as const) {
    for (const dist of [-9, -3, -1, 1, 3, 5, 8, 13, 64]) {
      for (const down of [false, true]) {
        const n = 700, src = base + 0x1800 - (down ? 0 : 0x400);
        const c = repCpu([...code], src, src + dist, n);
        if (down) c.setRflags(2n | FLAGS.DF);
        const init = pattern(span, dist & 0xff);
        c.mem.write(base, init);
        assert.equal(runToExit(c), CpuExitReason.Halt);
        const want = init.slice();
        reference(want, src - base, src - base + dist, s, n, down);
        assert.deepEqual(bytes(c, base, span), want, `size ${s} distance ${dist} DF=${down}`);
        assert.equal(c.instructionCount, n + 1);
      }
    }
  }
});

test('rep movsq into a page holding translated code: the new bytes run', () => {
  const target = CODE + 0x1000, jmp = target - (CODE + REP_MOVSQ.length + 5);
  const c = makeCpu('long64', [...REP_MOVSQ, 0xe9, jmp & 0xff, (jmp >> 8) & 0xff, 0, 0]);
  c.jitThreshold = 0;
  const fresh = new Uint8Array(16).fill(0x90);
  fresh.set([0xb0, 0x07, 0xf4]); // mov al,7; hlt
  c.mem.write(target + 0x800, fresh);
  // mov al,[rip+0x7fa] (reads target+0x800, so the page is in the read TLB too); hlt
  c.mem.write(target, Uint8Array.of(0x8a, 0x05, 0xfa, 0x07, 0, 0, 0xf4));
  c.setRip(BigInt(target));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(0) & 0xffn, 0xb0n);
  assert.ok((c.mem.peekPage(target / 4096)?.blocks ?? []).some((b) => b !== undefined), 'the target page holds cached code');
  c.setGpr(6, BigInt(target + 0x800)); c.setGpr(7, BigInt(target)); c.setGpr(1, 2n);
  c.setRip(BigInt(CODE));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(0) & 0xffn, 7n);
});
