// The x64 virtual CPU: architectural state, the soft TLB and memory access paths, the
// block-cache run loop, intercept exits and their completion, and the VirtualCpu API.
// Instruction semantics live in the handler modules the opcode tables point at.
//
// Hot-path conventions: 64-bit values are int32 halves (lo, hi); a function returning a
// 64-bit value returns lo and leaves hi in `cpu.hi`. Faults and exits unwind by throwing the
// preallocated FAULT / EXIT objects; nothing on the per-instruction path allocates.

import {
  CpuExitReason, MemoryAccessType, Seg,
  type CpuExitInfo, type InterruptSource, type PortIoHandler, type SegmentValue, type TableValue, type VirtualCpu, type Watchpoint,
} from './vcpu';
import { GuestPage, PhysicalMemory, type MemoryListener } from './physicalMemory';
import { EXIT, FAULT, Vec } from './exceptions';
import { Lf, getFlags, IF, TF, RF, VM, AC, materialize } from './flags';
import { Access, walk, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, CR4_PGE } from './paging';
import type { Insn } from './insn';
import { Block, buildBlock, translateHot } from './blockCache';
import { deliverEvent, DeliveryOutcome } from './interrupts';
import { MsrFile } from './msr';
import { cpuidDefault, RESET_SIGNATURE } from './cpuidModel';
import { completeIoInsn } from './io';

const TLB_SIZE = 1024;
const TLB_MASK = TLB_SIZE - 1;
const EMPTY_BYTES = new Uint8Array(4096);
const EMPTY_VIEW = new DataView(EMPTY_BYTES.buffer);

export interface CpuOptions { vpIndex: number }

/** A completed MMIO access the re-executed instruction consumes. */
interface MmioDone { gpa: number; size: number; isWrite: boolean; value: Uint8Array; /** icount of the instruction it belongs to (valid until that instruction retires). */ at: number }

export class Cpu implements VirtualCpu, MemoryListener {
  readonly vpIndex: number;
  readonly exit: CpuExitInfo = {
    instructionLength: 0, instructionBytes: new Uint8Array(0),
    io: { port: 0, size: 1, isWrite: false, isString: false, rep: false, value: 0, segment: Seg.DS },
    msr: { index: 0, isWrite: false, value: 0n },
    cpuid: { leaf: 0, subleaf: 0, defaultEax: 0, defaultEbx: 0, defaultEcx: 0, defaultEdx: 0 },
    memory: { gpa: 0n, gva: 0n, gvaValid: false, accessType: MemoryAccessType.Read, gpaUnmapped: true, size: 0, data: new Uint8Array(0) },
    exception: { vector: 0, hasErrorCode: false, errorCode: 0, parameter: 0n },
    watch: { address: 0n, size: 0, isWrite: false, physical: false },
    message: '',
  };

  // ---- General registers, RIP, RFLAGS ----
  /** GPR low halves (RAX..R15). */
  readonly r = new Int32Array(16);
  /** GPR high halves. */
  readonly rh = new Int32Array(16);
  /** Side channel for the high half of a 64-bit value returned by a helper. */
  hi = 0;
  /** RIP of the current instruction. */
  ripLo = 0;
  ripHi = 0;
  /** RIP the current instruction retires to (set before its handler runs; branches overwrite it). */
  nextLo = 0;
  nextHi = 0;
  /** RFLAGS; the arithmetic flags are valid here only while lfOp is Lf.None. */
  flags = 2;
  lfOp = Lf.None;
  lfSize = 4;
  lfRes = 0; lfResHi = 0;
  lfA = 0; lfAHi = 0;
  lfB = 0; lfBHi = 0;
  lfCf = 0; lfOf = 0;

  // ---- Segments: Seg.ES..GS = 0..5, LDTR = 6, TR = 7 ----
  readonly segSel = new Int32Array(8);
  readonly segBaseLo = new Int32Array(8);
  readonly segBaseHi = new Int32Array(8);
  readonly segLimit = new Float64Array(8);
  readonly segAttr = new Int32Array(8);
  /** 1 when a data access through the segment needs no limit/type check (flat 4 GiB read/write). */
  readonly segFlat = new Uint8Array(6);
  gdtBaseLo = 0; gdtBaseHi = 0; gdtLimit = 0xffff;
  idtBaseLo = 0; idtBaseHi = 0; idtLimit = 0xffff;

  // ---- Control, debug and model-specific state ----
  cr0 = 0x60000010;
  cr2Lo = 0; cr2Hi = 0;
  cr3Lo = 0; cr3Hi = 0;
  cr4 = 0;
  tpr = 0;
  efer = 0;
  xcr0 = 1;
  readonly drLo = new Int32Array(4);
  readonly drHi = new Int32Array(4);
  dr6 = 0xffff0ff0;
  dr7 = 0x400;
  readonly msrs: MsrFile;
  /** TSC = instructionCount + tscOffset. */
  tscOffset = 0;
  readonly xmm = new Int32Array(64);
  mxcsr = 0x1f80;
  fpu = { fcw: 0x40, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n };
  /** x87/MMX data registers in stack order ST0-7 as FXSAVE lays them out: 10 bytes each in 16-byte slots. */
  readonly fpr = new Uint8Array(128);

  // ---- Derived mode ----
  cpl = 0;
  /** 64-bit sub-mode of long mode. */
  long64 = false;
  /** Decoding mode: 0 = 16-bit, 1 = 32-bit, 2 = 64-bit code segment. */
  codeMode = 0;
  /** Stack pointer width in bytes (2, 4, 8). */
  stackSize = 2;
  /** Set while walking for an implicit supervisor access (descriptor tables, TSS). */
  implicitSupervisor = false;

  // ---- Execution bookkeeping ----
  icount = 0;
  private stopAt = 0;
  /** Set by anything after which the rest of the current block must not run. */
  breakLoop = false;
  private cancelRequested = false;
  /** Instruction count at which an STI/MOV SS interrupt shadow ends (shadow active while icount equals it). */
  shadowUntil = -1;
  /** Same for the MOV SS / POP SS blocking of debug traps. */
  debugShadowUntil = -1;
  faultVec = 0;
  faultCode = 0;
  faultHasCode = false;
  exitReason = CpuExitReason.BudgetExhausted;
  /** The instruction that exited (for completion). */
  exitInsn: Insn | null = null;
  /** softLen > 0: a software exception (INT3/INTO/INT1) that returns past its instruction of that length. */
  private pendingEvent: { vector: number; hasErrorCode: boolean; errorCode: number; softLen?: number } | undefined;
  /** Event being delivered (for #DF classification); -1 when none. */
  deliveringVector = -1;
  private exceptionBitmap = 0;
  msrExitSet = new Set<number>();
  unknownMsrsExit = true;
  rdtscExiting = false;
  private interruptWindowExiting = false;
  private intSource: InterruptSource | undefined;
  private bpSet = new Set<number>();
  private bpSkipRip = -1;
  /** Bumped when breakpoints change so cached blocks are rebuilt with the new stops. */
  blockEpoch = 0;
  watchpoints: readonly Watchpoint[] = [];
  watchHit = false;
  private mmioDone: MmioDone[] = [];
  /** True when per-instruction debug work is needed (TF, DR7 breakpoints). */
  private slowStep = false;
  walkHi = 0;
  readonly walkPath = new Float64Array(16);

  // ---- Soft TLB: direct-mapped, per access kind. Tags are linear page numbers (lo >>> 12) plus the high half. ----
  readonly rTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly rTagHi = new Int32Array(TLB_SIZE);
  readonly rPage: Uint8Array[] = new Array(TLB_SIZE).fill(EMPTY_BYTES);
  readonly wTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly wTagHi = new Int32Array(TLB_SIZE);
  readonly wPage: Uint8Array[] = new Array(TLB_SIZE).fill(EMPTY_BYTES);
  /** The same pages as DataViews, for translated code's multi-byte accesses (jit/translator.ts). */
  readonly rView: DataView[] = new Array(TLB_SIZE).fill(EMPTY_VIEW);
  readonly wView: DataView[] = new Array(TLB_SIZE).fill(EMPTY_VIEW);
  private readonly xTag = new Int32Array(TLB_SIZE).fill(-1);
  private readonly xTagHi = new Int32Array(TLB_SIZE);
  private readonly xPage: GuestPage[];
  /** Global-page marks of the three TLBs' entries (kept across CR3 writes when CR4.PGE). */
  private readonly tlbGlobal = new Uint8Array(TLB_SIZE * 3);
  private tlbHasLarge = false;
  private tlbUser = false;

  constructor(readonly mem: PhysicalMemory, options: CpuOptions) {
    this.vpIndex = options.vpIndex;
    this.msrs = new MsrFile(this);
    const dummy = new GuestPage(-1, { gpa: 0, size: 0, origin: 0, permissions: { read: false, write: false, execute: false }, rom: false });
    this.xPage = new Array(TLB_SIZE).fill(dummy);
    mem.addListener(this);
    this.reset();
  }

