// Bulk REP string operations (src/emulator/stringsBulk.ts) must be indistinguishable from
// running one iteration at a time: registers, flags, memory, instruction counts, faults, exits
// and SMC, at every address size and in every mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, runToExit, CODE, SMALL_PAGES, PT, PDPT, w64, FLAGS, type Mode } from './cpuKit';
import { CpuExitReason, Seg } from '../../src/emulator/vcpu';
import { runMultibootGuest } from '../support/guestRunner';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

// ---------------------------------------------------------------------------------------------
// Bulk vs per-iteration, for every op x element size x address size x DF x start case. The
// reference run single-steps with the TLB flushed before every iteration, so bulkChunk always
// misses and each iteration takes the ordinary path (`once`).

type Op = 'movs' | 'cmps' | 'stos' | 'lods' | 'scas';
const OPCODE: Record<Op, number> = { movs: 0xa4, cmps: 0xa6, stos: 0xaa, lods: 0xac, scas: 0xae };

interface Start {
  name: string;
  /** rSI, rDI offsets for DF=0 and DF=1. */
  up: [number, number];
  down: [number, number];
  /** Bytes the REP covers (count = bytes / element size). */
  bytes: number;
  /** Overlapping source and destination: only MOVS and CMPS are run. */
  overlap?: boolean;
}

interface Config {
  name: string;
  mode: Mode;
  as: 2 | 4 | 8;
  sizes: number[];
  /** Source (DS or the override) and ES bases (the kit's segments unless `setup` loads others). */
  bases: [number, number];
  /** Segment-override prefix for the source. */
  override?: number;
  setup?: (c: Cpu) => void;
  /** Guest-physical address of a linear one (identity unless the config maps more). */
  phys?: (lin: number) => number;
  /** Bits above the address size in rSI/rDI/rCX, which the REP must ignore (and keep below 64 bits). */
  junk: bigint;
  starts: Start[];
  /** Every way the cases end: HLT after the REP, or an exit mid-REP. */
  exits: CpuExitReason[];
  /** Guest-physical [start, length) windows holding every byte the cases touch. */
  windows: [number, number][];
}

function seg(base: number, limit: number, attributes: number, selector = 0) {
  return { base: BigInt(base), limit, selector, attributes };
}

/** Straddling (odd offsets) and aligned starts that cross a page boundary in both directions. */
function pageStarts(s: number, d: number): Start[] {
  return [
    { name: 'page-straddle', up: [s + 0x1000 - 0x103, d + 0x1000 - 0x81], down: [s + 0x1000 + 0x103, d + 0x1000 + 0x81], bytes: 0x300 },
    { name: 'page-aligned', up: [s + 0x1000 - 0x100, d + 0x1000 - 0x80], down: [s + 0x1100, d + 0x1080], bytes: 0x300 },
    ...[-3, 1, 5].map((dist) => ({
      name: `overlap ${dist}`, up: [s + 0xf80, s + 0xf80 + dist], down: [s + 0x1080, s + 0x1080 + dist], bytes: 0x200, overlap: true,
    }) as Start),
  ];
}

/** Starts whose offsets wrap at the address size (top = 0xffff or 0xffffffff). */
function wrapStart(top: number): Start {
  return { name: 'offset wrap', up: [top - 0x40, top + 1 - 0x80], down: [0x41, 0x80], bytes: 0x100 };
}

const HI4G = 0xffe00000, HI4G_GPA = 0x600000, ABOVE4G_GPA = 0xa00000;

