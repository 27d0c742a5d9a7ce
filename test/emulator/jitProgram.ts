// Random 64-bit programs (and, for 3 in 10 seeds, flat 32-bit protected-mode ones) for the
// translator-vs-interpreter differential test (jitDiff.test.ts) and the 'jit' fuzzer. A program is a set of code segments — main (ends in HLT), functions
// (end in RET or a tail JMP), and chunks (reached by a JMP, jump back) — laid out at random
// offsets over 2-3 code pages, so calls, jumps, fall-throughs and returns go within a page
// and across pages, and some segments (and instructions) straddle a page boundary. Blocks hold
// the forms the translator specialises (ALU incl. ADC/SBB, TEST/INC/DEC/NEG/NOT/MOV/MOVZX/MOVSX/
// MOVSXD/LEA/XCHG/SETcc/CMOVcc/shifts/IMUL/PUSH/POP/Jcc/JMP/CALL/RET, at 8/16/32/64 bits, AH-BH
// included) and some it does not (RCL/RCR, PUSHFQ/POPFQ, shifts by CL, 67h addressing, BT,
// BSWAP, XADD, indirect JMP/CALL...).
//
// Termination: backward branches only close loops on a counter register (saved around nested
// loops) that nothing else writes; calls only go to higher-numbered functions. Memory operands
// address a data area through a base and an index register that nothing writes (or RIP-relative,
// absolute, FS/GS-relative with a wrapping GS base), often straddling its 4 KiB page boundary.
// Self-modifying stores patch immediates of ordinary instructions (never a branch or a loop
// counter), so every variant of the code still terminates. An optional fault (#PF on an
// unmapped or read-only page, a store straddling into the unmapped page, #GP from a
// non-canonical address or jump target, #UD, #DE) ends some programs with an exception exit.
// Some data operands are MMIO (memory-access exits the runner completes). Instructions are
// encoded by iced-x86; everything derives from the seed.

import { Code, Decoder, DecoderOptions, Encoder, Formatter, FormatterSyntax, Instruction, MemoryOperand, Register } from 'iced-x86';
import { Rng } from '../reliability/fuzzKit';

/** Guest-linear (= physical) layout; jitLockstep.ts maps it with 4 KiB pages. */
export const CODE = 0x200000;
export const DATA = 0x204000, DATA_SIZE = 0x2000;
/** Not present (a fall-off guard follows the code pages too). */
export const UNMAPPED = 0x206000;
/** Present, read-only. */
export const READONLY = 0x207000;
export const STACK = 0x208000, STACK_SIZE = 0x2000;
/** Mapped to a guest-physical address outside RAM: accesses exit to the VMM (MMIO). */
export const MMIO = 0x20c000;
export const PAGE = 0x1000;

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const RSP = 4;
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
/** Flags a program may load with POPFQ (never TF/NT/RF/VM). */
const POPF_MASK = 0xcd5 | 0x200 | 0x40000;

export interface JitProgram {
  seed: number;
  /** 64: long mode; 32: flat 32-bit protected mode (paged). */
  bits: 64 | 32;
  /** Runs at CPL 3 (64-bit only): user pages, CR0.AM (so a POPFQ that sets AC makes misaligned accesses #AC), HLT is #GP. */
  user: boolean;
  codePages: 2 | 3;
  /** codePages * 4096 bytes at CODE (gaps are INT3). */
  code: Uint8Array;
  entry: number;
  gprs: bigint[];
  rflags: bigint;
  fsBase: bigint;
  gsBase: bigint;
  /** Initial bytes of the data pages and of the read-only page. */
  data: Uint8Array;
  readonly: Uint8Array;
  /** Label addresses (for the listing). */
  labels: Map<number, string[]>;
  segments: { name: string; start: number; length: number }[];
  /** What the program contains (counted into the fuzzer's notes). */
  stats: { loops: number; calls: number; smc: number; crossPageBranches: number; straddling: number; fault: string };
}

type Resolve = (label: string) => number;
interface Ins { t: 'ins'; make: (at: Resolve) => Instruction; len: number; imm?: { off: number; size: number }; label?: string }
interface Br { t: 'br'; kind: 'jmp' | 'call' | number; target: string; long: boolean }
interface Label { t: 'label'; name: string }
type Item = Ins | Br | Label;
interface Part { items: Item[]; cost: number }
interface Ctx { fn: number; depth: number }

const codeCache = new Map<string, Code>();
/** iced-x86 Code by name (e.g. `Add_rm32_imm8`), mapped to 32-bit mode when generating for it. */
function C(form: string): Code {
  const name = formName(form);
  let c = codeCache.get(name);
  if (c === undefined) {
    c = (Code as unknown as Record<string, Code | undefined>)[name];
    if (c === undefined) throw new Error(`iced-x86 has no Code.${name}`);
    codeCache.set(name, c);
  }
  return c;
}

/**
 * 32-bit (flat protected mode) generation in progress: 64-bit forms, registers and RIP-relative
 * operands turn into their 32-bit counterparts (set by generateJitProgram around one program).
 */
let mode32 = false;

/** Register of index i (0-15; 16-19 are AH, CH, DH, BH) at `size` bits (64 means the address width in 32-bit mode). */
function reg(i: number, size: number): Register {
  if (size === 8) return i >= 16 ? Register.AH + (i - 16) : i < 4 ? Register.AL + i : Register.SPL + (i - 4);
  return (size === 16 ? Register.AX : size === 32 || mode32 ? Register.EAX : Register.RAX) + i;
}

/** The 32-bit mode counterpart of a 64-bit mode form name (Add_rm64_r64 -> Add_rm32_r32, Pushq -> Pushd, ...). */
function formName(name: string): string {
  if (!mode32) return name;
  return name.replace(/_rm64/g, '_rm32').replace(/_r64/g, '_r32').replace(/^Pushq_/, 'Pushd_').replace(/^RAX_|_RAX_/, (m) => m.replace('RAX', 'EAX'))
    .replace(/_imm64$/, '_imm32').replace(/^Pushfq$/, 'Pushfd').replace(/^Popfq$/, 'Popfd').replace(/^Retnq$/, 'Retnd').replace(/_64$/, '_32');
}

const immSuffix = (s: number): string => (s === 64 ? 'imm32' : `imm${s}`);

/** 64-bit values near the boundaries where carries and sign extension go wrong. */
const INTERESTING = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0xffffffff80000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x00000000fffffffen];

function interesting64(r: Rng): bigint {
  switch (r.int(4)) {
    case 0: return r.pick(INTERESTING);
    case 1: return BigInt.asUintN(64, r.pick(INTERESTING) + BigInt(r.int(5)) - 2n);
    case 2: return BigInt(r.u32());
    default: return r.u64();
  }
}