  /** Detaches from the memory's listener list (when a partition drops this VP). */
  dispose(): void { this.mem.removeListener(this); }

  get instructionCount(): number { return this.icount; }

  /** Instruction count at which the current run() slice ends. */
  stopAtCount(): number { return this.stopAt; }

  // =====================================================================================
  // Reset and mode
  // =====================================================================================

  reset(): void {
    this.r.fill(0); this.rh.fill(0);
    this.r[2] = RESET_SIGNATURE;
    this.ripLo = 0xfff0; this.ripHi = 0;
    this.flags = 2; this.lfOp = Lf.None;
    for (let s = 0; s < 6; s++) this.setSegRaw(s, 0, 0, 0, 0xffff, 0x93);
    this.setSegRaw(Seg.CS, 0xf000, 0xffff0000 | 0, 0, 0xffff, 0x9b);
    this.setSegRaw(6, 0, 0, 0, 0xffff, 0x82);
    this.setSegRaw(7, 0, 0, 0, 0xffff, 0x8b);
    this.gdtBaseLo = this.gdtBaseHi = 0; this.gdtLimit = 0xffff;
    this.idtBaseLo = this.idtBaseHi = 0; this.idtLimit = 0xffff;
    this.cr0 = 0x60000010; this.cr2Lo = this.cr2Hi = 0; this.cr3Lo = this.cr3Hi = 0; this.cr4 = 0; this.tpr = 0; this.efer = 0; this.xcr0 = 1;
    this.drLo.fill(0); this.drHi.fill(0); this.dr6 = 0xffff0ff0; this.dr7 = 0x400;
    this.msrs.reset();
    // instructionCount counts from reset; the TSC restarts at 0 with it.
    this.icount = 0;
    this.tscOffset = 0;
    this.bpSkipRip = -1;
    this.xmm.fill(0); this.mxcsr = 0x1f80;
    this.fpu = { fcw: 0x40, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n };
    this.fpr.fill(0);
    this.pendingEvent = undefined;
    this.shadowUntil = -1;
    this.deliveringVector = -1;
    this.mmioDone.length = 0;
    this.exitInsn = null;
    this.updateMode();
    this.flushTlb(true);
  }

  /** Recomputes the derived mode after CR0/EFER/CS/SS/RFLAGS.VM changes. */
  updateMode(): void {
    const pe = (this.cr0 & CR0_PE) !== 0;
    if ((this.cr0 & CR0_PG) && (this.efer & EFER_LME)) this.efer |= EFER_LMA; else this.efer &= ~EFER_LMA;
    const csAttr = this.segAttr[Seg.CS];
    const lma = (this.efer & EFER_LMA) !== 0;
    this.long64 = lma && (csAttr & 0x2000) !== 0;
    this.codeMode = this.long64 ? 2 : (csAttr & 0x4000) ? 1 : 0;
    this.stackSize = this.long64 ? 8 : (this.segAttr[Seg.SS] & 0x4000) ? 4 : 2;
    const cpl = !pe ? 0 : (this.flags & VM) ? 3 : this.segSel[Seg.CS] & 3;
    if (pe && !(this.flags & VM)) {
      // CPL is SS.DPL architecturally; CS.RPL equals it outside transitions.
      this.cpl = (this.segAttr[Seg.SS] >> 5) & 3;
      if (this.segSel[Seg.CS] & 3) this.cpl = this.segSel[Seg.CS] & 3;
    } else this.cpl = cpl;
    for (let s = 0; s < 6; s++) this.segFlat[s] = this.computeFlat(s) ? 1 : 0;
    this.flat32 = this.computeFlat32();
    const user = this.cpl === 3;
    if (user !== this.tlbUser) { this.tlbUser = user; this.flushTlb(true); }
    this.slowStep = (this.flags & TF) !== 0 || (this.dr7 & 0xff) !== 0;
    // Alignment checking (#AC) sends every data access through the slow path while it is active.
    const ac = (this.cr0 & 0x40000) !== 0 && (this.flags & AC) !== 0 && this.cpl === 3;
    if (ac !== this.alignCheck) { this.alignCheck = ac; this.flushTlb(true); }
    // Cached supervisor translations of user pages depend on RFLAGS.AC under SMAP.
    const smapAc = (this.cr4 & 0x200000) !== 0 && (this.flags & AC) !== 0;
    if (smapAc !== this.smapAc) { this.smapAc = smapAc; this.flushTlb(true); }
    this.breakLoop = true;
  }
  /** CR0.AM && RFLAGS.AC && CPL 3. */
  alignCheck = false;
  private smapAc = false;

  private computeFlat(s: number): boolean {
    if (this.long64) return s < 4 || (this.segBaseLo[s] === 0 && this.segBaseHi[s] === 0);
    if (s === Seg.CS) return false;
    const a = this.segAttr[s];
    // Present, usable, data, writable, expand-up, base 0, limit 4 GiB.
    return (a & 0x80) !== 0 && (a & 0x10000) === 0 && (a & 0x1a) === 0x12 && (a & 4) === 0 && this.segBaseLo[s] === 0 && this.segLimit[s] === 0xffffffff;
  }

  /** Sets a segment cache without checks. attr bit 16 marks an unusable (null) segment. */
  setSegRaw(s: number, sel: number, baseLo: number, baseHi: number, limit: number, attr: number): void {
    this.segSel[s] = sel & 0xffff;
    this.segBaseLo[s] = baseLo | 0;
    this.segBaseHi[s] = baseHi | 0;
    this.segLimit[s] = limit >>> 0;
    this.segAttr[s] = attr;
    if (s < 6) this.segFlat[s] = this.computeFlat(s) ? 1 : 0;
    this.flat32 = this.computeFlat32();
    // Translated 32-bit code assumes the segments it was entered with (jit/translator.ts).
    this.breakLoop = true;
  }

  /** 32-bit code with CS, DS, ES and SS flat and a 32-bit stack: linear address = offset (jit/translator.ts). */
  flat32 = false;
  private computeFlat32(): boolean {
    return this.codeMode === 1 && this.stackSize === 4 && this.segBaseLo[Seg.CS] === 0 && this.segLimit[Seg.CS] === 0xffffffff &&
      this.segFlat[Seg.DS] === 1 && this.segFlat[Seg.ES] === 1 && this.segFlat[Seg.SS] === 1;
  }

  // =====================================================================================
  // Faults and exits
  // =====================================================================================

  /** Raises exception `vector` (with an error code when `code` is given). */
  raise(vector: number, code?: number): never {
    this.faultVec = vector;
    this.faultHasCode = code !== undefined;
    this.faultCode = code ?? 0;
    throw FAULT;
  }

  gp(code = 0): never { return this.raise(Vec.GP, code); }
  ud(): never { return this.raise(Vec.UD); }

  /** Leaves run() with `reason`; the current instruction is not retired. */
  exitWith(reason: CpuExitReason, d: Insn | null): never {
    this.exitReason = reason;
    this.exitInsn = d;
    this.fillInstructionBytes(d);
    throw EXIT;
  }

  /** HLT: the instruction retires, then run() returns Halt. */
  haltExit(d: Insn): never {
    this.fillInstructionBytes(d);
    this.ripLo = this.nextLo; this.ripHi = this.nextHi;
    this.icount++;
    this.exitReason = CpuExitReason.Halt;
    this.exitInsn = null;
    throw EXIT;
  }

  /** True when a maskable interrupt from the source could be delivered now. */
  interruptDeliverable(): boolean {
    const s = this.intSource;
    if (!s || !(this.flags & IF) || this.icount + 1 === this.shadowUntil) return false;
    const v = s.pendingVector();
    return v >= 0 && (v >> 4) > this.tpr;
  }

  unsupported(message: string): never {
    this.exit.message = message;
    return this.exitWith(CpuExitReason.UnsupportedFeature, null);
  }