const CONFIGS: Config[] = [
  {
    name: 'long mode, 64-bit addresses', mode: 'long64', as: 8, sizes: [1, 2, 4, 8], bases: [0, 0], junk: 0n,
    setup: (c) => {
      // An unbacked GPA behind one linear page (MMIO exit mid-REP) and a watchpoint on another.
      w64(c.mem, PT + 6 * 8, 0x3000007n);
      c.setWatchpoints([{ address: BigInt(SMALL_PAGES + 0xa050), size: 1, read: true, write: true, physical: false }]);
    },
    starts: [
      ...pageStarts(SMALL_PAGES + 0x1000, SMALL_PAGES + 0x4000),
      { name: 'MMIO page', up: [SMALL_PAGES + 0x6000 - 0x41, SMALL_PAGES + 0x6000 - 0x80], down: [SMALL_PAGES + 0x7041, SMALL_PAGES + 0x7080], bytes: 0x100 },
      { name: 'watched page', up: [SMALL_PAGES + 0xa000 - 0x41, SMALL_PAGES + 0xa000 - 0x20], down: [SMALL_PAGES + 0xa0c1, SMALL_PAGES + 0xa0a0], bytes: 0x100 },
    ],
    exits: [CpuExitReason.Halt, CpuExitReason.MemoryAccess, CpuExitReason.Watchpoint],
    windows: [[SMALL_PAGES, 0xc000]],
  },
  {
    name: 'long mode, 32-bit addresses (67h), FS-based source', mode: 'long64', as: 4, sizes: [1, 2, 4, 8], bases: [0x800, 0], override: 0x64, junk: 0x5a00000000n,
    setup: (c) => {
      // Linear 0xffe00000-0xffffffff and 4 GiB-4 GiB+2 MiB (2 MiB pages), so ES:EDI offsets can
      // wrap at 4 GiB onto linear 0 and FS:ESI ones (base 0x800, mid-page) onto 0x800.
      w64(c.mem, PDPT + 3 * 8, 0x14007n); w64(c.mem, 0x14000 + 511 * 8, BigInt(HI4G_GPA | 0x87));
      w64(c.mem, PDPT + 4 * 8, 0x15007n); w64(c.mem, 0x15000, BigInt(ABOVE4G_GPA | 0x87));
      c.setSegment(Seg.FS, seg(0x800, 0xffffffff, 0xc093, 0x10));
    },
    phys: (lin) => lin >= 2 ** 32 ? lin - 2 ** 32 + ABOVE4G_GPA : lin >= HI4G ? lin - HI4G + HI4G_GPA : lin,
    starts: [...pageStarts(0x300000, 0x340000), wrapStart(0xffffffff)],
    exits: [CpuExitReason.Halt],
    windows: [[0, 0x1000], [0x300000, 0x3000], [0x340000, 0x3000], [0x7ff000, 0x1000], [ABOVE4G_GPA, 0x1000]],
  },
  {
    name: 'protected mode, 32-bit addresses, flat', mode: 'prot32', as: 4, sizes: [1, 2, 4], bases: [0, 0], junk: 0n,
    starts: pageStarts(0x300000, 0x340000),
    exits: [CpuExitReason.Halt],
    windows: [[0x300000, 0x3000], [0x340000, 0x3000]],
  },
  {
    name: 'protected mode, 32-bit addresses, based segments', mode: 'prot32', as: 4, sizes: [1, 2, 4], bases: [0x400800, 0x500c00], junk: 0n,
    setup: (c) => { c.setSegment(Seg.DS, seg(0x400800, 0xffffffff, 0xc093, 0x10)); c.setSegment(Seg.ES, seg(0x500c00, 0xffffffff, 0xc093, 0x10)); },
    starts: [...pageStarts(0x1000, 0x8000), wrapStart(0xffffffff)],
    exits: [CpuExitReason.Halt, CpuExitReason.Exception],
    windows: [[0x3ff000, 0x4000], [0x4ff000, 0xc000]],
  },
  {
    name: 'protected mode, segment limits (expand-up DS, expand-down ES)', mode: 'prot32', as: 4, sizes: [1, 2, 4], bases: [0x300400, 0x340200], junk: 0n,
    setup: (c) => { c.setSegment(Seg.DS, seg(0x300400, 0x1fff, 0x4093, 0x10)); c.setSegment(Seg.ES, seg(0x340200, 0x0fff, 0x4097, 0x10)); },
    starts: [
      { name: 'DS limit (up), ES expand-down limit (down)', up: [0x2000 - 0x83, 0x1200], down: [0x1f00, 0x1000 + 0x81], bytes: 0x100 },
      { name: 'ES limit from the start (down)', up: [0x1000, 0x1800], down: [0x1800, 0x1000], bytes: 0x100 },
    ],
    exits: [CpuExitReason.Halt, CpuExitReason.Exception],
    windows: [[0x300000, 0x3000], [0x340000, 0x3000]],
  },
  {
    name: 'protected mode, 16-bit addresses (67h)', mode: 'prot32', as: 2, sizes: [1, 2, 4], bases: [0x300800, 0x380400], junk: 0xabcd0000n,
    setup: (c) => { c.setSegment(Seg.DS, seg(0x300800, 0xffffffff, 0xc093, 0x10)); c.setSegment(Seg.ES, seg(0x380400, 0xffffffff, 0xc093, 0x10)); },
    starts: [...pageStarts(0x1000, 0x5000), wrapStart(0xffff)],
    exits: [CpuExitReason.Halt],
    windows: [[0x300000, 0x11000], [0x380000, 0x11000]],
  },
  {
    name: 'real mode, 16-bit addresses', mode: 'real', as: 2, sizes: [1, 2, 4], bases: [0x40010, 0x60020], junk: 0xabcd0000n,
    setup: (c) => { c.setSegment(Seg.DS, seg(0x40010, 0xffff, 0x93, 0x4001)); c.setSegment(Seg.ES, seg(0x60020, 0xffff, 0x93, 0x6002)); },
    starts: [...pageStarts(0x1000, 0x5000), wrapStart(0xffff)],
    exits: [CpuExitReason.Halt, CpuExitReason.Exception],
    windows: [[0x40000, 0x10100], [0x60000, 0x10100]],
  },
  {
    name: 'real mode, 32-bit addresses (67h) against 64 KiB limits', mode: 'real', as: 4, sizes: [1, 2, 4], bases: [0x40010, 0x60020], junk: 0n,
    setup: (c) => { c.setSegment(Seg.DS, seg(0x40010, 0xffff, 0x93, 0x4001)); c.setSegment(Seg.ES, seg(0x60020, 0xffff, 0x93, 0x6002)); },
    starts: [...pageStarts(0x1000, 0x5000).slice(0, 2), { name: 'limit', up: [0xff41, 0xff80], down: [0x41, 0x80], bytes: 0x100 }],
    exits: [CpuExitReason.Halt, CpuExitReason.Exception],
    windows: [[0x40000, 0x10100], [0x60000, 0x10100]],
  },
];