/** A signed immediate of `bits` bits, biased to 0, ±1 and the extremes. */
function imm(r: Rng, bits: number): number {
  const half = 2 ** (bits - 1);
  switch (r.int(7)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return -1;
    case 3: return half - 1;
    case 4: return -half;
    default: return r.int(2 * half) - half;
  }
}

/** One memory operand: rebuilt for each encoding (RIP-relative ones depend on the address). */
interface Mem { base: Register; index: Register; scale: number; disp: bigint; seg: Register; rip?: boolean; a32?: boolean; at?: (at: Resolve) => number }

function memOp(m: Mem, at: Resolve): MemoryOperand {
  if (m.rip) {
    const target = m.at ? BigInt(m.at(at)) : m.disp;
    // 32-bit mode has no RIP-relative form: the absolute address instead.
    return mode32 ? new MemoryOperand(Register.None, Register.None, 1, target, 4, false, m.seg) : new MemoryOperand(Register.RIP, Register.None, 1, target, 8, false, m.seg);
  }
  const d = m.at ? BigInt(m.at(at)) + m.disp : m.disp;
  // iced-x86 takes 8 as the size of a 64-bit mode disp32 (sign-extended), 4 for 32-bit addressing (67h).
  const wide = m.a32 || mode32 ? 4 : 8;
  const size = m.base === Register.None ? wide : d === 0n ? 0 : d >= -128n && d < 128n ? 1 : wide;
  return new MemoryOperand(m.base, m.index, m.scale, d, size, false, m.seg);
}

type Op = { r: Register } | { m: Mem } | { i: number } | { q: bigint };

/** Instruction.create* by operand kinds (a MemoryOperand passed to iced-x86 is consumed by it). */
function create(code: Code, ops: Op[], at: Resolve): Instruction {
  const args: unknown[] = [];
  let sig = '';
  for (const o of ops) {
    if ('r' in o) { sig += 'Reg'; args.push(o.r); } else if ('m' in o) { sig += 'Mem'; args.push(memOp(o.m, at)); } else if ('i' in o) { sig += 'I32'; args.push(o.i); } else { sig += 'U64'; args.push(o.q); }
  }
  return (Instruction as any)[`create${sig}`](code, ...args);
}

class Gen {
  readonly enc = new Encoder(mode32 ? 32 : 64);
  readonly segments: { name: string; items: Item[] }[] = [];
  readonly patchable: Ins[] = [];
  readonly smcTargets: { target?: Ins; k: number }[] = [];
  readonly stats = { loops: 0, calls: 0, smc: 0, crossPageBranches: 0, straddling: 0, fault: 'none' };
  private nextLabel = 0;
  /** Reserved registers: data base, index, loop counter (never written by random instructions). */
  readonly base: number; readonly index: number; readonly ctr: number;
  readonly free: number[];
  readonly baseVal: number; readonly indexVal: number;
  readonly fsBase: bigint; readonly gsBase: bigint;
  funcs = 0;
  faultLeft: boolean;

  /** General registers of the mode (8 in 32-bit mode). */
  readonly regs: number;