  private fillInstructionBytes(d: Insn | null): void {
    const len = d ? d.len : 0;
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const v = this.probeCodeByte(i);
      if (v < 0) break;
      bytes[i] = v;
    }
    this.exit.instructionLength = len;
    this.exit.instructionBytes = bytes;
  }

  /** Byte `i` of the current instruction, without side effects; -1 if unreadable. */
  private probeCodeByte(i: number): number {
    const off = this.ripLo + i;
    let lo: number, hi: number;
    if (this.long64) { lo = off | 0; hi = this.ripHi + ((this.ripLo >>> 0) + i > 0xffffffff ? 1 : 0); } else { lo = (this.segBaseLo[Seg.CS] + off) | 0; hi = 0; }
    const w = walk(this, lo, hi, Access.Read, false, false);
    if (!w) return -1;
    const gpa = w.gpa + (lo & 0xfff);
    const b = new Uint8Array(1);
    return this.mem.read(gpa, b) ? b[0] : -1;
  }

  // =====================================================================================
  // Register helpers used by handlers
  // =====================================================================================

  /** Reads a register of `size` bytes; byte registers use codes 0-15 and 16-19 (AH..BH). */
  getReg(i: number, size: number): number {
    switch (size) {
      case 1: return i < 16 ? this.r[i] & 0xff : (this.r[i - 16] >> 8) & 0xff;
      case 2: return this.r[i] & 0xffff;
      case 4: return this.r[i];
      default: this.hi = this.rh[i]; return this.r[i];
    }
  }

  /** Writes a register with the architectural width rules (32-bit writes zero the high half). */
  setReg(i: number, size: number, v: number, vh: number): void {
    switch (size) {
      case 1:
        if (i < 16) this.r[i] = (this.r[i] & ~0xff) | (v & 0xff);
        else this.r[i - 16] = (this.r[i - 16] & ~0xff00) | ((v & 0xff) << 8);
        return;
      case 2: this.r[i] = (this.r[i] & ~0xffff) | (v & 0xffff); return;
      case 4: this.r[i] = v; this.rh[i] = 0; return;
      default: this.r[i] = v; this.rh[i] = vh; return;
    }
  }

  // =====================================================================================
  // Effective addresses and segmentation
  // =====================================================================================

  /**
   * Linear address of `d`'s memory operand for an access of `size` bytes. Returns lo, sets
   * `hi`. Applies the segment base and (outside 64-bit mode) the limit and type checks.
   */
  ea(d: Insn, size: number, write: boolean): number {
    let lo = d.disp, hi = d.dispHi;
    const r = this.r, rh = this.rh;
    if (d.base >= 0) {
      const b = r[d.base];
      const s = (lo >>> 0) + (b >>> 0);
      lo = s | 0; hi = (hi + rh[d.base] + (s > 0xffffffff ? 1 : 0)) | 0;
    } else if (d.ripRel) {
      const s = (lo >>> 0) + (this.nextLo >>> 0);
      lo = s | 0; hi = (hi + this.nextHi + (s > 0xffffffff ? 1 : 0)) | 0;
    }
    if (d.index >= 0) {
      const x = r[d.index], sc = d.scale;
      const xl = x << sc;
      const xh = sc === 0 ? rh[d.index] : (rh[d.index] << sc) | (x >>> (32 - sc));
      const s = (lo >>> 0) + (xl >>> 0);
      lo = s | 0; hi = (hi + xh + (s > 0xffffffff ? 1 : 0)) | 0;
    }
    const seg = d.seg;
    if (d.as === 8) {
      if (seg >= 4) {
        const s = (lo >>> 0) + (this.segBaseLo[seg] >>> 0);
        lo = s | 0; hi = (hi + this.segBaseHi[seg] + (s > 0xffffffff ? 1 : 0)) | 0;
      }
      if (((hi << 16) >> 16) !== hi) this.raise(seg === Seg.SS ? Vec.SS : Vec.GP, 0);
      this.hi = hi;
      return lo;
    }
    if (d.as === 2) lo &= 0xffff;
    return this.segAddr(seg, lo, size, write);
  }

  /** Linear address of seg:off (off a 32-bit offset) for a data access; sets `hi`. */
  segAddr(seg: number, off: number, size: number, write: boolean): number {
    if (this.long64) {
      if (seg >= 4) {
        const s = (off >>> 0) + (this.segBaseLo[seg] >>> 0);
        const hi = (this.segBaseHi[seg] + (s > 0xffffffff ? 1 : 0)) | 0;
        if (((hi << 16) >> 16) !== hi) this.raise(Vec.GP, 0);
        this.hi = hi;
        return s | 0;
      }
      this.hi = 0;
      return off;
    }
    if (this.segFlat[seg] === 0) this.segCheck(seg, off, size, write);
    this.hi = 0;
    return (this.segBaseLo[seg] + off) | 0;
  }

  /** Limit and type checks of a non-flat segment (SDM 5.3, 5.5). */
  segCheck(seg: number, off: number, size: number, write: boolean): void {
    const a = this.segAttr[seg];
    const vec = seg === Seg.SS ? Vec.SS : Vec.GP;
    if ((this.cr0 & CR0_PE) && !(this.flags & VM)) {
      if (a & 0x10000) this.raise(vec, 0);
      if (a & 8) { // code
        if (write || (a & 2) === 0) this.raise(vec, 0);
      } else if (write && (a & 2) === 0) this.raise(vec, 0);
    }
    const u = off >>> 0;
    const last = u + size - 1;
    const limit = this.segLimit[seg];
    if ((a & 0x1c) === 0x14) { // expand-down data
      const upper = (a & 0x4000) ? 0xffffffff : 0xffff;
      if (u <= limit || last > upper) this.raise(vec, 0);
    } else if (last > limit) this.raise(vec, 0);
  }

  // =====================================================================================
  // Memory access (linear addresses). Fast path: one TLB tag compare.
  // =====================================================================================

  read8(lo: number, hi: number): number {
    const pn = lo >>> 12, i = pn & TLB_MASK;
    if (this.rTag[i] === pn && this.rTagHi[i] === hi) return this.rPage[i][lo & 0xfff];
    return this.readSlow(lo, hi, 1);
  }

  read16(lo: number, hi: number): number {
    const pn = lo >>> 12, i = pn & TLB_MASK, o = lo & 0xfff;
    if (this.rTag[i] === pn && this.rTagHi[i] === hi && o < 0xfff) { const p = this.rPage[i]; return p[o] | (p[o + 1] << 8); }
    return this.readSlow(lo, hi, 2);
  }

  read32(lo: number, hi: number): number {
    const pn = lo >>> 12, i = pn & TLB_MASK, o = lo & 0xfff;
    if (this.rTag[i] === pn && this.rTagHi[i] === hi && o < 0xffd) { const p = this.rPage[i]; return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24); }
    return this.readSlow(lo, hi, 4);
  }

  /** Returns the low half; the high half is left in `hi`. */
  read64(lo: number, hi: number): number {
    const pn = lo >>> 12, i = pn & TLB_MASK, o = lo & 0xfff;
    if (this.rTag[i] === pn && this.rTagHi[i] === hi && o < 0xff9) {
      const p = this.rPage[i];
      this.hi = p[o + 4] | (p[o + 5] << 8) | (p[o + 6] << 16) | (p[o + 7] << 24);
      return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
    }
    if (this.alignCheck && (lo & 7) && !this.implicitSupervisor) this.raise(Vec.AC, 0);
    // Inside one page: one access (an MMIO read exits once, with size 8, as on hardware).
    if (o < 0xff9) return this.readSlow(lo, hi, 8);
    const vlo = this.readSlow(lo, hi, 4);
    const s = (lo >>> 0) + 4;
    const vhi = this.readSlow(s | 0, s > 0xffffffff ? (hi + 1) | 0 : hi, 4);
    this.hi = vhi;
    return vlo;
  }

  /** Reads `size` (1, 2, 4, 8) bytes; 8-byte reads leave the high half in `hi`. */
  readN(lo: number, hi: number, size: number): number {
    switch (size) {
      case 1: return this.read8(lo, hi);
      case 2: return this.read16(lo, hi);
      case 4: return this.read32(lo, hi);
      default: return this.read64(lo, hi);
    }
  }

  write8(lo: number, hi: number, v: number): void {
    const pn = lo >>> 12, i = pn & TLB_MASK;
    if (this.wTag[i] === pn && this.wTagHi[i] === hi) { this.wPage[i][lo & 0xfff] = v; return; }
    this.writeSlow(lo, hi, 1, v, 0);
  }

  write16(lo: number, hi: number, v: number): void {
    const pn = lo >>> 12, i = pn & TLB_MASK, o = lo & 0xfff;
    if (this.wTag[i] === pn && this.wTagHi[i] === hi && o < 0xfff) { const p = this.wPage[i]; p[o] = v; p[o + 1] = v >> 8; return; }
    this.writeSlow(lo, hi, 2, v, 0);
  }

  write32(lo: number, hi: number, v: number): void {
    const pn = lo >>> 12, i = pn & TLB_MASK, o = lo & 0xfff;
    if (this.wTag[i] === pn && this.wTagHi[i] === hi && o < 0xffd) { const p = this.wPage[i]; p[o] = v; p[o + 1] = v >> 8; p[o + 2] = v >> 16; p[o + 3] = v >> 24; return; }
    this.writeSlow(lo, hi, 4, v, 0);
  }

  write64(lo: number, hi: number, v: number, vh: number): void {
    const pn = lo >>> 12, i = pn & TLB_MASK, o = lo & 0xfff;
    if (this.wTag[i] === pn && this.wTagHi[i] === hi && o < 0xff9) {
      const p = this.wPage[i];
      p[o] = v; p[o + 1] = v >> 8; p[o + 2] = v >> 16; p[o + 3] = v >> 24;
      p[o + 4] = vh; p[o + 5] = vh >> 8; p[o + 6] = vh >> 16; p[o + 7] = vh >> 24;
      return;
    }
    this.writeSlow(lo, hi, 8, v, vh);
  }

  /** Lazy flags as they were before the current read-modify-write instruction computed its result. */
  private readonly rmwFlags = new Int32Array(11);

  /** The read of a read-modify-write instruction (ADD [m], NEG [m], BTS [m]...): also saves the flags it is about to change. */
  rmwRead(lo: number, hi: number, size: number): number {
    const f = this.rmwFlags;
    f[0] = this.flags; f[1] = this.lfOp; f[2] = this.lfSize; f[3] = this.lfRes; f[4] = this.lfResHi; f[5] = this.lfA;
    f[6] = this.lfAHi; f[7] = this.lfB; f[8] = this.lfBHi; f[9] = this.lfCf; f[10] = this.lfOf;
    return this.readN(lo, hi, size);
  }

  /**
   * The write of a read-modify-write instruction. A fault or exit here (a write-protected page,
   * an MMIO write the VMM completes) means the instruction did not retire: its flags are undone,
   * so the #PF handler sees, and the re-executed instruction starts from, the flags before it.
   */
  rmwWrite(lo: number, hi: number, size: number, v: number, vh: number): void {
    try {
      this.writeN(lo, hi, size, v, vh);
    } catch (e) {
      const f = this.rmwFlags;
      this.flags = f[0]; this.lfOp = f[1]; this.lfSize = f[2]; this.lfRes = f[3]; this.lfResHi = f[4]; this.lfA = f[5];
      this.lfAHi = f[6]; this.lfB = f[7]; this.lfBHi = f[8]; this.lfCf = f[9]; this.lfOf = f[10];
      throw e;
    }
  }

  writeN(lo: number, hi: number, size: number, v: number, vh: number): void {
    switch (size) {
      case 1: this.write8(lo, hi, v); return;
      case 2: this.write16(lo, hi, v); return;
      case 4: this.write32(lo, hi, v); return;
      default: this.write64(lo, hi, v, vh); return;
    }
  }

  /** Checks that a write of `size` bytes at lin would not fault (both pages), without writing; false if a page is not RAM (MMIO). */
  probeWrite(lo: number, hi: number, size: number): boolean {
    let ram = this.translate4k(lo, hi, Access.Write) !== null;
    const o = lo & 0xfff;
    // The second page is probed at its first byte (that is what CR2 reports if it faults).
    if (o + size > 0x1000) { const s = ((lo >>> 0) & ~0xfff) + 0x1000; ram = this.translate4k(s | 0, s > 0xffffffff ? hi + 1 : hi, Access.Write) !== null && ram; }
    return ram;
  }

  private userAccess(): boolean { return this.cpl === 3 && !this.implicitSupervisor; }

  /**
   * Translates the page of linear (lo, hi) for `access`; returns the resident page or null
   * for a GPA no RAM/ROM backs (then `lastGpa` holds the GPA), and fills the TLB when the
   * fast path may use the page. Throws #PF.
   */
  private translate4k(lo: number, hi: number, access: Access): GuestPage | null {
    const w = walk(this, lo, hi, access, this.userAccess(), true)!;
    const gpa = w.gpa;
    this.lastGpa = gpa + (lo & 0xfff);
    const pfn = Math.floor(gpa / 4096);
    const region = this.mem.regionOf(pfn);
    const perm = region?.permissions;
    if (!region || !(access === Access.Read ? perm!.read : access === Access.Write ? perm!.write : perm!.execute)) {
      this.lastGpaMapped = region !== undefined;
      return null;
    }
    const page = this.mem.page(pfn)!;
    if (this.implicitSupervisor || (this.alignCheck && access !== Access.Exec) || ((this.watchpoints.length !== 0 || (this.dr7 & 0xff) !== 0) && this.pageWatched(lo, hi, gpa))) return page;
    const pn = lo >>> 12, i = pn & TLB_MASK;
    if (w.large) this.tlbHasLarge = true;
    const g = w.global ? 1 : 0;
    if (access === Access.Read) {
      this.rTag[i] = pn; this.rTagHi[i] = hi; this.rPage[i] = page.bytes; this.rView[i] = page.view; this.tlbGlobal[i] = g;
    } else if (access === Access.Write) {
      if (!page.blocks) { this.wTag[i] = pn; this.wTagHi[i] = hi; this.wPage[i] = page.bytes; this.wView[i] = page.view; this.tlbGlobal[TLB_SIZE + i] = g; }
    } else {
      this.xTag[i] = pn; this.xTagHi[i] = hi; this.xPage[i] = page; this.tlbGlobal[2 * TLB_SIZE + i] = g;
    }
    return page;
  }
  lastGpa = 0;
  lastGpaMapped = false;

  private pageWatched(lo: number, hi: number, gpa: number): boolean {
    const lin = BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0);
    const linPage = lin & ~0xfffn, gpaPage = BigInt(gpa) & ~0xfffn;
    for (const w of this.watchpoints) {
      const page = w.physical ? gpaPage : linPage;
      if (w.address < page + 4096n && w.address + BigInt(w.size) > page) return true;
    }
    for (let n = 0; n < 4; n++) {
      if (((this.dr7 >> (n * 2)) & 3) && ((this.dr7 >>> (16 + n * 4)) & 3) !== 0) {
        const a = BigInt(this.drHi[n] >>> 0) << 32n | BigInt(this.drLo[n] >>> 0);
        if ((a & ~0xfffn) === linPage) return true;
      }
    }
    return false;
  }

  private readSlow(lo: number, hi: number, size: number): number {
    if (!this.long64) hi = 0;
    if (this.alignCheck && (lo & (size - 1)) && !this.implicitSupervisor) this.raise(Vec.AC, 0);
    const o = lo & 0xfff;
    if (o + size > 0x1000) {
      // Page-crossing: byte by byte (each byte through the TLB), little-endian.
      let v = 0;
      for (let k = 0; k < size; k++) {
        const s = (lo >>> 0) + k;
        v |= this.read8(s | 0, s > 0xffffffff ? (hi + 1) | 0 : hi) << (8 * k);
      }
      return v;
    }
    const page = this.translate4k(lo, hi, Access.Read);
    this.checkWatch(lo, hi, size, false);
    if (!page) return this.mmioRead(lo, hi, size);
    const p = page.bytes;
    switch (size) {
      case 1: return p[o];
      case 2: return p[o] | (p[o + 1] << 8);
      case 4: return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
      default:
        this.hi = p[o + 4] | (p[o + 5] << 8) | (p[o + 6] << 16) | (p[o + 7] << 24);
        return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
    }
  }

  private writeSlow(lo: number, hi: number, size: number, v: number, vh: number): void {
    if (!this.long64) hi = 0;
    if (this.alignCheck && (lo & (size - 1)) && !this.implicitSupervisor) this.raise(Vec.AC, 0);
    const o = lo & 0xfff;
    if (o + size > 0x1000) {
      // Check both pages before writing anything so a #PF leaves memory unchanged.
      this.probeWrite(lo, hi, size);
      for (let k = 0; k < size; k++) {
        const s = (lo >>> 0) + k;
        const b = k < 4 ? v >> (8 * k) : vh >> (8 * (k - 4));
        this.writeSlowByte(s | 0, s > 0xffffffff ? (hi + 1) | 0 : hi, b);
      }
      return;
    }
    const page = this.translate4k(lo, hi, Access.Write);
    this.checkWatch(lo, hi, size, true);
    if (!page) { this.mmioWrite(lo, hi, size, v, vh); return; }
    const p = page.bytes;
    p[o] = v;
    if (size > 1) p[o + 1] = v >> 8;
    if (size > 2) { p[o + 2] = v >> 16; p[o + 3] = v >> 24; }
    if (size > 4) { p[o + 4] = vh; p[o + 5] = vh >> 8; p[o + 6] = vh >> 16; p[o + 7] = vh >> 24; }
    if (page.storeHitsCode(o, size)) this.codeWritten(page);
  }

  private writeSlowByte(lo: number, hi: number, v: number): void {
    const page = this.translate4k(lo, hi, Access.Write);
    this.checkWatch(lo, hi, 1, true);
    if (!page) { this.mmioWrite(lo, hi, 1, v, 0); return; }
    page.bytes[lo & 0xfff] = v;
    if (page.storeHitsCode(lo & 0xfff, 1)) this.codeWritten(page);
  }

  /** A store hit a page holding decoded code: drop it and stop the current block. */
  codeWritten(page: GuestPage): void {
    this.mem.invalidateCode(page);
    this.breakLoop = true;
  }

  private mmioRead(lo: number, hi: number, size: number): number {
    const gpa = this.lastGpa;
    for (let k = 0; k < this.mmioDone.length; k++) {
      const m = this.mmioDone[k];
      // Kept (not consumed) so a read-modify-write re-executed for its write still finds its read.
      if (!m.isWrite && m.gpa === gpa && m.size === size && m.at === this.icount) {
        let v = 0, vh = 0;
        for (let b = 0; b < Math.min(size, 4); b++) v |= m.value[b] << (8 * b);
        for (let b = 4; b < size; b++) vh |= m.value[b] << (8 * (b - 4));
        if (size === 8) this.hi = vh;
        return v;
      }
    }
    this.memoryExit(lo, hi, size, MemoryAccessType.Read, 0, 0);
  }

  private mmioWrite(lo: number, hi: number, size: number, v: number, vh: number): void {
    const gpa = this.lastGpa;
    for (let k = 0; k < this.mmioDone.length; k++) {
      const m = this.mmioDone[k];
      if (m.isWrite && m.gpa === gpa && m.size === size && m.at === this.icount) return;
    }
    this.memoryExit(lo, hi, size, MemoryAccessType.Write, v, vh);
  }

  private memoryExit(lo: number, hi: number, size: number, type: MemoryAccessType, v: number, vh: number): never {
    const m = this.exit.memory;
    m.gpa = BigInt(this.lastGpa);
    m.gva = BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0);
    m.gvaValid = true;
    m.accessType = type;
    m.gpaUnmapped = !this.lastGpaMapped;
    m.size = size;
    m.data = new Uint8Array(type === MemoryAccessType.Write ? size : 0);
    for (let b = 0; b < m.data.length; b++) m.data[b] = b < 4 ? v >> (8 * b) : vh >> (8 * (b - 4));
    this.exitWith(CpuExitReason.MemoryAccess, this.curInsn);
  }

  private checkWatch(lo: number, hi: number, size: number, write: boolean): void {
    if (this.watchpoints.length !== 0) {
      const lin = BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0);
      const gpa = BigInt(this.lastGpa);
      for (const w of this.watchpoints) {
        if (!(write ? w.write : w.read)) continue;
        const a = w.physical ? gpa : lin;
        if (a < w.address + BigInt(w.size) && a + BigInt(size) > w.address) {
          this.watchHit = true;
          this.breakLoop = true;
          const x = this.exit.watch;
          x.address = a; x.size = size; x.isWrite = write; x.physical = w.physical;
        }
      }
    }
    if (this.dr7 & 0xff) {
      for (let n = 0; n < 4; n++) {
        if (((this.dr7 >> (n * 2)) & 3) === 0) continue;
        const rw = (this.dr7 >>> (16 + n * 4)) & 3;
        if (rw === 0 || rw === 2 || (rw === 1 && !write)) continue;
        const len = [1, 2, 8, 4][(this.dr7 >>> (18 + n * 4)) & 3];
        const a = (this.drLo[n] >>> 0) & ~(len - 1);
        if (this.drHi[n] === hi && (lo >>> 0) < a + len && (lo >>> 0) + size > a) this.dataBreakHits |= 1 << n;
      }
    }
  }
  /** DR0-3 data breakpoints matched by the current instruction (bit n = DRn). */
  dataBreakHits = 0;

  /** Instruction fetch page for linear (lo, hi): the exec-TLB fast path or a walk. */
  fetchPage(lo: number, hi: number): GuestPage {
    const pn = lo >>> 12, i = pn & TLB_MASK;
    if (this.xTag[i] === pn && this.xTagHi[i] === hi) return this.xPage[i];
    const p = this.translate4k(lo, hi, Access.Exec);
    if (!p) {
      const m = this.exit.memory;
      m.gpa = BigInt(this.lastGpa); m.gva = BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0); m.gvaValid = true;
      m.accessType = MemoryAccessType.Execute; m.gpaUnmapped = !this.lastGpaMapped; m.size = 1; m.data = new Uint8Array(0);
      this.exitWith(CpuExitReason.MemoryAccess, null);
    }
    return p;
  }

  // =====================================================================================
  // TLB maintenance (MemoryListener + CR3/INVLPG)
  // =====================================================================================

  flushTlb(includeGlobal: boolean): void {
    for (let i = 0; i < TLB_SIZE; i++) {
      if (!includeGlobal && this.tlbGlobal[i]) continue;
      this.rTag[i] = -1;
    }
    for (let i = 0; i < TLB_SIZE; i++) {
      if (!includeGlobal && this.tlbGlobal[TLB_SIZE + i]) continue;
      this.wTag[i] = -1;
    }
    for (let i = 0; i < TLB_SIZE; i++) {
      if (!includeGlobal && this.tlbGlobal[2 * TLB_SIZE + i]) continue;
      this.xTag[i] = -1;
    }
    if (includeGlobal) { this.tlbGlobal.fill(0); this.tlbHasLarge = false; }
    this.breakLoop = true;
  }

  /** INVLPG: drops the translation of one linear page (all of the TLB if large pages are cached). */
  invalidatePage(lo: number, hi: number): void {
    if (this.tlbHasLarge) { this.flushTlb(true); return; }
    const pn = lo >>> 12, i = pn & TLB_MASK;
    if (this.rTag[i] === pn && this.rTagHi[i] === hi) this.rTag[i] = -1;
    if (this.wTag[i] === pn && this.wTagHi[i] === hi) this.wTag[i] = -1;
    if (this.xTag[i] === pn && this.xTagHi[i] === hi) this.xTag[i] = -1;
    this.breakLoop = true;
  }

  onCodePage(page: GuestPage): void {
    for (let i = 0; i < TLB_SIZE; i++) if (this.wTag[i] !== -1 && this.wPage[i] === page.bytes) this.wTag[i] = -1;
  }

  onRemap(): void { this.flushTlb(true); }

  // =====================================================================================
  // Stack
  // =====================================================================================

  /** Pushes `size` bytes (2, 4, 8). RSP changes only if the write succeeds. */
  push(size: number, v: number, vh: number): void {
    if (this.stackSize === 8) {
      const s = (this.r[4] >>> 0) - size;
      const lo = s | 0, hi = (this.rh[4] - (s < 0 ? 1 : 0)) | 0;
      if (((hi << 16) >> 16) !== hi) this.raise(Vec.SS, 0);
      this.writeN(lo, hi, size, v, vh);
      this.r[4] = lo; this.rh[4] = hi;
      return;
    }
    const mask = this.stackSize === 4 ? -1 : 0xffff;
    const sp = (this.r[4] - size) & mask;
    const lin = this.segAddr(Seg.SS, sp, size, true);
    this.writeN(lin, 0, size, v, vh);
    if (mask === -1) this.r[4] = sp; else this.r[4] = (this.r[4] & ~0xffff) | sp;
  }

  /** Pops `size` bytes; returns lo (hi in `hi` for 8). */
  pop(size: number): number {
    const v = this.peekStack(size, 0);
    const vh = this.hi;
    this.addSp(size);
    this.hi = vh;
    return v;
  }

  /** Reads `size` bytes at RSP + offset without popping. */
  peekStack(size: number, offset: number): number {
    if (this.stackSize === 8) {
      const s = (this.r[4] >>> 0) + offset;
      const lo = s | 0, hi = (this.rh[4] + (s > 0xffffffff ? 1 : 0)) | 0;
      if (((hi << 16) >> 16) !== hi) this.raise(Vec.SS, 0);
      return this.readN(lo, hi, size);
    }
    const mask = this.stackSize === 4 ? -1 : 0xffff;
    const lin = this.segAddr(Seg.SS, (this.r[4] + offset) & mask, size, false);
    return this.readN(lin, 0, size);
  }

  addSp(n: number): void {
    if (this.stackSize === 8) {
      const s = (this.r[4] >>> 0) + n;
      this.r[4] = s | 0;
      this.rh[4] = (this.rh[4] + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
    } else if (this.stackSize === 4) this.r[4] = (this.r[4] + n) | 0;
    else this.r[4] = (this.r[4] & ~0xffff) | ((this.r[4] + n) & 0xffff);
  }

  // =====================================================================================
  // Branch targets
  // =====================================================================================

  /** Sets the next RIP to an absolute target (lo, hi) with operand-size truncation and the CS limit check. */
  jumpTo(lo: number, hi: number, os: number): void {
    if (os === 8) {
      if (((hi << 16) >> 16) !== hi) this.gp(0);
      this.nextLo = lo; this.nextHi = hi;
      return;
    }
    if (os === 2) lo &= 0xffff;
    if (!this.long64 && (lo >>> 0) > this.segLimit[Seg.CS]) this.gp(0);
    this.nextLo = lo; this.nextHi = 0;
  }

  /** Relative branch by a sign-extended displacement from the next RIP. */
  jumpRel(disp: number, os: number): void {
    if (os === 8) {
      const s = (this.nextLo >>> 0) + disp;
      const hi = (this.nextHi + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
      this.jumpTo(s | 0, hi, 8);
    } else this.jumpTo((this.nextLo + disp) | 0, 0, os);
  }

  // =====================================================================================
  // Run loop
  // =====================================================================================

  /** The instruction being executed (for exits raised from deep helpers). */
  curInsn: Insn | null = null;
  /** Executions of a 64-bit or flat 32-bit block before it is translated to JavaScript (jit/translator.ts); -1 disables translation. */
  jitThreshold = 16;

  run(maxInstructions: number): CpuExitReason {
    this.stopAt = this.icount + Math.max(0, Math.floor(maxInstructions));
    if (this.mem !== undefined && this.exitInsn === null) this.mmioDone.length = 0;
    this.exitInsn = null;
    // Faults retire nothing, so a handler that faults at once (forever) must use up the budget
    // too, or run() never returns (found by test/reliability/cpuFuzz.ts).
    let deliveries = 0;
    for (;;) {
      try {
        return this.runInner();
      } catch (e) {
        let thrown: unknown = e;
        if (thrown === FAULT) {
          // Delivery itself may exit (UnsupportedFeature, MemoryAccess on the IDT/stack).
          try {
            if (this.handleFault()) return this.exitReason;
            if (++deliveries >= maxInstructions) { this.exitReason = CpuExitReason.BudgetExhausted; return this.exitReason; }
            continue;
          } catch (e2) { thrown = e2; }
        }
        if (thrown === EXIT) return this.exitReason;
        if (thrown === FAULT) { this.exit.message = 'fault escaped event delivery'; thrown = new Error(this.exit.message); }
        this.exit.message = `internal emulator error at RIP ${this.fmtRip()}: ${thrown instanceof Error ? thrown.stack ?? thrown.message : String(thrown)}`;
        this.exitReason = CpuExitReason.InternalError;
        return CpuExitReason.InternalError;
      }
    }
  }

  private fmtRip(): string {
    return `0x${(BigInt(this.ripHi >>> 0) << 32n | BigInt(this.ripLo >>> 0)).toString(16)}`;
  }

  private runInner(): CpuExitReason {
    for (;;) {
      if (this.cancelRequested) { this.cancelRequested = false; this.exitReason = CpuExitReason.Canceled; return CpuExitReason.Canceled; }
      if (this.pendingEvent) {
        const ev = this.pendingEvent;
        this.pendingEvent = undefined;
        if (ev.softLen) { this.nextLo = (this.ripLo + ev.softLen) & (this.codeMode === 0 ? 0xffff : -1); this.nextHi = this.ripHi; }
        // A delivery that triple-faults (an injected #GP with no usable IDT) must stop here: going
        // on would re-execute the instruction that exited, which exits again, forever.
        if (this.deliver(ev.vector, ev.hasErrorCode, ev.errorCode, (ev.softLen ?? 0) > 0, true) === DeliveryOutcome.TripleFault) return CpuExitReason.TripleFault;
        if (ev.softLen) this.icount++; // the INT3/INTO/INT1 retired
        continue;
      }
      if (this.icount >= this.stopAt) { this.exitReason = CpuExitReason.BudgetExhausted; return CpuExitReason.BudgetExhausted; }
      if ((this.intSource !== undefined || this.interruptWindowExiting) && (this.flags & IF) && this.icount !== this.shadowUntil) {
        if (this.interruptWindowExiting) { this.exitReason = CpuExitReason.InterruptWindow; this.exitInsn = null; this.exit.instructionLength = 0; return CpuExitReason.InterruptWindow; }
        if (this.intSource && this.intSource.pendingVector() >= 0 && (this.intSource.pendingVector() >> 4) > this.tpr) {
          const v = this.intSource.acknowledge();
          if (this.deliver(v, false, 0, false, false) === DeliveryOutcome.TripleFault) return CpuExitReason.TripleFault;
          continue;
        }
      }
      const b = this.getBlock();
      if (b.bpAtStart && this.bpSkipRip !== this.icount) {
        this.exitReason = CpuExitReason.Breakpoint; this.exitInsn = b.insns[0]; this.fillInstructionBytes(b.insns[0]);
        this.bpSkipRip = this.icount;
        return CpuExitReason.Breakpoint;
      }
      if (this.slowStep) { this.stepSlow(b.insns[0]); continue; }
      this.breakLoop = false;
      const insns = b.insns;
      if ((b.mode === 2 || (b.mode === 1 && this.flat32)) && this.jitThreshold >= 0) {
        // Hot 64-bit and flat 32-bit blocks run as translated JavaScript when the whole block fits the budget.
        if (b.jit === null) { if (++b.hits > this.jitThreshold) translateHot(this, b, false); } else if (!b.inRegion && ++b.hits > this.jitThreshold * 64) translateHot(this, b, true);
        if (b.jit !== null && this.stopAt - this.icount >= insns.length && this.icount !== this.shadowUntil) {
          // The first calls of a new translation get a short budget, so that its exits run (and
          // V8 records their types) before the loops inside are optimized: an exit first reached
          // in optimized code would deoptimize it.
          b.jit(this, b.jitEntry, b.jitCalls++ < 3 ? Math.min(this.stopAt, this.icount + 512) : this.stopAt);
          if (this.watchHit) { this.watchHit = false; this.exitReason = CpuExitReason.Watchpoint; this.exitInsn = null; return CpuExitReason.Watchpoint; }
          continue;
        }
      }
      // Under an interrupt shadow with interrupts to deliver, retire one instruction and look again.
      const n = this.icount === this.shadowUntil && (this.intSource !== undefined || this.interruptWindowExiting) ? 1 : insns.length;
      const ipMask = this.codeMode === 0 ? 0xffff : -1;
      for (let k = 0; k < n; k++) {
        const d = insns[k];
        this.curInsn = d;
        this.nextLo = (this.ripLo + d.len) & ipMask;
        this.nextHi = this.ripHi;
        d.fn(this, d);
        this.ripLo = this.nextLo; this.ripHi = this.nextHi;
        this.icount++;
        if (this.breakLoop || this.icount >= this.stopAt) break;
      }
      if (this.watchHit) { this.watchHit = false; this.exitReason = CpuExitReason.Watchpoint; this.exitInsn = null; return CpuExitReason.Watchpoint; }
    }
  }

  /** Executes one instruction with the per-instruction debug work (TF, DR0-3). */
  private stepSlow(d: Insn): void {
    // Instruction breakpoints in DR0-3 (fault-class #DB, suppressed by RF).
    if ((this.dr7 & 0xff) && !(this.flags & RF)) {
      let hits = 0;
      for (let n = 0; n < 4; n++) {
        if (((this.dr7 >> (n * 2)) & 3) && ((this.dr7 >>> (16 + n * 4)) & 3) === 0) {
          const lin = this.long64 ? this.ripLo : (this.segBaseLo[Seg.CS] + this.ripLo) | 0;
          const linHi = this.long64 ? this.ripHi : 0;
          if (this.drLo[n] === lin && this.drHi[n] === linHi) hits |= 1 << n;
        }
      }
      if (hits) { this.dr6 = (this.dr6 & ~0xf) | hits; this.raise(Vec.DB); }
    }
    const tf = (this.flags & TF) !== 0;
    this.dataBreakHits = 0;
    this.curInsn = d;
    this.nextLo = (this.ripLo + d.len) & (this.codeMode === 0 ? 0xffff : -1);
    this.nextHi = this.ripHi;
    // RF covers this instruction only; an IRET/POPF that loads RF=1 keeps it for the next one.
    const rf = this.flags & RF;
    this.flags &= ~RF;
    try { d.fn(this, d); } catch (e) { this.flags |= rf; throw e; }
    this.ripLo = this.nextLo; this.ripHi = this.nextHi;
    this.icount++;
    let dr6 = 0;
    // MOV SS / POP SS hold the single-step trap until after the next instruction.
    if (tf && this.debugShadowUntil !== this.icount) dr6 |= 0x4000;
    if (this.dataBreakHits) dr6 |= this.dataBreakHits;
    this.slowStep = (this.flags & TF) !== 0 || (this.dr7 & 0xff) !== 0;
    // #DB is a trap here: RIP already points past the instruction.
    if (dr6) { this.dr6 = (this.dr6 & ~0x400f) | dr6; this.raise(Vec.DB); }
    if (this.watchHit) { this.watchHit = false; this.exitReason = CpuExitReason.Watchpoint; this.exitInsn = null; throw EXIT; }
  }

  /** Finds (or builds) the decoded block at the current RIP. */
  private getBlock(): Block {
    let lo: number, hi: number;
    if (this.flags & VM) this.unsupported('virtual-8086 mode is not emulated');
    if (this.long64) { lo = this.ripLo; hi = this.ripHi; } else {
      if ((this.ripLo >>> 0) > this.segLimit[Seg.CS]) this.gp(0);
      lo = (this.segBaseLo[Seg.CS] + this.ripLo) | 0; hi = 0;
    }
    const page = this.fetchPage(lo, hi);
    const blocks = page.blocks;
    if (blocks) {
      const b = blocks[lo & 0xfff] as Block | undefined;
      if (b && b.mode === this.codeMode && b.linLo === lo && b.linHi === hi && b.epoch === this.blockEpoch) return b;
    }
    return buildBlock(this, page, lo, hi);
  }

  /** Breakpoint test used by the block builder. */
  isBreakpoint(lo: number, hi: number): boolean {
    return this.bpSet.size !== 0 && this.bpSet.has(hi * 4294967296 + (lo >>> 0));
  }

  // =====================================================================================
  // Exceptions and interrupts
  // =====================================================================================

  /** Handles a thrown FAULT; returns true if run() must return (exception exit or triple fault). */
  private handleFault(): boolean {
    const v = this.faultVec;
    this.mmioDone.length = 0;
    this.watchHit = false;
    if (v < 32 && (this.exceptionBitmap & (1 << v)) && this.deliveringVector < 0) {
      this.pendingEvent = { vector: v, hasErrorCode: this.faultHasCode, errorCode: this.faultCode };
      const x = this.exit.exception;
      x.vector = v; x.hasErrorCode = this.faultHasCode; x.errorCode = this.faultCode;
      x.parameter = v === Vec.PF ? (BigInt(this.cr2Hi >>> 0) << 32n | BigInt(this.cr2Lo >>> 0)) : v === Vec.DB ? BigInt(this.dr6 >>> 0) : 0n;
      this.exitReason = CpuExitReason.Exception;
      this.fillInstructionBytes(this.curInsn);
      return true;
    }
    return this.deliver(v, this.faultHasCode, this.faultCode, false, false) === DeliveryOutcome.TripleFault;
  }

  /** Delivers an event at the current RIP (faults) or after it (traps, `nextIsRip`). */
  deliver(vector: number, hasCode: boolean, code: number, software: boolean, injected: boolean): DeliveryOutcome {
    const out = deliverEvent(this, vector, hasCode, code, software, injected);
    if (out === DeliveryOutcome.TripleFault) {
      this.exitReason = CpuExitReason.TripleFault;
      this.exit.message = 'triple fault';
      this.exitInsn = null;
      this.exit.instructionLength = 0;
    }
    this.breakLoop = true;
    return out;
  }

  // =====================================================================================
  // VirtualCpu: cancellation, completion, configuration
  // =====================================================================================

  cancel(): void { this.cancelRequested = true; this.stopAt = 0; this.breakLoop = true; }

  private retireExited(): Insn {
    const d = this.exitInsn;
    if (!d) throw new Error('no intercepted instruction to complete');
    this.nextLo = (this.ripLo + d.len) & (this.codeMode === 0 ? 0xffff : -1);
    this.nextHi = this.ripHi;
    return d;
  }

  private finishRetire(): void {
    this.ripLo = this.nextLo; this.ripHi = this.nextHi;
    this.icount++;
    this.exitInsn = null;
    this.mmioDone.length = 0;
  }

  completeIo(readValue?: number): void {
    const d = this.retireExited();
    completeIoInsn(this, d, readValue ?? 0);
    this.finishRetire();
  }

  completeMsr(readValue?: bigint): void {
    this.retireExited();
    if (!this.exit.msr.isWrite) {
      const v = BigInt.asUintN(64, readValue ?? 0n);
      this.setReg(0, 4, Number(v & 0xffffffffn) | 0, 0);
      this.setReg(2, 4, Number(v >> 32n) | 0, 0);
    }
    this.finishRetire();
  }

  completeCpuid(eax: number, ebx: number, ecx: number, edx: number): void {
    this.retireExited();
    this.setReg(0, 4, eax | 0, 0); this.setReg(3, 4, ebx | 0, 0); this.setReg(1, 4, ecx | 0, 0); this.setReg(2, 4, edx | 0, 0);
    this.finishRetire();
  }

  completeMemoryAccess(readData?: Uint8Array): void {
    if (!this.exitInsn) throw new Error('no intercepted memory access to complete');
    const m = this.exit.memory;
    const value = new Uint8Array(8);
    if (readData) value.set(readData.subarray(0, 8));
    this.mmioDone.push({ gpa: Number(m.gpa), size: m.size, isWrite: m.accessType === MemoryAccessType.Write, value, at: this.icount });
    // The instruction re-executes at the next run() and consumes the completed access.
  }

  skipInstruction(): void {
    this.retireExited();
    this.finishRetire();
  }

  injectException(vector: number, errorCode?: number): void {
    this.pendingEvent = { vector: vector & 0xff, hasErrorCode: errorCode !== undefined, errorCode: errorCode ?? 0 };
    this.exitInsn = null;
  }

  clearPendingException(): void { this.pendingEvent = undefined; }

  /**
   * INT3/INTO/INT1 whose vector is in the exception-exit bitmap: exit before delivery with RIP
   * on the instruction; the next run() delivers it as a software exception (returning past it).
   */
  exitIfSoftwareExceptionIntercepted(vector: number, d: Insn): void {
    if (!(this.exceptionBitmap & (1 << vector))) return;
    this.pendingEvent = { vector, hasErrorCode: false, errorCode: 0, softLen: d.len };
    const x = this.exit.exception;
    x.vector = vector; x.hasErrorCode = false; x.errorCode = 0; x.parameter = 0n;
    this.exitWith(CpuExitReason.Exception, d);
  }

  setExceptionExitBitmap(bitmap: number): void { this.exceptionBitmap = bitmap >>> 0; }

  setMsrExits(indices: Iterable<number>, unknownMsrsExit: boolean): void {
    this.msrExitSet = new Set([...indices].map((i) => i >>> 0));
    this.unknownMsrsExit = unknownMsrsExit;
  }

  setRdtscExiting(on: boolean): void { this.rdtscExiting = on; }
  setInterruptWindowExiting(on: boolean): void { this.interruptWindowExiting = on; }
  setInterruptSource(source: InterruptSource | undefined): void { this.intSource = source; }
  /** In-process port I/O (io.ts); undefined: every IN/OUT exits. */
  portIo: PortIoHandler | undefined = undefined;
  setPortIoHandler(handler: PortIoHandler | undefined): void { this.portIo = handler; }
  /** Makes run() return BudgetExhausted as soon as the current instruction retires. */
  stopAfterInstruction(): void { this.stopAt = this.icount + 1; this.breakLoop = true; }

  setInstructionBreakpoints(addresses: Iterable<bigint>): void {
    this.bpSet = new Set([...addresses].map((a) => Number(BigInt.asUintN(64, a) >> 32n) * 4294967296 + Number(BigInt.asUintN(64, a) & 0xffffffffn)));
    this.blockEpoch++;
  }

  setWatchpoints(list: readonly Watchpoint[]): void {
    this.watchpoints = list.map((w) => ({ ...w }));
    this.flushTlb(true);
  }

  // =====================================================================================
  // VirtualCpu: register access (cold path, bigint at the seam)
  // =====================================================================================

  getGpr(index: number): bigint { return join(this.r[index], this.rh[index]); }
  setGpr(index: number, value: bigint): void { [this.r[index], this.rh[index]] = split(value); }
  getRip(): bigint { return join(this.ripLo, this.ripHi); }
  setRip(value: bigint): void { [this.ripLo, this.ripHi] = split(value); this.exitInsn = null; }
  getRflags(): bigint { return BigInt(getFlags(this) >>> 0); }
  setRflags(value: bigint): void {
    this.flags = (Number(BigInt.asUintN(32, value)) & 0x3f7fd5) | 2;
    this.lfOp = Lf.None;
    this.updateMode();
  }

  getSegment(seg: Seg): SegmentValue { return this.segValue(seg); }
  setSegment(seg: Seg, v: SegmentValue): void {
    const [lo, hi] = split(v.base);
    // A data segment register without P is unusable (a null selector load), as in VMX/Hyper-V state.
    const unusable = seg !== Seg.CS && (v.attributes & 0x80) === 0 ? 0x10000 : 0;
    this.setSegRaw(seg, v.selector, lo, hi, v.limit, (v.attributes & 0xffff) | unusable);
    this.updateMode();
  }
  getTr(): SegmentValue { return this.segValue(7); }
  setTr(v: SegmentValue): void { const [lo, hi] = split(v.base); this.setSegRaw(7, v.selector, lo, hi, v.limit, v.attributes & 0xffff); }
  getLdtr(): SegmentValue { return this.segValue(6); }
  setLdtr(v: SegmentValue): void { const [lo, hi] = split(v.base); this.setSegRaw(6, v.selector, lo, hi, v.limit, v.attributes & 0xffff); }
  getGdtr(): TableValue { return { base: join(this.gdtBaseLo, this.gdtBaseHi), limit: this.gdtLimit }; }
  setGdtr(v: TableValue): void { [this.gdtBaseLo, this.gdtBaseHi] = split(v.base); this.gdtLimit = v.limit & 0xffff; }
  getIdtr(): TableValue { return { base: join(this.idtBaseLo, this.idtBaseHi), limit: this.idtLimit }; }
  setIdtr(v: TableValue): void { [this.idtBaseLo, this.idtBaseHi] = split(v.base); this.idtLimit = v.limit & 0xffff; }

  private segValue(s: number): SegmentValue {
    const a = this.segAttr[s];
    // Unusable segments report P = 0 in the Hyper-V encoding.
    return { base: join(this.segBaseLo[s], this.segBaseHi[s]), limit: this.segLimit[s], selector: this.segSel[s], attributes: (a & 0x10000) ? a & 0xff7f : a & 0xffff };
  }

  getCr(n: 0 | 2 | 3 | 4 | 8): bigint {
    switch (n) {
      case 0: return BigInt(this.cr0 >>> 0);
      case 2: return join(this.cr2Lo, this.cr2Hi);
      case 3: return join(this.cr3Lo, this.cr3Hi);
      case 4: return BigInt(this.cr4 >>> 0);
      case 8: return BigInt(this.tpr);
    }
  }

  setCr(n: 0 | 2 | 3 | 4 | 8, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    const [lo, hi] = split(v);
    switch (n) {
      case 0: if (!this.validCr0(lo, hi)) throw new RangeError(`illegal CR0 value 0x${v.toString(16)}`); this.cr0 = lo | 0x10; break;
      case 2: this.cr2Lo = lo; this.cr2Hi = hi; break;
      case 3: if (hi & ~0xfffff) throw new RangeError('CR3 sets reserved bits'); this.cr3Lo = lo; this.cr3Hi = hi; break;
      case 4: if (hi !== 0 || (lo & ~CR4_SUPPORTED)) throw new RangeError(`CR4 value 0x${v.toString(16)} sets unsupported bits`); this.cr4 = lo; break;
      case 8: if (v > 15n) throw new RangeError('CR8 is 4 bits'); this.tpr = lo; break;
    }
    this.updateMode();
    this.flushTlb(true);
  }

  /** CR0 consistency (SDM 2.5, MOV to CR0 #GP conditions). */
  validCr0(lo: number, hi: number): boolean {
    if (hi !== 0) return false;
    if ((lo & CR0_PG) && !(lo & CR0_PE)) return false;
    if ((lo & 0x20000000) && !(lo & 0x40000000)) return false; // NW without CD
    if ((lo & CR0_PG) && (this.efer & EFER_LME) && !(this.cr4 & CR4_PAE)) return false;
    return true;
  }

  getDr(n: number): bigint {
    if (n >= 0 && n < 4) return join(this.drLo[n], this.drHi[n]);
    if (n === 6 || n === 4) return BigInt(this.dr6 >>> 0);
    if (n === 7 || n === 5) return BigInt(this.dr7 >>> 0);
    throw new RangeError(`no DR${n}`);
  }

  setDr(n: number, value: bigint): void {
    const [lo, hi] = split(value);
    if (n >= 0 && n < 4) { this.drLo[n] = lo; this.drHi[n] = hi; } else if (n === 6) this.dr6 = (lo | 0xffff0ff0) & ~0x1000;
    else if (n === 7) { this.dr7 = (lo | 0x400) & ~0xd800; } else throw new RangeError(`no DR${n}`);
    this.updateMode();
    this.flushTlb(true);
  }

  getXcr0(): bigint { return BigInt(this.xcr0 >>> 0); }
  setXcr0(value: bigint): void {
    if (value !== 1n && value !== 3n) throw new RangeError('XCR0 supports x87 (and SSE) state only');
    this.xcr0 = Number(value);
  }

  getMsr(index: number): bigint | undefined { return this.msrs.get(index >>> 0); }
  setMsr(index: number, value: bigint): boolean { return this.msrs.set(index >>> 0, BigInt.asUintN(64, value)); }

  getXmm(index: number): [bigint, bigint] {
    const x = this.xmm, b = index * 4;
    return [join(x[b], x[b + 1]), join(x[b + 2], x[b + 3])];
  }
  setXmm(index: number, low: bigint, high: bigint): void {
    const b = index * 4;
    [this.xmm[b], this.xmm[b + 1]] = split(low);
    [this.xmm[b + 2], this.xmm[b + 3]] = split(high);
  }
  getMxcsr(): number { return this.mxcsr; }
  setMxcsr(value: number): void {
    if (value & ~0xffff) throw new RangeError('MXCSR reserved bits set');
    this.mxcsr = value;
  }
  getFpuControl(): { fcw: number; fsw: number; ftw: number; fop: number; fip: bigint; fdp: bigint } { return { ...this.fpu }; }
  setFpuControl(v: { fcw: number; fsw: number; ftw: number; fop: number; fip: bigint; fdp: bigint }): void { this.fpu = { ...v }; }

  getInterruptShadow(): boolean { return this.icount === this.shadowUntil; }
  setInterruptShadow(on: boolean): void { this.shadowUntil = on ? this.icount : -1; }
  getPendingEvent(): { vector: number; hasErrorCode: boolean; errorCode: number } | undefined {
    const ev = this.pendingEvent;
    return ev ? { vector: ev.vector, hasErrorCode: ev.hasErrorCode, errorCode: ev.errorCode } : undefined;
  }

  translate(linear: bigint, access: MemoryAccessType, asSupervisor?: boolean): bigint | undefined {
    const [lo, hi] = split(linear);
    const acc = access === MemoryAccessType.Write ? Access.Write : access === MemoryAccessType.Execute ? Access.Exec : Access.Read;
    const saveImplicit = this.implicitSupervisor;
    this.implicitSupervisor = asSupervisor ?? this.cpl !== 3;
    try {
      const w = walk(this, lo, (this.efer & EFER_LMA) ? hi : 0, acc, !this.implicitSupervisor && this.cpl === 3, false);
      return w ? BigInt(w.gpa + (lo & 0xfff)) : undefined;
    } catch (e) {
      if (e === EXIT || e === FAULT) return undefined;
      throw e;
    } finally {
      this.implicitSupervisor = saveImplicit;
    }
  }

  getCpl(): number { return this.cpl; }

  getMode(): 'real' | 'protected16' | 'protected32' | 'compatibility' | 'long64' | 'v8086' {
    if (!(this.cr0 & CR0_PE)) return 'real';
    if (this.flags & VM) return 'v8086';
    if (this.efer & EFER_LMA) return this.long64 ? 'long64' : 'compatibility';
    return this.codeMode === 1 ? 'protected32' : 'protected16';
  }

  /** TSC value (instruction-count derived, so runs are deterministic). */
  tsc(): number { return this.icount + this.tscOffset; }

  /** CPUID as the built-in model answers it (the VMM may override through completeCpuid). */
  cpuidDefaults(leaf: number, subleaf: number): [number, number, number, number] { return cpuidDefault(this, leaf, subleaf); }

  /** Materializes flags (for handlers that edit individual flags). */
  syncFlags(): void { materialize(this); }

  /** True when CR4.PGE etc. make CR3 writes keep global TLB entries. */
  cr3Written(): void { this.flushTlb((this.cr4 & CR4_PGE) === 0); }

  /** EFER write with its consistency rules; false if illegal. */
  writeEfer(v: number): boolean {
    if (v & ~(0x1 | 0x100 | 0x400 | 0x800)) return false;
    if (((v ^ this.efer) & EFER_LME) && (this.cr0 & CR0_PG)) return false;
    this.efer = (v & ~EFER_LMA) | (this.efer & EFER_LMA);
    if ((this.efer ^ v) & EFER_NXE) this.flushTlb(true);
    this.updateMode();
    this.flushTlb(true);
    return true;
  }

  /** Whether AC-based alignment checks apply (unused by the fast path; #AC is not raised). */
  acEnabled(): boolean { return (this.flags & AC) !== 0 && this.cpl === 3; }
}

export const CR4_SUPPORTED = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x100000 | 0x200000;

function join(lo: number, hi: number): bigint { return BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0); }
function split(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}