function encode(cfg: Config, op: Op, s: number, rep: number): number[] {
  const code16 = cfg.mode === 'real', natural = cfg.mode === 'long64' ? 8 : code16 ? 2 : 4;
  const out = [rep];
  if (cfg.override !== undefined) out.push(cfg.override);
  if (cfg.as !== natural) out.push(0x67);
  if ((s === 2 && !code16) || (s === 4 && code16)) out.push(0x66);
  if (s === 8) out.push(0x48);
  out.push(OPCODE[op] + (s === 1 ? 0 : 1));
  return out;
}

/** Background byte of a guest-physical address (a hash: no period a wrong address could match). */
const bg = (gpa: number): number => Math.imul(gpa ^ 0x5bd1e995, 0x9e3779b1) >>> 24;

interface Variant { rep: number; fill: 'pattern' | 'same'; plant: boolean }
const VARIANTS: Record<Op, Variant[]> = {
  movs: [{ rep: 0xf3, fill: 'pattern', plant: false }, { rep: 0xf2, fill: 'pattern', plant: false }],
  stos: [{ rep: 0xf3, fill: 'pattern', plant: false }],
  lods: [{ rep: 0xf3, fill: 'pattern', plant: false }],
  // REPE over equal bytes (one different element, or none); REPNE over differing bytes (one equal element, or none).
  cmps: [{ rep: 0xf3, fill: 'same', plant: true }, { rep: 0xf3, fill: 'same', plant: false }, { rep: 0xf2, fill: 'pattern', plant: true }, { rep: 0xf2, fill: 'pattern', plant: false }],
  scas: [{ rep: 0xf3, fill: 'same', plant: true }, { rep: 0xf3, fill: 'same', plant: false }, { rep: 0xf2, fill: 'pattern', plant: true }, { rep: 0xf2, fill: 'pattern', plant: false }],
};

interface Prepared { c: Cpu; count: number }