  constructor(readonly r: Rng) {
    this.regs = mode32 ? 8 : 16;
    const pool = mode32 ? [5, 6, 7] : [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const take = (): number => pool.splice(r.int(pool.length), 1)[0];
    this.base = take(); this.index = take(); this.ctr = take();
    this.free = [0, 1, 2, 3, ...pool];
    this.baseVal = DATA + r.int(DATA_SIZE);
    this.indexVal = r.int(0x100);
    this.fsBase = BigInt(r.int(0x3000));
    this.gsBase = (mode32 ? 2n ** 32n : 2n ** 64n) - BigInt(PAGE * (1 + r.int(4)));
    this.faultLeft = r.bool(0.25);
  }

  label(): string { return `L${this.nextLabel++}`; }

  /** Trial-encodes an instruction (its length and immediate do not depend on its address); null if iced refuses it. */
  ins(make: (at: Resolve) => Instruction, patchable = false): Ins | null {
    let instr: Instruction;
    try { instr = make(() => CODE); } catch { return null; }
    try {
      const len = this.enc.encode(instr, BigInt(CODE));
      this.enc.takeBuffer();
      const item: Ins = { t: 'ins', make, len };
      if (patchable) {
        const co = this.enc.getConstantOffsets();
        if (co.hasImmediate) { item.imm = { off: co.immediateOffset, size: co.immediateSize }; item.label = this.label(); this.patchable.push(item); }
        co.free();
      }
      return item;
    } catch {
      this.enc.takeBuffer();
      return null;
    } finally {
      instr.free();
    }
  }

  op(code: string, ops: Op[], patchable = false): Ins | null {
    const c = C(code);
    return this.ins((at) => create(c, ops, at), patchable);
  }

  must(code: string, ops: Op[]): Ins {
    const i = this.op(code, ops);
    if (!i) throw new Error(`jitProgram: iced refused ${code}`);
    return i;
  }

  // ---- operands ----
  dst(size: number): number {
    const r = this.r;
    if (size === 8 && r.bool(0.25)) return 16 + r.int(4);
    return r.pick(this.free);
  }

  src(size: number): number {
    const r = this.r;
    if (size === 8 && (r.bool(0.2) || (mode32 && r.bool(0.5)))) return 16 + r.int(4);
    return r.int(size === 8 && mode32 ? 4 : this.regs);
  }

  /** A data address for a `size`-byte access: often straddling the data area's page boundary. */
  dataAddr(size: number): number {
    const r = this.r, x = r.int(100);
    if (x < 30 && size > 1) return DATA + PAGE - 1 - r.int(size - 1);
    if (x < 65) return DATA + PAGE - 0x40 + r.int(0x80 - size);
    return DATA + r.int(DATA_SIZE - size + 1);
  }

  /** Some addressing form reaching linear address `target` (or a label-relative address). */
  mem(target: number, at?: (at: Resolve) => number): Mem {
    const r = this.r;
    const segPick = at ? 0 : r.int(10);
    const seg = segPick === 8 ? Register.FS : segPick === 9 ? Register.GS : Register.None;
    const wrap = mode32 ? 2n ** 32n : 2n ** 64n;
    const off = seg === Register.FS ? BigInt(target) - this.fsBase : seg === Register.GS ? BigInt(target) - this.gsBase + wrap : BigInt(target);
    const f = mode32 ? r.int(88) : r.int(100); // (32-bit mode: no 67h form, 16-bit addressing is not generated)
    const base64 = reg(this.base, 64), index64 = reg(this.index, 64);
    const scale = r.pick([1, 2, 4, 8]);
    const ix = BigInt(this.indexVal * scale);
    if (f < 40) return { base: base64, index: Register.None, scale: 1, disp: off - BigInt(this.baseVal), seg, at };
    if (f < 58) {
      if (scale === 1 && r.bool(0.5)) return { base: index64, index: base64, scale: 1, disp: off - BigInt(this.baseVal) - ix, seg, at };
      return { base: base64, index: index64, scale, disp: off - BigInt(this.baseVal) - ix, seg, at };
    }
    if (f < 66) return { base: Register.None, index: index64, scale, disp: off - ix, seg, at };
    if (f < 80) return { base: Register.None, index: Register.None, scale: 1, disp: off, seg, rip: true, at };
    if (f < 88) return { base: Register.None, index: Register.None, scale: 1, disp: off, seg, a32: r.bool(0.3), at };
    // 32-bit address size (67h): the offset wraps at 4 GiB, then the segment base is added.
    const b32 = Register.EAX + this.base, i32 = Register.EAX + this.index;
    const withIndex = r.bool(0.5);
    return { base: b32, index: withIndex ? i32 : Register.None, scale: withIndex ? scale : 1, disp: BigInt.asIntN(32, off - BigInt(this.baseVal) - (withIndex ? ix : 0n)), seg, a32: true, at };
  }

  dataMem(size: number): Mem { return this.r.bool(0.03) ? this.mem(MMIO + this.r.int(PAGE - size + 1)) : this.mem(this.dataAddr(size)); }

  /** A read-only operand: data, the read-only page, or the stack above RSP. */
  readMem(size: number): Mem {
    const r = this.r, x = r.int(100);
    if (x < 6) return this.mem(READONLY + r.int(PAGE - size + 1));
    if (x < 12) return { base: reg(RSP, 64), index: Register.None, scale: 1, disp: BigInt(r.int(0x40)), seg: Register.None };
    return this.dataMem(size);
  }

  leaMem(): Mem {
    const r = this.r;
    const a32 = !mode32 && r.bool(0.25);
    const anyReg = (): Register => reg(r.int(this.regs), a32 ? 32 : 64);
    const idx = (): Register => { for (;;) { const i = r.int(this.regs); if (i !== RSP) return reg(i, a32 ? 32 : 64); } };
    if (!a32 && r.bool(0.1)) return { base: Register.None, index: Register.None, scale: 1, disp: BigInt(CODE + r.int(0x3000)), seg: Register.None, rip: true };
    const base = r.bool(0.85) ? anyReg() : Register.None;
    const index = r.bool(0.6) ? idx() : Register.None;
    const dk = r.int(4);
    const disp = dk === 0 ? 0 : dk === 1 ? r.int(256) - 128 : dk === 2 ? imm(r, 32) : r.u32() | 0;
    return { base, index, scale: index === Register.None ? 1 : r.pick([1, 2, 4, 8]), disp: BigInt(disp), seg: Register.None, a32 };
  }

  // ---- plain instructions ----
  private readonly plainKinds: [number, () => Ins | null][] = [
    [30, () => this.alu()], [5, () => this.test()], [6, () => this.incDec()], [14, () => this.mov()], [6, () => this.movx()],
    [6, () => this.lea()], [10, () => this.shift()], [5, () => this.imul()], [3, () => this.setcc()], [3, () => this.cmov()],
    [4, () => this.misc()],
  ];
  private readonly plainTotal = this.plainKinds.reduce((s, [w]) => s + w, 0);

  plain(): Ins {
    for (;;) {
      let x = this.r.int(this.plainTotal);
      for (const [w, f] of this.plainKinds) {
        if (x < w) { const i = f(); if (i) return i; break; }
        x -= w;
      }
    }
  }

  size(): number { return this.r.pick(mode32 ? [8, 16, 32, 32, 32] : [8, 16, 32, 32, 64, 64, 64]); }

  alu(): Ins | null {
    const r = this.r;
    const op = r.pick(['Add', 'Add', 'Sub', 'Sub', 'And', 'Or', 'Xor', 'Cmp', 'Cmp', 'Adc', 'Sbb']);
    const s = this.size();
    const write = op !== 'Cmp';
    switch (r.int(6)) {
      case 0: return this.op(`${op}_rm${s}_r${s}`, [{ r: reg(this.dst(s), s) }, { r: reg(this.src(s), s) }]);
      case 1: return this.op(`${op}_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, { m: this.readMem(s / 8) }]);
      case 2: return this.op(`${op}_rm${s}_r${s}`, [{ m: write ? this.dataMem(s / 8) : this.readMem(s / 8) }, { r: reg(this.src(s), s) }]);
      case 3: return this.op(`${op}_rm${s}_${immSuffix(s)}`, [{ m: write ? this.dataMem(s / 8) : this.readMem(s / 8) }, { i: imm(r, Math.min(s, 32)) }], true);
      case 4: {
        if (s > 8 && r.bool(0.4)) return this.op(`${op}_rm${s}_imm8`, [{ r: reg(this.dst(s), s) }, { i: imm(r, 8) }], true);
        return this.op(`${op}_rm${s}_${immSuffix(s)}`, [{ r: reg(this.dst(s), s) }, { i: imm(r, Math.min(s, 32)) }], true);
      }
      default: {
        const acc = { 8: 'AL_imm8', 16: 'AX_imm16', 32: 'EAX_imm32', 64: 'RAX_imm32' }[s]!;
        return this.op(`${op}_${acc}`, [{ r: reg(0, s) }, { i: imm(r, Math.min(s, 32)) }], true);
      }
    }
  }

  test(): Ins | null {
    const r = this.r, s = this.size();
    switch (r.int(3)) {
      case 0: return this.op(`Test_rm${s}_r${s}`, [r.bool(0.7) ? { r: reg(this.src(s), s) } : { m: this.readMem(s / 8) }, { r: reg(this.src(s), s) }]);
      case 1: return this.op(`Test_rm${s}_${immSuffix(s)}`, [r.bool(0.7) ? { r: reg(this.src(s), s) } : { m: this.readMem(s / 8) }, { i: imm(r, Math.min(s, 32)) }], true);
      default: return this.op(`Test_${{ 8: 'AL_imm8', 16: 'AX_imm16', 32: 'EAX_imm32', 64: 'RAX_imm32' }[s]}`, [{ r: reg(0, s) }, { i: imm(r, Math.min(s, 32)) }], true);
    }
  }

  incDec(): Ins | null {
    const s = this.size(), op = this.r.pick(['Inc', 'Dec']);
    return this.op(`${op}_rm${s}`, [this.r.bool(0.75) ? { r: reg(this.dst(s), s) } : { m: this.dataMem(s / 8) }]);
  }

  mov(): Ins | null {
    const r = this.r, s = this.size();
    switch (r.int(6)) {
      case 0: return this.op(`Mov_rm${s}_r${s}`, [{ r: reg(this.dst(s), s) }, { r: reg(this.src(s), s) }]);
      case 1: return this.op(`Mov_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, { m: this.readMem(s / 8) }]);
      case 2: return this.op(`Mov_rm${s}_r${s}`, [{ m: this.dataMem(s / 8) }, { r: reg(this.src(s), s) }]);
      case 3: return this.op(`Mov_rm${s}_${immSuffix(s)}`, [r.bool(0.5) ? { m: this.dataMem(s / 8) } : { r: reg(this.dst(s), s) }, { i: imm(r, Math.min(s, 32)) }], true);
      case 4: return s === 64 && !mode32 ? this.op('Mov_r64_imm64', [{ r: reg(this.dst(64), 64) }, { q: interesting64(r) }], true)
        : this.op(`Mov_r${s}_imm${s}`, [{ r: reg(this.dst(s), s) }, { i: imm(r, s) }], true);
      default: return this.op(`Mov_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, { r: reg(this.src(s), s) }]);
    }
  }

  movx(): Ins | null {
    const r = this.r;
    const [code, ds, ss] = r.pick([['Movzx', 16, 8], ['Movzx', 32, 8], ['Movzx', 64, 8], ['Movzx', 32, 16], ['Movzx', 64, 16], ['Movsx', 16, 8],
      ['Movsx', 32, 8], ['Movsx', 64, 8], ['Movsx', 32, 16], ['Movsx', 64, 16], ['Movsxd', 64, 32], ['Movsxd', 64, 32], ['Movsxd', 32, 32]] as const);
    return this.op(`${code}_r${ds}_rm${ss}`, [{ r: reg(this.dst(ds), ds) }, r.bool(0.6) ? { r: reg(this.src(ss), ss) } : { m: this.readMem(ss / 8) }]);
  }

  lea(): Ins | null {
    const s = this.r.pick([16, 32, 64, 64]);
    return this.op(`Lea_r${s}_m`, [{ r: reg(this.dst(s), s) }, { m: this.leaMem() }]);
  }

  shift(): Ins | null {
    const r = this.r;
    const op = r.pick(['Shl', 'Shl', 'Shr', 'Shr', 'Sar', 'Sar', 'Rol', 'Ror', 'Sal', 'Rcl', 'Rcr']);
    const s = r.pick([8, 16, 32, 32, 64, 64]);
    const dst: Op = r.bool(0.85) ? { r: reg(this.dst(s), s) } : { m: this.dataMem(s / 8) };
    const k = r.int(10);
    if (k < 2) return this.op(`${op}_rm${s}_1`, [dst, { i: 1 }]);
    if (k < 3) return this.op(`${op}_rm${s}_CL`, [dst, { r: Register.CL }]);
    const count = r.pick([0, 1, s - 1, s, 31, 32, 33, 63, r.int(64), r.int(s), r.int(256)]) & 0xff;
    return this.op(`${op}_rm${s}_imm8`, [dst, { i: count > 127 ? count - 256 : count }], true);
  }

  imul(): Ins | null {
    const r = this.r, s = r.pick([16, 32, 32, 64, 64]);
    const src: Op = r.bool(0.7) ? { r: reg(this.src(s), s) } : { m: this.readMem(s / 8) };
    switch (r.int(4)) {
      case 0: return this.op(`Imul_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, src]);
      case 1: return this.op(`Imul_r${s}_rm${s}_imm8`, [{ r: reg(this.dst(s), s) }, src, { i: imm(r, 8) }], true);
      case 2: return this.op(`Imul_r${s}_rm${s}_${immSuffix(s)}`, [{ r: reg(this.dst(s), s) }, src, { i: imm(r, Math.min(s, 32)) }], true);
      default: return this.op(`Imul_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, { r: reg(this.src(s), s) }]);
    }
  }

  setcc(): Ins | null {
    return this.op(`Set${this.r.pick(CC)}_rm8`, [this.r.bool(0.7) ? { r: reg(this.dst(8), 8) } : { m: this.dataMem(1) }]);
  }

  cmov(): Ins | null {
    const s = this.r.pick([16, 32, 64]);
    return this.op(`Cmov${this.r.pick(CC)}_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, this.r.bool(0.7) ? { r: reg(this.src(s), s) } : { m: this.readMem(s / 8) }]);
  }

  /** Miscellaneous forms (NEG/NOT/XCHG are translated inline; the rest take the interpreter's handler). */
  misc(): Ins | null {
    const r = this.r, s = this.size();
    switch (r.int(8)) {
      case 0: return this.op(`Neg_rm${s}`, [{ r: reg(this.dst(s), s) }]);
      case 1: return this.op(`Not_rm${s}`, [r.bool(0.7) ? { r: reg(this.dst(s), s) } : { m: this.dataMem(s / 8) }]);
      case 2: return this.op(`Xchg_rm${s}_r${s}`, [r.bool(0.6) ? { r: reg(this.dst(s), s) } : { m: this.dataMem(s / 8) }, { r: reg(this.dst(s), s) }]);
      case 3: return s >= 32 ? this.op(`Bt_rm${s}_imm8`, [{ r: reg(this.src(s), s) }, { i: r.int(64) }]) : null;
      case 4: return this.op(r.pick(['Cdqe', 'Cqo', 'Cdq', 'Cwde', 'Cbw']), []);
      case 5: return s >= 32 ? this.op(`Bswap_r${s}`, [{ r: reg(this.dst(s), s) }]) : null;
      case 6: return this.op('Nopd', []);
      default: return this.op(`Xadd_rm${s}_r${s}`, [{ r: reg(this.dst(s), s) }, { r: reg(this.dst(s), s) }]);
    }
  }

  // ---- constructs ----
  br(kind: 'jmp' | 'call' | number, target: string, long = this.r.bool(0.3)): Br { return { t: 'br', kind, target, long: kind === 'call' || long }; }

  body(ctx: Ctx, n: number): Part {
    const items: Item[] = [];
    let cost = 0;
    const r = this.r;
    for (let i = 0; i < n; i++) {
      const x = r.int(100);
      let p: Part;
      if (x < 62) p = { items: [this.plain()], cost: 1 };
      else if (x < 68 && ctx.depth < 3) p = this.loop(ctx);
      else if (x < 75 && ctx.depth < 4) p = this.branch(ctx);
      else if (x < (ctx.depth > 0 ? 84 : 80) && ctx.fn + 1 < this.funcs) p = this.call(ctx);
      else if (x < 83 && ctx.depth < 3) p = this.chunk(ctx);
      else if (x < 87 && ctx.depth < 4) p = this.pushPop(ctx);
      else if (x < 90) p = this.flags();
      else if (x < 93) p = this.smc();
      else if (x < 95) p = this.stackRead();
      else if (x < 96 && this.faultLeft) p = this.fault();
      else if (x < 97 && ctx.depth < 2) p = this.straight();
      else if (x < 99) p = this.string();
      else p = { items: [this.plain()], cost: 1 };
      items.push(...p.items);
      cost += p.cost;
    }
    return { items, cost };
  }

  loop(ctx: Ctx): Part {
    const r = this.r;
    this.stats.loops++;
    const inner = this.body({ ...ctx, depth: ctx.depth + 1 }, 1 + r.int(r.bool(0.5) ? 4 : 10));
    const most = Math.max(1, Math.min(12, Math.floor(800 / Math.max(1, inner.cost))));
    // Now and then a long-running small loop (hot enough for the region tier at thresholds 1-3).
    const n = inner.cost <= 4 && r.bool(0.15) ? 100 + r.int(300) : r.bool(0.1) ? 1 : Math.min(most, 2 + r.int(most));
    const c = this.ctr, cs = r.pick([16, 32, 64]);
    const L = this.label(), E = this.label();
    const items: Item[] = [];
    const save = ctx.depth > 0 || ctx.fn >= 0 || r.bool(0.3);
    if (save) items.push(this.must('Push_r64', [{ r: reg(c, 64) }]));
    items.push(this.must('Mov_r32_imm32', [{ r: reg(c, 32) }, { i: n }]));
    items.push({ t: 'label', name: L });
    switch (r.int(5)) {
      case 0: // top-tested: backward JMP, forward JE out
        items.push(r.bool(0.5) ? this.must(`Test_rm${cs}_r${cs}`, [{ r: reg(c, cs) }, { r: reg(c, cs) }]) : this.must(`Cmp_rm${cs}_imm8`, [{ r: reg(c, cs) }, { i: 0 }]));
        items.push(this.br(4, E), ...inner.items, this.must(`Dec_rm${cs}`, [{ r: reg(c, cs) }]), this.br('jmp', L), { t: 'label', name: E });
        break;
      case 1: items.push(...inner.items, this.must(`Sub_rm${cs}_imm8`, [{ r: reg(c, cs) }, { i: 1 }]), this.br(7, L)); break; // ja
      case 2: items.push(...inner.items, this.must(`Dec_rm${cs}`, [{ r: reg(c, cs) }]), this.br(15, L)); break; // jg
      default: items.push(...inner.items, this.must(`Dec_rm${cs}`, [{ r: reg(c, cs) }]), this.br(5, L)); // jne
    }
    if (save) items.push(this.must('Pop_r64', [{ r: reg(c, 64) }]));
    return { items, cost: n * (inner.cost + 3) + 4 };
  }

  branch(ctx: Ctx): Part {
    const r = this.r, inner = { ...ctx, depth: ctx.depth + 1 };
    const skip = this.label();
    const cc = r.int(16);
    switch (r.int(7)) {
      case 0: { // if/else
        const a = this.body(inner, 1 + r.int(5)), b = this.body(inner, 1 + r.int(5)), end = this.label();
        return { items: [this.br(cc, skip), ...a.items, this.br('jmp', end), { t: 'label', name: skip }, ...b.items, { t: 'label', name: end }], cost: a.cost + b.cost + 2 };
      }
      case 1: { // unconditional jump over dead code
        const dead = this.body({ ...inner, depth: 9 }, 1 + r.int(3));
        return { items: [this.br('jmp', skip), ...dead.items, { t: 'label', name: skip }], cost: 1 };
      }
      case 2: { // indirect jump (generic path) to the next label
        const t = r.pick(this.free);
        const lea = this.must('Lea_r64_m', [{ r: reg(t, 64) }, { m: { base: Register.None, index: Register.None, scale: 1, disp: 0n, seg: Register.None, rip: true, at: (at) => at(skip) } }]);
        const dead = this.body({ ...inner, depth: 9 }, r.int(2));
        return { items: [lea, this.must('Jmp_rm64', [{ r: reg(t, 64) }]), ...dead.items, { t: 'label', name: skip }], cost: 2 };
      }
      case 3: { // RET to a pushed address that is no call's return site
        const t = r.pick(this.free);
        const lea = this.must('Lea_r64_m', [{ r: reg(t, 64) }, { m: { base: Register.None, index: Register.None, scale: 1, disp: 0n, seg: Register.None, rip: true, at: (at) => at(skip) } }]);
        const dead = this.body({ ...inner, depth: 9 }, r.int(2));
        return { items: [lea, this.must('Push_r64', [{ r: reg(t, 64) }]), this.must('Retnq', []), ...dead.items, { t: 'label', name: skip }], cost: 3 };
      }
      default: {
        const a = this.body(inner, 1 + r.int(6));
        return { items: [this.br(cc, skip), ...a.items, { t: 'label', name: skip }], cost: a.cost + 1 };
      }
    }
  }

  readonly funcCost: number[] = [];

  call(ctx: Ctx): Part {
    const r = this.r;
    const f = ctx.fn + 1 + r.int(this.funcs - ctx.fn - 1);
    this.stats.calls++;
    if (r.bool(0.2)) { // indirect: lea reg, [rip+f]; call reg (or through a pointer stored in the data area)
      const t = r.pick(this.free);
      const lea = this.must('Lea_r64_m', [{ r: reg(t, 64) }, { m: { base: Register.None, index: Register.None, scale: 1, disp: 0n, seg: Register.None, rip: true, at: (at) => at(`f${f}`) } }]);
      if (r.bool(0.5)) return { items: [lea, this.must('Call_rm64', [{ r: reg(t, 64) }])], cost: this.funcCost[f] + 2 };
      const slot = this.dataAddr(8);
      const store = this.op('Mov_rm64_r64', [{ m: this.mem(slot) }, { r: reg(t, 64) }]), call = this.op('Call_rm64', [{ m: this.mem(slot) }]);
      if (store && call) return { items: [lea, store, call], cost: this.funcCost[f] + 3 };
    }
    const items: Item[] = [this.br('call', `f${f}`)];
    // Often the caller consumes the flags the callee left (they cross the RET).
    if (r.bool(0.4)) items.push(this.flagReader());
    return { items, cost: this.funcCost[f] + 2 };
  }

  /** An instruction that reads the arithmetic flags. */
  flagReader(): Item {
    const r = this.r;
    switch (r.int(4)) {
      case 0: return this.setcc() ?? this.plain();
      case 1: return this.cmov() ?? this.plain();
      case 2: { const s = r.pick([8, 32, 64]); return this.op(`${r.pick(['Adc', 'Sbb'])}_rm${s}_r${s}`, [{ r: reg(this.dst(s), s) }, { r: reg(this.src(s), s) }]) ?? this.plain(); }
      default: return this.shift() ?? this.plain();
    }
  }

  /** An instruction that writes the arithmetic flags. */
  flagWriter(): Ins {
    for (;;) {
      const i = this.r.pick([() => this.alu(), () => this.test(), () => this.incDec(), () => this.shift()])();
      if (i) return i;
    }
  }

  /** Raw bytes as one instruction (iced-x86 decodes them, so the listing and lengths stay exact). */
  raw(bytes: number[]): Ins | null {
    return this.ins(() => {
      const d = new Decoder(mode32 ? 32 : 64, Uint8Array.from(bytes), DecoderOptions.None);
      try { return d.decode(); } finally { d.free(); }
    });
  }

  /**
   * A string instruction (MOVS/STOS/LODS/CMPS/SCAS, REP/REPE/REPNE or single) over the data
   * area — a few times through MMIO — with RSI/RDI/RCX saved around it. A REP iteration
   * counts as one instruction, so budget slices end inside it.
   */
  string(): Part {
    const r = this.r;
    const size = r.pick(mode32 ? [1, 2, 4] : [1, 2, 4, 8]);
    const [op, rep] = r.pick([[0xa4, 0xf3], [0xaa, 0xf3], [0xac, r.bool(0.5) ? 0xf3 : 0], [0xa6, r.pick([0xf3, 0xf2])], [0xae, r.pick([0xf3, 0xf2])], [0xa4, 0]] as const);
    const mmio = r.bool(0.05);
    const n = mmio ? 1 + r.int(4) : r.int(r.bool(0.2) ? 0x700 / size : 24);
    // Both directions stay inside the data area (DF may be set).
    const src = mmio ? MMIO + 0x800 + r.int(0x100) : DATA + 0x800 + r.int(0x1000), dst = DATA + 0x800 + r.int(0x1000);
    const bytes = [...(rep ? [rep] : []), ...(size === 2 ? [0x66] : size === 8 ? [0x48] : []), size === 1 ? op : op + 1];
    const saved = [6, 7, 1];
    const str = this.raw(bytes);
    if (!str) return { items: [this.plain()], cost: 1 };
    const items: Item[] = [
      ...saved.map((i) => this.must('Push_r64', [{ r: reg(i, 64) }])),
      this.must('Mov_r32_imm32', [{ r: reg(6, 32) }, { i: src }]),
      this.must('Mov_r32_imm32', [{ r: reg(7, 32) }, { i: dst }]),
      this.must('Mov_r32_imm32', [{ r: reg(1, 32) }, { i: n }]),
      str,
      ...saved.reverse().map((i) => this.must('Pop_r64', [{ r: reg(i, 64) }])),
    ];
    return { items, cost: n + 10 };
  }

  /** A straight run longer than a decoded block (64 instructions), so blocks end by size and fall through. */
  straight(): Part {
    const n = 40 + this.r.int(60);
    return { items: Array.from({ length: n }, () => this.plain()), cost: n };
  }

  /** A JMP to a separate segment (often on another page) that jumps back. */
  chunk(ctx: Ctx): Part {
    const name = `c${this.nextLabel++}`, back = this.label();
    const b = this.body({ ...ctx, depth: ctx.depth + 1 }, 1 + this.r.int(8));
    this.segments.push({ name, items: [{ t: 'label', name }, ...b.items, this.br('jmp', back, this.r.bool(0.7))] });
    return { items: [this.br('jmp', name, this.r.bool(0.7)), { t: 'label', name: back }], cost: b.cost + 2 };
  }

  pushPop(ctx: Ctx): Part {
    const r = this.r;
    if (r.bool(0.1)) { // 16-bit push/pop (generic path)
      return { items: [this.must('Push_r16', [{ r: reg(r.int(this.regs), 16) }]), this.plain(), this.must('Pop_r16', [{ r: reg(r.pick(this.free), 16) }])], cost: 3 };
    }
    const items: Item[] = [];
    switch (r.int(4)) {
      case 0: items.push(this.must('Pushq_imm8', [{ i: imm(r, 8) }])); break;
      case 1: items.push(this.must('Pushq_imm32', [{ i: imm(r, 32) }])); break;
      case 2: items.push(this.op('Push_rm64', [{ m: this.readMem(8) }]) ?? this.must('Push_r64', [{ r: reg(r.int(this.regs), 64) }])); break;
      default: items.push(this.must('Push_r64', [{ r: reg(r.int(this.regs), 64) }]));
    }
    const top: Mem = { base: reg(RSP, 64), index: Register.None, scale: 1, disp: 0n, seg: Register.None };
    if (r.bool(0.4)) items.push(this.op(r.pick(['Add_rm64_r64', 'Xor_rm64_r64', 'Mov_rm64_r64', 'Sub_rm64_r64']), [{ m: top }, { r: reg(r.int(this.regs), 64) }]) ?? this.plain());
    const inner = this.body({ ...ctx, depth: ctx.depth + 1 }, r.int(4));
    items.push(...inner.items);
    items.push(r.bool(0.8) ? this.must('Pop_r64', [{ r: reg(r.pick(this.free), 64) }]) : this.op('Pop_rm64', [{ m: this.dataMem(8) }]) ?? this.must('Pop_r64', [{ r: reg(r.pick(this.free), 64) }]));
    return { items, cost: inner.cost + 3 };
  }

  flags(): Part {
    const r = this.r, top: Mem = { base: reg(RSP, 64), index: Register.None, scale: 1, disp: 0n, seg: Register.None };
    const mask = r.u32() & POPF_MASK;
    switch (r.int(3)) {
      case 0: {
        const [op, v] = r.pick([['Xor', mask], ['Or', mask], ['And', ~mask]] as const);
        return { items: [this.must('Pushfq', []), this.must(`${op}_rm64_imm32`, [{ m: top }, { i: v | 0 }]), this.must('Popfq', [])], cost: 3 };
      }
      case 1: return { items: [this.must('Pushq_imm32', [{ i: 2 | mask }]), this.must('Popfq', [])], cost: 2 };
      default: return { items: [this.must('Pushfq', []), this.must('Pop_r64', [{ r: reg(r.pick(this.free), 64) }])], cost: 2 };
    }
  }

  /** A store into code: patches an immediate of some ordinary instruction (target chosen after generation). */
  smc(): Part {
    const r = this.r;
    this.stats.smc++;
    const slot: { target?: Ins; k: number } = { k: r.int(4) };
    this.smcTargets.push(slot);
    // Without any patchable instruction the store goes to an unused stack word (same encoding length).
    const where = (at: Resolve): number => (slot.target ? at(slot.target.label!) + slot.target.imm!.off + (slot.k % slot.target.imm!.size) : STACK + STACK_SIZE - 0x100);
    // `where` supplies the address; base/index forms keep their -base/-index adjustment in disp.
    const m = this.mem(0, where);
    const items: Item[] = [];
    const kind = r.int(5);
    const ins = kind === 0 ? this.op('Mov_rm8_imm8', [{ m }, { i: imm(r, 8) }])
      : kind === 1 ? this.op('Mov_rm8_r8', [{ m }, { r: reg(this.src(8), 8) }])
        : kind === 2 ? this.op(r.pick(['Add_rm8_imm8', 'Xor_rm8_imm8', 'Or_rm8_imm8']), [{ m }, { i: r.bool(0.3) ? 0 : imm(r, 8) }])
          : kind === 3 ? this.op(r.pick(['Inc_rm8', 'Not_rm8', 'Neg_rm8']), [{ m }])
            : this.op(r.pick(['Add_rm8_r8', 'Xor_rm8_r8', 'Sub_rm8_r8']), [{ m }, { r: reg(this.src(8), 8) }]);
    items.push(ins ?? this.plain());
    return { items, cost: 1 };
  }

  stackRead(): Part {
    const r = this.r, s = r.pick([8, 16, 32, 64, 64]);
    const m: Mem = { base: reg(RSP, 64), index: Register.None, scale: 1, disp: BigInt(r.bool(0.7) ? 8 * r.int(6) : r.int(0x30)), seg: Register.None };
    const op = r.pick(['Mov', 'Add', 'Cmp', 'Xor', 'Sub', 'And']);
    return { items: [this.op(`${op}_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, { m }]) ?? this.plain()], cost: 1 };
  }

  /** One deliberate exception (the program ends there if it executes). */
  fault(): Part {
    const r = this.r;
    this.faultLeft = false;
    const t = r.pick(this.free), s = r.pick([8, 16, 32, 64]);
    const kinds = ['unmapped', 'straddle', 'readonly', 'noncanonical', 'canonical-edge', 'jmp-noncanonical', 'ud2', 'div0'] as const;
    const kind = r.pick(mode32 ? kinds.filter((k) => !k.includes('canonical')) : kinds);
    this.stats.fault = kind;
    const nonCanon = (): Ins => this.must('Mov_r64_imm64', [{ r: reg(t, 64) }, { q: (r.bool(0.5) ? 0x0000800000000000n : 0xffff7fffffffff00n) + BigInt(r.int(256)) }]);
    const store = (m: Mem): Ins | null => (r.bool(0.5) ? this.op(`Mov_rm${s}_r${s}`, [{ m }, { r: reg(this.src(s), s) }]) : this.op(`Add_r${s}_rm${s}`, [{ r: reg(this.dst(s), s) }, { m }]));
    let items: (Ins | null)[];
    switch (kind) {
      case 'unmapped': items = [store(this.mem(UNMAPPED + r.int(PAGE - 8)))]; break;
      case 'straddle': items = [this.op(`Mov_rm${Math.max(16, s)}_r${Math.max(16, s)}`, [{ m: this.mem(UNMAPPED - 1 - r.int(Math.max(16, s) / 8 - 1)) }, { r: reg(this.src(Math.max(16, s)), Math.max(16, s)) }])]; break;
      case 'readonly': items = [this.op(`Mov_rm${s}_r${s}`, [{ m: this.mem(READONLY + r.int(PAGE - 8)) }, { r: reg(this.src(s), s) }])]; break;
      case 'noncanonical': items = [nonCanon(), store({ base: reg(t, 64), index: Register.None, scale: 1, disp: BigInt(r.int(64)), seg: Register.None })]; break;
      case 'canonical-edge': // the last bytes below the canonical hole: partly canonical accesses
        items = [this.must('Mov_r64_imm64', [{ r: reg(t, 64) }, { q: 0x00007ffffffffff8n + BigInt(r.int(8)) }]),
          store({ base: reg(t, 64), index: Register.None, scale: 1, disp: 0n, seg: Register.None })];
        break;
      case 'jmp-noncanonical': items = [nonCanon(), this.op('Jmp_rm64', [{ r: reg(t, 64) }])]; break;
      case 'ud2': items = [this.op('Ud2', [])]; break;
      default: items = [this.must('Xor_rm32_r32', [{ r: reg(t, 32) }, { r: reg(t, 32) }]), this.op(`Div_rm${s}`, [{ r: reg(t, s) }])];
    }
    const ok = items.filter((i): i is Ins => i !== null);
    return { items: ok, cost: ok.length };
  }
}

/** Branch instruction for a Br item. */
function branchCode(b: Br): Code {
  if (b.kind === 'call') return C('Call_rel32_64');
  const name = b.kind === 'jmp' ? 'Jmp' : `J${CC[b.kind]}`;
  return C(`${name}_${b.long ? 'rel32' : 'rel8'}_64`);
}
const brLen = (b: Br): number => (!b.long ? 2 : b.kind === 'jmp' || b.kind === 'call' ? 5 : 6);

/**
 * Start addresses for segments of `lens` bytes (in this order): split into one run per code
 * page, each run packed with small gaps and put at a random place in its page, or (often) so
 * that it crosses into the next page, so blocks and instructions straddle page boundaries.
 */
function place(r: Rng, lens: number[], pages: number): number[] {
  const end = CODE + pages * PAGE - 1; // the last byte stays INT3
  const cuts = new Set<number>();
  while (cuts.size < Math.min(pages - 1, lens.length - 1)) cuts.add(1 + r.int(lens.length - 1));
  const runs: number[][] = [];
  let cur: number[] = [];
  lens.forEach((_, i) => { if (cuts.has(i)) { runs.push(cur); cur = []; } cur.push(i); });
  runs.push(cur);
  const gaps = lens.map(() => (r.bool(0.5) ? 0 : r.int(24)));
  const starts: number[] = [];
  let cursor = CODE;
  runs.forEach((run, j) => {
    const len = run.reduce((n, i) => n + lens[i] + gaps[i], 0);
    const pageStart = CODE + j * PAGE, pageEnd = pageStart + PAGE;
    let start = j < pages - 1 && r.bool(0.6) ? pageEnd - 1 - r.int(Math.max(1, Math.min(len, PAGE) - 1)) : pageStart + r.int(Math.max(1, PAGE - len));
    start = Math.max(start, cursor);
    if (start + len > end) start = end - len;
    if (start < cursor) throw new RangeError('program larger than its code pages');
    for (const i of run) { starts[i] = start + gaps[i]; start += lens[i] + gaps[i]; }
    cursor = start;
  });
  return starts;
}

/** Lays the segments out over the code pages (random order and gaps) and encodes them. */
function assemble(g: Gen, pages: number): { code: Uint8Array; labels: Map<string, number>; segments: { name: string; start: number; length: number }[] } {
  const r = g.r;
  const order = g.segments.slice();
  for (let i = order.length - 1; i > 0; i--) { const j = r.int(i + 1); [order[i], order[j]] = [order[j], order[i]]; }
  const region = pages * PAGE;
  for (;;) {
    const lens = order.map((s) => s.items.reduce((n, it) => n + (it.t === 'ins' ? it.len : it.t === 'br' ? brLen(it) : 0), 0));
    const starts = place(r, lens, pages);
    const labels = new Map<string, number>();
    const segments: { name: string; start: number; length: number }[] = [];
    order.forEach((s, i) => {
      let pos = starts[i];
      segments.push({ name: s.name, start: pos, length: lens[i] });
      for (const it of s.items) {
        if (it.t === 'label') labels.set(it.name, pos);
        else if (it.t === 'ins') { if (it.label) labels.set(it.label, pos); pos += it.len; } else pos += brLen(it);
      }
    });
    const at: Resolve = (name) => { const a = labels.get(name); if (a === undefined) throw new Error(`jitProgram: no label ${name}`); return a; };
    const code = new Uint8Array(region).fill(0xcc);
    let retry = false;
    g.stats.crossPageBranches = 0; g.stats.straddling = 0;
    for (let i = 0; i < order.length && !retry; i++) {
      let ip = segments[i].start;
      for (const it of order[i].items) {
        if (it.t === 'label') continue;
        const instr = it.t === 'ins' ? it.make(at) : Instruction.createBranch(branchCode(it), BigInt(at(it.target)));
        try {
          let len: number;
          try { len = g.enc.encode(instr, BigInt(ip)); } catch (e) {
            g.enc.takeBuffer();
            if (it.t === 'br' && !it.long) { it.long = true; retry = true; break; }
            throw e;
          }
          const bytes = g.enc.takeBuffer();
          const want = it.t === 'ins' ? it.len : brLen(it);
          if (len !== want) throw new Error(`jitProgram: ${len}-byte encoding where ${want} was laid out`);
          code.set(bytes, ip - CODE);
          if (it.t === 'br' && Math.floor(at(it.target) / PAGE) !== Math.floor(ip / PAGE)) g.stats.crossPageBranches++;
          if (Math.floor(ip / PAGE) !== Math.floor((ip + len - 1) / PAGE)) g.stats.straddling++;
          ip += len;
        } finally {
          instr.free();
        }
      }
    }
    if (!retry) return { code, labels, segments };
  }
}

/** The program for `seed` (deterministic). */
export function generateJitProgram(seed: number): JitProgram {
  // A program too large for 3 pages (rare: long straight runs) is drawn again from a derived seed.
  for (let attempt = 0; ; attempt++) {
    try {
      return generateOnce(seed, new Rng((seed + Math.imul(attempt, 0x9e3779b9)) >>> 0));
    } catch (e) {
      if (!(e instanceof RangeError) || attempt >= 8) throw e;
    }
  }
}

function generateOnce(seed: number, r: Rng): JitProgram {
  mode32 = r.bool(0.3);
  const g = new Gen(r);
  try {
    let codePages: 2 | 3 = r.bool(0.5) ? 2 : 3;
    g.funcs = 1 + r.int(5);
    for (let f = g.funcs - 1; f >= 0; f--) {
      const b = g.body({ fn: f, depth: 1 }, 2 + r.int(14));
      const items: Item[] = [{ t: 'label', name: `f${f}` }, ...b.items];
      if (r.bool(0.5)) items.push(g.flagWriter());
      // Some functions end in a tail jump to a later one (its RET returns to our caller).
      if (f + 1 < g.funcs && r.bool(0.2)) {
        const t = f + 1 + r.int(g.funcs - f - 1);
        items.push(g.br('jmp', `f${t}`));
        g.funcCost[f] = b.cost + 1 + g.funcCost[t];
      } else {
        items.push(g.must('Retnq', []));
        g.funcCost[f] = b.cost + 1;
      }
      g.segments.push({ name: `f${f}`, items });
    }
    const main = g.body({ fn: -1, depth: 0 }, 20 + r.int(60));
    // A program chosen to fault that has not placed its fault yet gets it somewhere in main.
    if (g.faultLeft) main.items.splice(r.int(main.items.length + 1), 0, ...g.fault().items);
    g.segments.push({ name: 'main', items: [{ t: 'label', name: 'main' }, ...main.items, g.must('Hlt', [])] });
    for (const slot of g.smcTargets) if (g.patchable.length) slot.target = r.pick(g.patchable);
    let layout: ReturnType<typeof assemble>;
    try {
      layout = assemble(g, codePages);
    } catch (e) {
      if (!(e instanceof RangeError) || codePages === 3) throw e;
      codePages = 3;
      layout = assemble(g, codePages);
    }
    const { code, labels, segments } = layout;

    const gprs = Array.from({ length: 16 }, () => (mode32 ? BigInt.asUintN(32, interesting64(r)) : interesting64(r)));
    gprs[g.base] = BigInt(g.baseVal);
    gprs[g.index] = BigInt(g.indexVal);
    // Stack near its page boundary, sometimes misaligned, so pushes straddle it.
    gprs[RSP] = BigInt(STACK + PAGE + 8 * r.int(0x40) - (r.bool(0.15) ? 4 : 0));
    const data = r.bytes(DATA_SIZE);
    for (let i = 0; i < 64; i++) new DataView(data.buffer).setBigUint64(8 * r.int(DATA_SIZE / 8), interesting64(r), true);
    const byAddr = new Map<number, string[]>();
    for (const [name, a] of labels) byAddr.set(a, [...(byAddr.get(a) ?? []), name]);
    return {
      seed, bits: mode32 ? 32 : 64, user: !mode32 && r.bool(0.2), codePages, code, entry: labels.get('main')!, gprs,
      rflags: BigInt(2 | (r.u32() & 0x8d5) | (r.bool(0.1) ? 0x400 : 0)),
      fsBase: g.fsBase, gsBase: BigInt.asUintN(64, g.gsBase),
      data, readonly: r.bytes(PAGE), labels: byAddr, segments, stats: { ...g.stats },
    };
  } finally {
    g.enc.free();
    mode32 = false;
  }
}

/** Disassembly of the program's segments (iced-x86, Intel syntax), with labels and the initial registers. */
export function disassemble(p: JitProgram): string {
  const fmt = new Formatter(FormatterSyntax.Intel);
  const lines: string[] = [];
  lines.push(`; seed ${p.seed}: ${p.bits}-bit${p.user ? ' CPL 3' : ''}, ${p.codePages} code pages at 0x${CODE.toString(16)}, entry 0x${p.entry.toString(16)}, rflags 0x${p.rflags.toString(16)}, fs.base 0x${p.fsBase.toString(16)}, gs.base 0x${p.gsBase.toString(16)}`);
  lines.push(`; ${p.gprs.map((v, i) => `${GPR_NAMES[i]}=0x${v.toString(16)}`).join(' ')}`);
  for (const s of [...p.segments].sort((a, b) => a.start - b.start)) {
    lines.push(`; segment ${s.name} [0x${s.start.toString(16)}, 0x${(s.start + s.length).toString(16)})`);
    const dec = new Decoder(p.bits, p.code.subarray(s.start - CODE, s.start - CODE + s.length), DecoderOptions.None);
    dec.ip = BigInt(s.start);
    while (dec.canDecode) {
      const ip = Number(dec.ip);
      const names = p.labels.get(ip);
      if (names) lines.push(`${names.join(': ')}:`);
      const instr = dec.decode();
      const bytes = Array.from(p.code.subarray(ip - CODE, ip - CODE + instr.length), (b) => b.toString(16).padStart(2, '0')).join('');
      lines.push(`  ${ip.toString(16)}  ${bytes.padEnd(30)} ${fmt.format(instr)}`);
      instr.free();
    }
    dec.free();
  }
  fmt.free();
  return lines.join('\n');
}