function prepare(cfg: Config, op: Op, s: number, v: Variant, start: Start, down: boolean): Prepared {
  const c = makeCpu(cfg.mode, [...encode(cfg, op, s, v.rep), 0xf4]);
  cfg.setup?.(c);
  c.setExceptionExitBitmap(0xffffffff);
  if (down) c.setRflags(2n | FLAGS.DF);
  const phys = cfg.phys ?? ((l: number) => l);
  for (const [a, n] of cfg.windows) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = v.fill === 'same' ? 0x41 : bg(a + i);
    c.mem.write(a, b);
  }
  const count = start.bytes / s;
  const [si, d0] = down ? start.down : start.up;
  let di = d0, esBase = cfg.bases[1];
  if (start.overlap) {
    // ES:rDI overlaps the source: ES takes DS's base (long mode ignores ES's, so rDI moves instead).
    if (cfg.mode === 'long64') di += cfg.bases[0] - cfg.bases[1];
    else { c.setSegment(Seg.ES, c.getSegment(Seg.DS)); esBase = cfg.bases[0]; }
  }
  const top = cfg.as === 2 ? 0x10000 : 2 ** 32;
  // The bytes of one element are contiguous in linear space (only offsets wrap).
  const lin = (base: number, off: number, j: number): number => cfg.mode === 'long64' ? base + off + j : (base + off + j) % 2 ** 32;
  // SCAS compares with rAX's distinct bytes, so a scan that mixes up byte order fails.
  const ax = op === 'stos' ? 0x8877665544332211n : op === 'scas' ? 0x4142434445464748n : 0x4141414141414141n;
  const axByte = (j: number): number => Number((ax >> BigInt(8 * j)) & 0xffn);
  const step = down ? -s : s, wrapOff = (o: number): number => ((o % top) + top) % top;
  const poke = (gpa: number, b: number): void => { c.mem.write(gpa, Uint8Array.of(b)); };
  if (op === 'scas' && v.fill === 'same') {
    for (let k = 0; k < count; k++) for (let j = 0; j < s; j++) poke(phys(lin(esBase, wrapOff(di + k * step), j)), axByte(j));
  }
  if (v.plant) {
    // Element M (2/3 of the way) ends the REPE (one byte differs) or REPNE (all bytes equal).
    const m = Math.floor((count * 2) / 3), dOff = wrapOff(di + m * step), sOff = wrapOff(si + m * step);
    for (let j = 0; j < s; j++) {
      let b: number;
      if (op === 'scas') b = v.fill === 'same' && j === s - 1 ? axByte(j) ^ 0xff : axByte(j);
      else if (v.fill === 'same') b = j === s - 1 ? 0x42 : 0x41;
      else { const x = new Uint8Array(1); c.mem.read(phys(lin(cfg.bases[0], sOff, j)), x); b = x[0]; }
      poke(phys(lin(esBase, dOff, j)), b);
    }
  }
  const reg = (i: number, val: number) => c.setGpr(i, cfg.junk | BigInt(val));
  reg(6, si); reg(7, di); reg(1, count);
  c.setGpr(0, ax);
  return { c, count };
}

interface Snap { reason: CpuExitReason; regs: string; mem: Uint8Array }

function snap(cfg: Config, c: Cpu, r: CpuExitReason): Snap {
  const x = c.exit;
  const detail = r === CpuExitReason.Exception ? `vector ${x.exception.vector} code ${x.exception.errorCode} param ${x.exception.parameter.toString(16)}`
    : r === CpuExitReason.MemoryAccess ? `gpa ${x.memory.gpa.toString(16)} gva ${x.memory.gva.toString(16)} type ${x.memory.accessType}`
      : r === CpuExitReason.Watchpoint ? `watch ${x.watch.address.toString(16)} ${x.watch.isWrite}` : '';
  const regs = [`reason ${r} ${detail}`, `icount ${c.instructionCount}`, `rip ${c.getRip().toString(16)}`, `rflags ${c.getRflags().toString(16)}`,
    ...[0, 1, 6, 7].map((i) => `r${i} ${c.getGpr(i).toString(16)}`), `cr2 ${c.getCr(2).toString(16)}`].join('\n');
  const total = cfg.windows.reduce((n, [, l]) => n + l, 0), mem = new Uint8Array(total);
  let at = 0;
  for (const [a, l] of cfg.windows) { c.mem.read(a, mem.subarray(at, at + l)); at += l; }
  return { reason: r, regs, mem };
}

function runBulk(cfg: Config, c: Cpu, cut: number): Snap[] {
  const out: Snap[] = [];
  let r = c.run(cut);
  if (r === CpuExitReason.BudgetExhausted) { out.push(snap(cfg, c, r)); r = c.run(1e6); }
  out.push(snap(cfg, c, r));
  return out;
}

function runPerIteration(cfg: Config, c: Cpu, cut: number): Snap[] {
  const out: Snap[] = [];
  for (let steps = 0; steps < 1e5; steps++) {
    c.flushTlb(true);
    const r = c.run(1);
    if (r !== CpuExitReason.BudgetExhausted) { out.push(snap(cfg, c, r)); return out; }
    if (c.instructionCount === cut) out.push(snap(cfg, c, r));
  }
  throw new Error('per-iteration run did not exit');
}

for (const cfg of CONFIGS) {
  test(`bulk REP string ops equal per-iteration execution: ${cfg.name}`, () => {
    let cases = 0;
    const reasons = new Set<CpuExitReason>();
    for (const op of Object.keys(OPCODE) as Op[]) {
      for (const s of cfg.sizes) {
        for (const start of cfg.starts) {
          if (start.overlap && op !== 'movs' && op !== 'cmps') continue;
          for (const down of [false, true]) {
            for (const v of VARIANTS[op]) {
              const what = `${op} size ${s} ${start.name} DF=${down ? 1 : 0} ${v.rep === 0xf2 ? 'F2' : 'F3'} ${v.fill}${v.plant ? ' planted' : ''}`;
              const a = prepare(cfg, op, s, v, start, down), b = prepare(cfg, op, s, v, start, down);
              const cut = Math.floor(a.count / 2) + 1;
              const bulk = runBulk(cfg, a.c, cut), ref = runPerIteration(cfg, b.c, cut);
              assert.equal(bulk.length, ref.length, `${what}: budget slices`);
              for (let k = 0; k < ref.length; k++) {
                assert.equal(bulk[k].regs, ref[k].regs, `${what}, slice ${k}`);
                if (Buffer.compare(bulk[k].mem, ref[k].mem) !== 0) {
                  assert.fail(`${what}, slice ${k}: memory differs at window byte ${bulk[k].mem.findIndex((x, i) => x !== ref[k].mem[i])}`);
                }
              }
              cases++;
              reasons.add(ref[ref.length - 1].reason);
            }
          }
        }
      }
    }
    assert.ok(cases > 100);
    assert.deepEqual([...reasons].sort(), [...cfg.exits].sort(), 'the exits the cases are built to reach');
  });
}

test('perf-strings guest (memchr/memcpy/memcmp/memset loops in protected mode) prints the checksums QEMU prints', () => {
  const dir = join(__dirname, '../fixtures/guests');
  const r = runMultibootGuest(readFileSync(join(dir, 'perf-strings.bin')), { maxInstructions: 200_000_000 });
  assert.equal(r.serial, readFileSync(join(dir, 'perf-strings.expected'), 'utf8'), `stop: ${r.stop}`);
  assert.equal(r.stop, 'debug-exit');
  assert.equal(r.exitCode, 0x10);
});

test('with TF set, rep movsb traps (#DB) after every iteration with RIP on the REP until the last', () => {
  const n = 3, src = SMALL_PAGES + 0x100, dst = SMALL_PAGES + 0x2000;
  const c = repCpu(REP_MOVSB, src, dst, n);
  c.mem.write(src, pattern(n, 1));
  c.setRflags(2n | FLAGS.TF);
  c.setExceptionExitBitmap(1 << 1);
  for (let k = 1; k <= n; k++) {
    assert.equal(runToExit(c), CpuExitReason.Exception);
    assert.equal(c.exit.exception.vector, 1);
    assert.equal(c.getGpr(1), BigInt(n - k));
    assert.equal(c.getRip(), BigInt(k < n ? CODE : CODE + REP_MOVSB.length));
    assert.equal(c.instructionCount, k);
    c.clearPendingException();
  }
  assert.deepEqual(bytes(c, dst, n), pattern(n, 1));
});

/** rep stosq of 600 qwords from SMALL_PAGES + 0x3e00 with a DR0 write breakpoint on element `at`. */
function stosqWithDr0(at: number): Cpu {
  const n = 600, start = SMALL_PAGES + 0x3e00, hit = start + 8 * at;
  const c = repCpu([0xf3, 0x48, 0xab], 0, start, n);
  c.setDr(0, BigInt(hit)); c.setDr(7, 0x000d0001n); // DR0: write, 4 bytes, enabled
  c.setExceptionExitBitmap(1 << 1);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 1);
  assert.equal(c.getGpr(1), BigInt(n - at - 1));
  assert.equal(c.getGpr(7), BigInt(hit + 8));
  assert.equal(c.getRip(), BigInt(CODE));
  assert.equal(c.instructionCount, at + 1);
  assert.equal(c.getDr(6) & 0xfn, 1n);
  return c;
}

test('a DR0 data breakpoint inside rep stosq traps after the iteration that wrote it', () => {
  stosqWithDr0(64); // the first element in its page
});

test('a DR0 data breakpoint mid-page inside rep stosq traps after the iteration that wrote it', () => {
  stosqWithDr0(500);
});
