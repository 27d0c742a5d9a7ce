// Block translator: turns decoded blocks of 64-bit code, or of 32-bit protected-mode code run
// with flat segments (Cpu.flat32: CS, DS, ES and SS based at 0 with 4 GiB limits and a 32-bit
// stack, so linear addresses equal offsets), into JavaScript source compiled once with
// `new Function`, so V8 optimizes the guest code as straight-line code.
//
// Contract of a translated region (see Cpu.runInner and translateRegion): it is entered at one
// of its blocks with RIP at the block's start, RF/TF/DR7 breakpoints off, no interrupt to
// deliver and breakLoop clear; each block it runs (the first, and those it chains to) checks
// that the budget covers it. It leaves RIP, the instruction count and the lazy flags exactly
// as the interpreter would after the same instructions, and it returns after any instruction
// whose slow path (TLB miss, MMIO, watchpoint, write to code) or generic handler set
// breakLoop. Common instructions are specialised inline (register file access, soft-TLB
// fast paths, lazy flags kept in JS locals and written to the CPU only where something can
// observe them); everything else calls the interpreter's handler, so correctness never
// depends on what is specialised.
//
// Precise state: before anything that can fault or exit (a TLB-miss slow path, a canonical
// check, a generic handler) the generated code stores RIP, next RIP, the current Insn, the
// instruction count and the pending flags, so a FAULT/EXIT thrown from there unwinds with
// exactly the interpreter's state. The fast paths store nothing.

import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import { Lf, cond, getCF, materialize, CF, OF } from '../flags';
import { aluRmReg, aluRegRm, aluRmImm, incDec, notNeg } from '../alu';
import { movRmReg, movRegRm, movRmImm, movx, lea, nop, pushReg, popReg, pushImm, setcc, cmov, xchg } from '../dataMove';
import { shiftRmImm, shiftRm1 } from '../shifts';
import { imulRegRm, imulRegRmImm } from '../muldiv';
import { jmpRel, jcc, callRel, retNear } from '../control';
import { muls64, PROD } from '../operands';
import { Seg } from '../vcpu';

/**
 * A compiled region: runs its block number `entry` from the block start, then on through
 * chained blocks of the region; returns nothing (state is in the CPU).
 */
export type JitFn = (c: Cpu, entry: number, stopAt: number) => void;

/** What a translator needs of a block (mode: 2 = 64-bit, 1 = 32-bit flat; see Cpu.codeMode). */
export interface TranslatableBlock { readonly insns: Insn[]; readonly mode: number; readonly linLo: number; readonly linHi: number; readonly bpAtStart: boolean }

/** The linear page of a region and its chainable blocks by page offset (-1: leave the region). */
interface RegionMap { readonly pageLo: number; readonly pageHi: number; readonly index: Int16Array }

const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
const VEC_SS = 12, VEC_GP = 13;

/**
 * The members of Cpu that generated source names. The source is text, so TypeScript cannot
 * check it; this list is checked against Cpu here, and test/emulator/jit.test.ts checks that
 * translated code names nothing else.
 */
export const CPU_MEMBERS_USED = [
  'r', 'rh', 'rTag', 'rTagHi', 'rPage', 'rView', 'wTag', 'wTagHi', 'wPage', 'wView', 'segBaseLo', 'segBaseHi',
  'icount', 'ripLo', 'ripHi', 'nextLo', 'nextHi', 'curInsn', 'breakLoop', 'hi',
  'lfOp', 'lfSize', 'lfA', 'lfAHi', 'lfB', 'lfBHi', 'lfRes', 'lfResHi', 'lfCf', 'lfOf',
  'readN', 'writeN', 'raise',
] as const satisfies readonly (keyof Cpu)[];

/** A precise-state point of a region: RIP, next RIP and instruction of one instruction. */
interface Site { readonly rl: number; readonly rh: number; readonly nl: number; readonly nh: number; readonly d: Insn }

/** Helpers the generated code closes over. */
const helpers = {
  cond, getCF, muls64, PROD,
  /** Stores the precise pre-instruction state of `s` with instruction count n (before a slow path). */
  at(c: Cpu, s: Site, n: number): void {
    c.ripLo = s.rl; c.ripHi = s.rh; c.nextLo = s.nl; c.nextHi = s.nh; c.curInsn = s.d; c.icount = n;
  },
  /** ROL/ROR flag update: only CF and OF change. */
  setCfOf(c: Cpu, cf: number, of: number): void {
    materialize(c);
    c.flags = (c.flags & ~(CF | OF)) | cf | (of ? OF : 0);
  },
};

/** Flag state produced by an instruction, held in JS locals named after it. */
interface Writer { kind: Lf; size: number; k: number }

/** Static knowledge about where the current arithmetic flags are. */
type Pend =
  | { t: 'cpu' } // the CPU's lf* fields / flags hold them
  | { t: 'w'; w: Writer } // locals of writer w hold them
  | { t: 'carried'; w: Writer } // loop head: locals of w if `carried`, else the CPU
  | { t: 'dead' }; // nobody observes them before the next full write

const isCanonical = (hi: number): boolean => ((hi << 16) >> 16) === hi;

/**
 * Translates blocks of 64-bit code that start in one linear page into one function (a region).
 * Inside it, a jump, call, fall-through or return whose target is another block of the region
 * goes there directly (`E = block; continue D`), with the guest registers kept in JS locals,
 * instead of returning to Cpu.runInner. That is block chaining: it is sound because the run
 * loop's per-block checks cannot change their answer without something setting breakLoop —
 * which makes the region return — or the budget running out, which each block checks on entry.
 * A block with a debugger breakpoint at its start is never chained into.
 */
export function translateRegion(blocks: readonly TranslatableBlock[]): JitFn {
  return compileRegion(blocks).fn;
}

/** The JavaScript a region translates to (for inspection and tests). */
export function regionSource(blocks: readonly TranslatableBlock[]): string {
  return compileRegion(blocks).source;
}

/**
 * Page offsets where control may go next after block b without a computed address: branch and
 * call targets, the fall-through, and the return site after a call. Only targets in the block's
 * own linear page are listed.
 */
export function staticSuccessors(b: TranslatableBlock): number[] {
  const last = b.insns[b.insns.length - 1];
  let len = 0;
  for (const d of b.insns) len += d.len;
  const end = (b.linLo >>> 0) + len, page = (b.linLo >>> 0) - (b.linLo & 0xfff);
  const out: number[] = [];
  const add = (t: number): void => { if (t >= page && t < page + 0x1000) out.push(t - page); };
  const branch = last.fn === jcc || last.fn === jmpRel || last.fn === callRel;
  if (branch && last.os === b.mode * 4) add(end + last.imm);
  if (!branch || last.fn !== jmpRel) add(end); // conditional, call return site, or a block cut short
  return out;
}

/** Whether block b ends with a branch to a computed address other than a RET (JMP/CALL through a register or memory). */
export function endsIndirect(b: TranslatableBlock): boolean {
  const last = b.insns[b.insns.length - 1];
  return (last.flags & 1) !== 0 && last.fn !== jcc && last.fn !== jmpRel && last.fn !== callRel && last.fn !== retNear;
}

/** Whether block b ends with a direct near branch back to its own start (such a block is translated as a loop). */
export function isSelfLoop(b: TranslatableBlock): boolean {
  const last = b.insns[b.insns.length - 1];
  if (b.bpAtStart || (last.fn !== jcc && last.fn !== jmpRel) || last.os !== b.mode * 4) return false;
  let len = 0;
  for (const d of b.insns) len += d.len;
  return (b.linLo >>> 0) + len + last.imm === (b.linLo >>> 0);
}

function compileRegion(blocks: readonly TranslatableBlock[]): { fn: JitFn; source: string } {
  const first = blocks[0];
  const map: RegionMap = { pageLo: first.linLo & ~0xfff, pageHi: first.linHi, index: new Int16Array(4096).fill(-1) };
  blocks.forEach((b, i) => {
    if (!b.bpAtStart && (b.linLo & ~0xfff) === map.pageLo && b.linHi === map.pageHi) map.index[b.linLo & 0xfff] = i;
  });
  const decls = new Set<string>();
  let body = '';
  const sites: Site[] = [];
  blocks.forEach((b, i) => { body += `case ${i}:{\n${new BlockCompiler(b, map, decls, sites).compile()}}\n`; });
  // Guest registers the specialised code touches live in JS locals x<i>/y<i> (low/high
  // halves): loaded at entry, written back before anything that can observe them (cold
  // paths, generic handlers, exits), reloaded after a generic handler.
  const used = new Set<number>(), dirty = new Set<number>();
  for (const m of body.matchAll(/\br(h?)\[(\d+)\](=(?!=))?/g)) { used.add(Number(m[2])); if (m[3]) dirty.add(Number(m[2])); }
  body = body.replace(/\br\[(\d+)\]/g, 'x$1').replace(/\brh\[(\d+)\]/g, 'y$1');
  // Write-backs before slow paths call one function, which keeps the region's bytecode small
  // (V8 optimizes a function later the bigger it is, and never past 60 KiB of bytecode).
  const wbArgs = [...dirty].map((i) => `x${i},y${i}`).join(',');
  const wbFn = `const WB=function(G,GH,${[...dirty].map((i) => `a${i},b${i}`).join(',')}){${[...dirty].map((i) => `G[${i}]=a${i};GH[${i}]=b${i};`).join('')}};`;
  const wb = dirty.size ? `WB(GR,GRH,${wbArgs});` : '';
  const rl = [...used].map((i) => `x${i}=GR[${i}];y${i}=GRH[${i}];`).join('');
  body = body.replaceAll('/*WB*/', wb).replaceAll('/*RL*/', rl);
  let src = 'let ic=c.icount,carried=false,E=entry,XL=0,XH=0,XN=0,LF=false,LK=0,LS=0,LA=0,LAH=0,LB=0,LBH=0,LR=0,LRH=0,LC=0,LO=0;\n';
  if (decls.size) src += `let ${[...decls].map((x) => `${x}=0`).join(',')};\n`;
  src += 'const GR=c.r,GRH=c.rh,rT=c.rTag,rTH=c.rTagHi,rP=c.rPage,rV=c.rView,wT=c.wTag,wTH=c.wTagHi,wP=c.wPage,wV=c.wView;\n';
  if (used.size) src += `let ${[...used].map((i) => `x${i}=GR[${i}],y${i}=GRH[${i}]`).join(',')};\n`;
  // Every exit leaves through one epilogue, so its stores and its count arithmetic have type
  // feedback after the first exit (a cold site reached later would deoptimize the whole region).
  src += `D:for(;;){switch(E){\n${body}}throw new Error('translated region fell through');}\n`;
  src += `if(LF){c.lfOp=LK;c.lfSize=LS;c.lfA=LA;c.lfAHi=LAH;c.lfB=LB;c.lfBHi=LBH;c.lfRes=LR;c.lfResHi=LRH;c.lfCf=LC;c.lfOf=LO;}\n${wb}c.ripLo=XL;c.ripHi=XH;c.icount=ic+XN;\n`;
  const factory = new Function('H', 'S', 'MAP', `${wbFn}return function jitRegion(c,entry,stopAt){\n${src}}`) as (h: typeof helpers, s: Site[], map: Int16Array) => JitFn;
  return { fn: factory(helpers, sites, map.index), source: wbFn + src };
}

class BlockCompiler {
  private readonly insns: Insn[];
  private readonly n: number;
  /** Offsets of each instruction from the block start (n + 1 entries). */
  private readonly off: number[] = [];
  private pend: Pend = { t: 'cpu' };
  private needed: boolean[] = [];
  private loop = false;
  /** 32-bit flat code: offsets are linear addresses, the high halves are 0. */
  private readonly m32: boolean;
  /** Site number of each instruction's precise state, once used. */
  private readonly siteOf: number[] = [];
  /** Exception a non-canonical address of the current memory access raises (#GP, or #SS for the stack). */
  private canonVec = VEC_GP;
  /** Operand size of near branches and stack operations. */
  private readonly wide: number;

  constructor(private readonly b: TranslatableBlock, private readonly map: RegionMap, private readonly decls: Set<string>, private readonly sites: Site[]) {
    this.m32 = b.mode === 1;
    this.wide = this.m32 ? 4 : 8;
    this.insns = b.insns;
    this.n = b.insns.length;
    let o = 0;
    for (const d of b.insns) { this.off.push(o); o += d.len; }
    this.off.push(o);
  }

  // ---- addresses of instruction boundaries (constant: the block's linear address is its RIP in 64-bit mode) ----
  private ripAt(j: number): [number, number] {
    const s = (this.b.linLo >>> 0) + this.off[j];
    if (this.m32) return [s | 0, 0];
    return [s | 0, (this.b.linHi + (s > 0xffffffff ? 1 : 0)) | 0];
  }

  private target(k: number): [number, number] | null {
    const d = this.insns[k];
    const [nl, nh] = this.ripAt(k + 1);
    if (this.m32) return [(nl + d.imm) | 0, 0]; // flat CS: the 4 GiB limit cannot be exceeded
    const s = (nl >>> 0) + d.imm;
    const hi = (nh + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
    if (!isCanonical(hi)) return null;
    return [s | 0, hi];
  }

  // ---- flag bookkeeping ----
  private flagLocals(k: number): void {
    for (const x of ['a', 'ah', 'b', 'bh', 'r', 'rh', 'cf', 'of']) this.decls.add(`f${k}${x}`);
  }

  private commitOf(w: Writer): string {
    const p = `f${w.k}`;
    switch (w.kind) {
      case Lf.Logic: return `c.lfOp=${Lf.Logic};c.lfSize=${w.size};c.lfRes=${p}r;c.lfResHi=${p}rh;`;
      case Lf.Res: return `c.lfOp=${Lf.Res};c.lfSize=${w.size};c.lfRes=${p}r;c.lfResHi=${p}rh;c.lfCf=${p}cf;c.lfOf=${p}of;`;
      default: return `c.lfOp=${w.kind};c.lfSize=${w.size};c.lfA=${p}a;c.lfAHi=${p}ah;c.lfB=${p}b;c.lfBHi=${p}bh;c.lfRes=${p}r;c.lfResHi=${p}rh;c.lfCf=${p}cf;`;
    }
  }

  /** Code handing the pending flags to the epilogue (LF false: the CPU already holds them). */
  private commitLeave(): string {
    const p = this.pend;
    const of = (w: Writer): string => {
      const f = `f${w.k}`;
      return `LF=true;LK=${w.kind};LS=${w.size};LA=${f}a;LAH=${f}ah;LB=${f}b;LBH=${f}bh;LR=${f}r;LRH=${f}rh;LC=${f}cf;LO=${f}of;`;
    };
    if (p.t === 'w') return of(p.w);
    if (p.t === 'carried') return `if(carried){${of(p.w)}}else LF=false;`;
    return 'LF=false;';
  }

  /** Leaves for RIP (lo, hi) after `retired` more instructions; the epilogue does the arithmetic (one site with type feedback). */
  private leave(lo: string, hi: string, retired: number): string {
    return `${this.commitLeave()}XL=${lo};XH=${hi};XN=${retired};break D;`;
  }

  private commit(): string {
    const p = this.pend;
    if (p.t === 'w') return this.commitOf(p.w);
    if (p.t === 'carried') return `if(carried){${this.commitOf(p.w)}}`;
    return '';
  }

  /** Code storing the precise pre-instruction state of instruction k (before anything that can fault). */
  private sync(k: number): string {
    let id = this.siteOf[k];
    if (id === undefined) {
      const [rl, rh] = this.ripAt(k), [nl, nh] = this.ripAt(k + 1);
      id = this.siteOf[k] = this.sites.push({ rl, rh, nl, nh, d: this.insns[k] }) - 1;
    }
    return `/*WB*/H.at(c,S[${id}],ic+${k});${this.commit()}`;
  }

  /** Code leaving the block after j retired instructions, at the static RIP of instruction j. */
  private exitAt(j: number): string {
    return this.goTo(j, this.ripAt(j));
  }

  /** Code leaving the block after `retired` instructions for the static target t: chained when t is a block of the region. */
  private goTo(retired: number, t: [number, number]): string {
    const m = t[1] === this.map.pageHi && (t[0] & ~0xfff) === this.map.pageLo ? this.map.index[t[0] & 0xfff] : -1;
    if (m >= 0) return `${this.commit()}ic+=${retired};E=${m};continue D;`;
    return this.leave(String(t[0]), String(t[1]), retired);
  }

  /** [statements, expression] for condition `cc` from the pending flags (commits and asks the interpreter when unknown). */
  private condExpr(cc: number): [string, string] {
    const p = this.pend;
    const e = p.t === 'w' ? condFromWriter(p.w, cc) : null;
    if (e !== null) return ['', `(${e})`];
    return [this.commit(), `(H.cond(c,${cc}))`];
  }

  /** [statements, expression] for CF of the pending flags as 0/1. */
  private cfExpr(): [string, string] {
    const p = this.pend;
    if (p.t === 'w') {
      const f = `f${p.w.k}`, s = p.w.size;
      switch (p.w.kind) {
        case Lf.Logic: return ['', '0'];
        case Lf.Sub: return ['', `(${ltu(s, `${f}a`, `${f}ah`, `${f}b`, `${f}bh`)}?1:0)`];
        case Lf.Add: return ['', `(${ltu(s, `${f}r`, `${f}rh`, `${f}a`, `${f}ah`)}?1:0)`];
        case Lf.Res: case Lf.Inc: case Lf.Dec: return ['', `${f}cf`];
        case Lf.Adc: return ['', `((${ltu(s, `${f}r`, `${f}rh`, `${f}a`, `${f}ah`)}||(${f}cf!==0&&${f}r===${f}a&&${f}rh===${f}ah))?1:0)`];
        case Lf.Sbb: return ['', `((${ltu(s, `${f}a`, `${f}ah`, `${f}b`, `${f}bh`)}||(${f}cf!==0&&${f}a===${f}b&&${f}ah===${f}bh))?1:0)`];
      }
    }
    return [this.commit(), 'H.getCF(c)'];
  }

  // ---- classification ----
  /** Specialised kind of instruction k, or null for the generic handler path. */
  private kindOf(k: number): string | null {
    const d = this.insns[k], fn = d.fn, s = d.os;
    // 64-bit code: 64-bit addressing only (67h-prefixed 32-bit addressing takes the generic
    // path). 32-bit code: 32-bit addressing through the flat segments only (not FS, GS or CS).
    const memOk = d.mod === 3 || (this.m32 ? d.as === 4 && (d.seg === Seg.ES || d.seg === Seg.SS || d.seg === Seg.DS) : d.as === 8);
    if (d.lock) return null;
    if (fn === aluRmReg || fn === aluRmImm || fn === aluRegRm) {
      return memOk ? 'alu' : null;
    }
    if (fn === incDec) return memOk ? 'incdec' : null;
    if (fn === movRmReg || fn === movRegRm || fn === movRmImm) return memOk ? 'mov' : null;
    if (fn === movx) return memOk ? 'movx' : null;
    if (fn === lea) return d.mod !== 3 && (d.as === 8 || d.as === 4) && s >= 4 ? 'lea' : null;
    if (fn === nop) return 'nop';
    if (fn === setcc) return d.mod === 3 ? 'setcc' : null;
    if (fn === cmov && s >= 2) return memOk ? 'cmov' : null;
    if (fn === notNeg) return memOk ? 'notneg' : null;
    if (fn === xchg) return d.mod === 3 ? 'xchg' : null;
    if ((fn === shiftRmImm || fn === shiftRm1) && d.mod === 3 && (s === 4 || s === 8) && d.op !== 2 && d.op !== 3) {
      const count = (fn === shiftRm1 ? 1 : d.imm) & (s === 8 ? 63 : 31);
      return count === 0 ? null : 'shift';
    }
    if ((fn === imulRegRm || fn === imulRegRmImm) && (s === 4 || s === 8)) return memOk ? 'imul' : null;
    if ((fn === pushReg || fn === pushImm) && s === this.wide) return 'push';
    if (fn === popReg && s === this.wide) return 'pop';
    if (fn === jmpRel || fn === jcc || fn === callRel) {
      if (s !== this.wide || this.target(k) === null) return null;
      return fn === jmpRel ? 'jmp' : fn === jcc ? 'jcc' : 'call';
    }
    if (fn === retNear && s === this.wide && d.imm === 0) return 'ret';
    return null;
  }

  /** Flag effect of instruction k: 'full', 'partial' (ROL/ROR, INC/DEC) or 'none'; whether it reads flags or can exit. */
  private effects(k: number, kind: string | null): { w: 'full' | 'partial' | 'none'; reads: boolean; exits: boolean } {
    const d = this.insns[k];
    const mem = d.mod !== 3 && kind !== 'lea' && kind !== 'nop';
    switch (kind) {
      case 'alu': return { w: 'full', reads: d.op === 2 || d.op === 3, exits: mem }; // ADC/SBB read CF
      case 'imul': return { w: 'full', reads: false, exits: mem };
      case 'incdec': return { w: 'partial', reads: false, exits: mem };
      case 'shift': return { w: d.op <= 1 ? 'partial' : 'full', reads: false, exits: false };
      case 'mov': case 'movx': return { w: 'none', reads: false, exits: mem };
      case 'lea': case 'nop': case 'jmp': case 'xchg': return { w: 'none', reads: false, exits: false };
      case 'setcc': return { w: 'none', reads: true, exits: false };
      case 'cmov': return { w: 'none', reads: true, exits: mem };
      case 'notneg': return { w: d.op === 3 ? 'full' : 'none', reads: false, exits: mem };
      case 'jcc': return { w: 'none', reads: true, exits: false };
      case 'push': case 'pop': case 'call': case 'ret': return { w: 'none', reads: false, exits: true };
      default: return { w: 'none', reads: true, exits: true };
    }
  }

  /** The block's code as the body of its region case: it never falls out (every path returns or continues D). */
  compile(): string {
    const n = this.n;
    const kinds = this.insns.map((_, k) => this.kindOf(k));
    // Backward liveness: does anything observe the flags instruction k writes? An instruction
    // with a memory access can also stop right after itself (a watchpoint), showing its own flags.
    let live = true;
    this.needed = new Array<boolean>(n).fill(true);
    for (let k = n - 1; k >= 0; k--) {
      const e = this.effects(k, kinds[k]);
      if (e.w === 'full') { this.needed[k] = live || e.exits; live = false; } else if (e.w === 'partial') this.needed[k] = live || e.exits;
      if (e.reads || e.exits) live = true;
    }
    const last = n - 1;
    const lastKind = kinds[last];
    let selfLoop = false;
    if ((lastKind === 'jcc' || lastKind === 'jmp') && !this.b.bpAtStart) {
      const t = this.target(last)!;
      selfLoop = t[0] === this.b.linLo && t[1] === this.b.linHi;
    }
    this.loop = selfLoop;
    const emitAll = (init: Pend): string => {
      this.pend = init;
      let body = '';
      for (let k = 0; k < n; k++) body += this.emit(k, kinds[k]);
      // A block cut short (size limit, page end, breakpoint) falls through to its next instruction.
      if (!selfLoop) body += this.exitAt(n);
      return body;
    };
    let body = emitAll({ t: 'cpu' });
    // Later iterations of a self-loop start with the flags in the locals of the body's last writer.
    const endPend = this.pend;
    if (selfLoop && endPend.t === 'w') body = emitAll({ t: 'carried', w: endPend.w });
    // Every block starts with the flags in the CPU and needs its whole length of budget.
    const [sl, sh] = this.ripAt(0);
    const head = `if(ic+${n}>stopAt){LF=false;XL=${sl};XH=${sh};XN=0;break D;}\n`;
    return selfLoop ? `${head}carried=false;for(;;){\n${body}}\n` : head + body;
  }

  // ---- register operands ----
  private rdReg(i: number, s: number): [string, string] {
    switch (s) {
      case 8: return [`r[${i}]`, `rh[${i}]`];
      case 4: return [`r[${i}]`, '0'];
      case 2: return [`(r[${i}]&65535)`, '0'];
      default: return i < 16 ? [`(r[${i}]&255)`, '0'] : [`((r[${i - 16}]>>8)&255)`, '0'];
    }
  }

  private wrReg(i: number, s: number, lo: string, hi: string): string {
    switch (s) {
      case 8: return `r[${i}]=${lo};rh[${i}]=${hi};`;
      case 4: return `r[${i}]=${lo};rh[${i}]=0;`;
      case 2: return `r[${i}]=(r[${i}]&-65536)|(${lo}&65535);`;
      default: return i < 16 ? `r[${i}]=(r[${i}]&-256)|(${lo}&255);` : `r[${i - 16}]=(r[${i - 16}]&-65281)|((${lo}&255)<<8);`;
    }
  }

  // ---- memory operands ----
  /** 64-bit effective address (base + index*scale + disp, or RIP-relative) of instruction k's memory operand, as JS expressions. */
  private offset(k: number): { code: string; lo: string; hi: string } {
    const d = this.insns[k];
    let lo: string, hi: string, code = '';
    if (d.ripRel) {
      const [nl, nh] = this.ripAt(k + 1);
      const s = (nl >>> 0) + (d.disp >>> 0);
      lo = String(s | 0); hi = String((nh + d.dispHi + (s > 0xffffffff ? 1 : 0)) | 0);
    } else if (d.base >= 0) {
      if (d.disp === 0 && d.dispHi === 0) { lo = `r[${d.base}]`; hi = `rh[${d.base}]`; } else {
        code += `const t${k}=(r[${d.base}]+${d.disp | 0})|0;`;
        lo = `t${k}`; hi = `((((rh[${d.base}]+${d.dispHi})|0)+((t${k}>>>0)<(r[${d.base}]>>>0)?1:0))|0)`;
      }
    } else { lo = String(d.disp); hi = String(d.dispHi); }
    if (d.index >= 0) {
      const x = d.index, sc = d.scale;
      const xl = sc ? `(r[${x}]<<${sc})` : `r[${x}]`;
      const xh = sc ? `((rh[${x}]<<${sc})|(r[${x}]>>>${32 - sc}))` : `rh[${x}]`;
      code += `const u${k}=(${lo}+${xl})|0;`;
      hi = `((((${hi}+${xh})|0)+((u${k}>>>0)<(${lo}>>>0)?1:0))|0)`; lo = `u${k}`;
    }
    return { code, lo, hi };
  }

  /** Declares al{k}/ah{k} = linear address of instruction k's memory operand (64-bit addressing), with the canonical check. */
  private addr(k: number): string {
    const d = this.insns[k];
    if (this.m32) {
      // Flat segments: the linear address is the 32-bit offset; limits cannot be exceeded.
      let lo = d.base >= 0 ? `r[${d.base}]` : '0';
      if (d.index >= 0) lo = `(${lo}+${d.scale ? `(r[${d.index}]<<${d.scale})` : `r[${d.index}]`})`;
      return `const al${k}=(${lo}+${d.disp | 0})|0,ah${k}=0;`;
    }
    let { code, lo, hi } = this.offset(k);
    if (d.seg >= 4) {
      code += `const g${k}=(${lo}+c.segBaseLo[${d.seg}])|0;`;
      hi = `((((${hi}+c.segBaseHi[${d.seg}])|0)+((g${k}>>>0)<(${lo}>>>0)?1:0))|0)`; lo = `g${k}`;
    }
    // The canonical check is in the access's slow path: no TLB entry matches a non-canonical address.
    this.canonVec = d.seg === 2 ? VEC_SS : VEC_GP;
    return code + `const al${k}=${lo},ah${k}=${hi};`;
  }

  /** Reads `s` bytes at (al, ah) into locals v, vh (declared by the caller's names). */
  private read(k: number, s: number, al: string, ah: string, v: string, vh: string): string {
    const o = `o${v}`, p = `p${v}`, pn = `pn${v}`, ti = `ti${v}`;
    let fast: string;
    if (s === 1) fast = `${v}=${p}[${o}];`;
    else if (s === 2) fast = `${v}=${p}.getUint16(${o},true);`;
    else fast = `${v}=${p}.getInt32(${o},true);`;
    if (s === 8) fast += `${vh}=${p}.getInt32(${o}+4,true);`;
    const slow = `${this.sync(k)}${this.canonCheck(ah)}${v}=c.readN(${al},${ah},${s});${s === 8 ? `${vh}=c.hi;` : ''}`;
    return `let ${v}=0,${vh}=0;{const ${pn}=${al}>>>12,${ti}=${pn}&1023,${o}=${al}&4095;` +
      `if(rT[${ti}]===${pn}&&rTH[${ti}]===${ah}&&${o}<=${4096 - s}){const ${p}=${s === 1 ? 'rP' : 'rV'}[${ti}];${fast}}else{${slow}}}`;
  }

  private write(k: number, s: number, al: string, ah: string, v: string, vh: string): string {
    const o = `wo${k}`, p = `wp${k}`, pn = `wn${k}`, ti = `wi${k}`;
    let fast = s === 1 ? `${p}[${o}]=${v};` : s === 2 ? `${p}.setUint16(${o},${v},true);` : `${p}.setInt32(${o},${v},true);`;
    if (s === 8) fast += `${p}.setInt32(${o}+4,${vh},true);`;
    const slow = `${this.sync(k)}${this.canonCheck(ah)}c.writeN(${al},${ah},${s},${v},${vh});`;
    return `{const ${pn}=${al}>>>12,${ti}=${pn}&1023,${o}=${al}&4095;` +
      `if(wT[${ti}]===${pn}&&wTH[${ti}]===${ah}&&${o}<=${4096 - s}){const ${p}=${s === 1 ? 'wP' : 'wV'}[${ti}];${fast}}else{${slow}}}`;
  }

  private canonCheck(ah: string): string {
    return this.m32 ? '' : `if(((${ah}<<16)>>16)!==${ah})c.raise(${this.canonVec},0);`;
  }

  /** After an instruction with a memory slow path: stop if the slow path asked for it. */
  private breakCheck(k: number): string {
    const [l, h] = this.ripAt(k + 1);
    return this.breakTo(String(l), String(h), k + 1);
  }

  /** Leaves the region (never chains: the run loop must see the stop) when a slow path set breakLoop. */
  private breakTo(lo: string, hi: string, retired: number): string { return `if(c.breakLoop){${this.leave(lo, hi, retired)}}`; }

  // ---- emission ----
  private emit(k: number, kind: string | null): string {
    const d = this.insns[k];
    const s = d.os;
    let code = `// ${k}: ${kind ?? 'generic'} op=${d.opcode.toString(16)}\n{`;
    const mem = d.mod !== 3;
    const afterMem = (): string => (mem ? this.breakCheck(k) : '');
    switch (kind) {
      case 'nop': break;
      case 'mov': {
        if (d.fn === movRegRm) {
          if (mem) code += this.addr(k) + this.read(k, s, `al${k}`, `ah${k}`, `v${k}`, `vh${k}`) + this.wrReg(d.reg, s, `v${k}`, `vh${k}`);
          else { const [l, h] = this.rdReg(d.rm, s); code += `const v${k}=${l},vh${k}=${h};` + this.wrReg(d.reg, s, `v${k}`, `vh${k}`); }
        } else {
          let l: string, h: string;
          if (d.fn === movRmReg) [l, h] = this.rdReg(d.reg, s);
          else { l = String(s < 4 ? d.imm & MASK[s] : d.imm); h = String(d.immHi); }
          code += `const v${k}=${l},vh${k}=${s === 8 ? h : '0'};`;
          if (mem) code += this.addr(k) + this.write(k, s, `al${k}`, `ah${k}`, `v${k}`, `vh${k}`);
          else code += this.wrReg(d.rm, s, `v${k}`, `vh${k}`);
        }
        code += afterMem();
        break;
      }
      case 'movx': {
        const ss = d.imm2;
        if (mem) code += this.addr(k) + this.read(k, ss, `al${k}`, `ah${k}`, `v${k}`, `vh${k}`);
        else { const [l] = this.rdReg(d.rm, ss); code += `let v${k}=${l};`; }
        if (d.op === 1) code += `v${k}=${ss === 1 ? `(v${k}<<24)>>24` : ss === 2 ? `(v${k}<<16)>>16` : `v${k}|0`};const sx${k}=v${k}>>31;`;
        else code += `const sx${k}=0;`;
        code += this.wrReg(d.reg, s, s < 4 ? `(v${k}&${MASK[s]})` : `v${k}`, `sx${k}`);
        code += afterMem();
        break;
      }
      case 'lea': {
        // Address arithmetic only (no segment base, no canonical check).
        code += this.leaAddr(k) + this.wrReg(d.reg, s, `la${k}`, d.as === 8 ? `lh${k}` : '0');
        break;
      }
      case 'alu': code += this.emitAlu(k); break;
      case 'notneg': code += this.emitNotNeg(k); break;
      case 'setcc': {
        const [pre, e] = this.condExpr(d.op);
        code += pre + this.wrReg(d.rm, 1, `(${e}?1:0)`, '0');
        break;
      }
      case 'cmov': {
        // The source is read (and may fault or hit a watchpoint) whatever the condition.
        if (mem) code += this.addr(k) + this.read(k, s, `al${k}`, `ah${k}`, `v${k}`, `vh${k}`);
        else { const [l, h] = this.rdReg(d.rm, s); code += `const v${k}=${l},vh${k}=${h};`; }
        const [pre, e] = this.condExpr(d.op);
        code += `${pre}if${e}{${this.wrReg(d.reg, s, `v${k}`, `vh${k}`)}}`;
        if (s === 4) code += `rh[${d.reg}]=0;`; // a 32-bit CMOV zero-extends even when it does not move
        code += afterMem();
        break;
      }
      case 'xchg': {
        const [a, ah] = this.rdReg(d.reg, s), [b, bh] = this.rdReg(d.rm, s);
        code += `const a${k}=${a},ah${k}=${ah},b${k}=${b},bh${k}=${bh};`;
        code += this.wrReg(d.rm, s, `a${k}`, `ah${k}`) + this.wrReg(d.reg, s, `b${k}`, `bh${k}`);
        break;
      }
      case 'incdec': code += this.emitIncDec(k); break;
      case 'shift': code += this.emitShift(k); break;
      case 'imul': code += this.emitImul(k); break;
      case 'push': {
        const w = this.wide;
        const [l, h] = d.fn === pushReg ? this.rdReg(d.rm, w) : [String(d.imm), String(d.immHi)];
        code += `const v${k}=${l},vh${k}=${h};` + this.pushTop(k);
        code += this.write(k, w, `al${k}`, `ah${k}`, `v${k}`, `vh${k}`);
        code += this.setTop(k) + this.breakCheck(k);
        break;
      }
      case 'pop': {
        code += this.popTop(k) + this.read(k, this.wide, `al${k}`, `ah${k}`, `v${k}`, `vh${k}`) + this.afterPop(k);
        code += this.wrReg(d.rm, this.wide, `v${k}`, `vh${k}`) + this.breakCheck(k);
        break;
      }
      case 'call': {
        const [nl, nh] = this.ripAt(k + 1);
        const t = this.target(k)!;
        code += this.pushTop(k) + this.write(k, this.wide, `al${k}`, `ah${k}`, String(nl), String(nh));
        code += this.setTop(k) + this.breakTo(String(t[0]), String(t[1]), k + 1) + this.jumpExit(k, t);
        break;
      }
      case 'ret': {
        code += this.popTop(k) + this.read(k, this.wide, `al${k}`, `ah${k}`, `v${k}`, `vh${k}`);
        if (!this.m32) code += `if(((vh${k}<<16)>>16)!==vh${k}){${this.sync(k)}c.raise(${VEC_GP},0);}`;
        code += this.afterPop(k) + this.breakTo(`v${k}`, `vh${k}`, k + 1) + `${this.commit()}ic+=${k + 1};`;
        code += `if(vh${k}===${this.map.pageHi}&&(v${k}&-4096)===${this.map.pageLo}){const m=MAP[v${k}&4095];if(m>=0){E=m;continue D;}}`;
        code += this.leave(`v${k}`, `vh${k}`, 0);
        break;
      }
      case 'jmp': code += this.jumpExit(k, this.target(k)!); break;
      case 'jcc': {
        const [pre, e] = this.condExpr(d.op);
        code += `${pre}if${e}{${this.jumpExit(k, this.target(k)!)}}`;
        code += this.exitAt(k + 1);
        break;
      }
      default: code += this.emitGeneric(k);
    }
    return code + '}\n';
  }

  // ---- stack (64-bit, or the flat 32-bit stack whose ESP update leaves the high half alone) ----
  /** Declares al{k}/ah{k} = the new stack top of a push, with the canonical check. */
  private pushTop(k: number): string {
    if (this.m32) return `const al${k}=(r[4]-4)|0,ah${k}=0;`;
    this.canonVec = VEC_SS;
    return `const al${k}=(r[4]-8)|0,ah${k}=(rh[4]-((r[4]>>>0)<8?1:0))|0;`;
  }

  private setTop(k: number): string { return this.m32 ? `r[4]=al${k};` : `r[4]=al${k};rh[4]=ah${k};`; }

  /** Declares al{k}/ah{k} = the stack top a pop reads, with the canonical check. */
  private popTop(k: number): string {
    if (this.m32) return `const al${k}=r[4],ah${k}=0;`;
    this.canonVec = VEC_SS;
    return `const al${k}=r[4],ah${k}=rh[4];`;
  }

  private afterPop(k: number): string {
    if (this.m32) return `r[4]=(al${k}+4)|0;`;
    return `{const t=(al${k}+8)|0;r[4]=t;rh[4]=(ah${k}+((t>>>0)<8?1:0))|0;}`;
  }

  /** Leaves (or, for the self-loop's back edge, repeats) after a direct jump of instruction k to `t`. */
  private jumpExit(k: number, t: [number, number]): string {
    if (this.loop && k === this.n - 1) {
      const p = this.pend;
      // Back edge: the next iteration starts with the flags in this iteration's locals.
      let code = `ic+=${this.n};`;
      const carry = p.t === 'w' ? 'carried=true;' : '';
      code += carry;
      code += `if(ic+${this.n}>stopAt){${this.leave(String(t[0]), String(t[1]), 0)}}continue;`;
      return code;
    }
    return this.goTo(k + 1, t);
  }

  private leaAddr(k: number): string {
    const { code, lo, hi } = this.offset(k);
    return code + `const la${k}=${lo},lh${k}=${hi};`;
  }

  /** Records writer k's flags into its locals (when needed) and makes it the pending state. */
  private setFlags(k: number, kind: Lf, s: number, vals: Partial<Record<'a' | 'ah' | 'b' | 'bh' | 'r' | 'rh' | 'cf' | 'of', string>>): string {
    if (!this.needed[k]) { this.pend = { t: 'dead' }; return ''; }
    this.flagLocals(k);
    let code = '';
    for (const [key, v] of Object.entries(vals)) code += `f${k}${key}=${v};`;
    this.pend = { t: 'w', w: { kind, size: s, k } };
    return code;
  }

  private emitAlu(k: number): string {
    const d = this.insns[k], s = d.os, op = d.op;
    const fn = d.fn;
    const mem = d.mod !== 3;
    let code = '';
    let a: string, ah: string, b: string, bh: string;
    const write = op !== 7 && (d.flags & 0x100) === 0;
    const dstIsRm = fn !== aluRegRm;
    // Source operand.
    if (fn === aluRmImm) { b = String(s === 4 || s === 8 ? d.imm : d.imm & MASK[s]); bh = String(s === 8 ? d.immHi : 0); } else if (fn === aluRmReg) {
      [b, bh] = this.rdReg(d.reg, s);
    } else if (mem) {
      code += this.addr(k) + this.read(k, s, `al${k}`, `ah${k}`, `b${k}`, `bh${k}`);
      b = `b${k}`; bh = s === 8 ? `bh${k}` : '0';
    } else [b, bh] = this.rdReg(d.rm, s);
    code += `const B${k}=${b},BH${k}=${bh};`;
    // Destination operand.
    if (dstIsRm && mem) {
      code += this.addr(k) + this.read(k, s, `al${k}`, `ah${k}`, `a${k}`, `avh${k}`);
      a = `a${k}`; ah = s === 8 ? `avh${k}` : '0';
      code += `const A${k}=${a},AH${k}=${ah};`;
    } else {
      [a, ah] = this.rdReg(dstIsRm ? d.rm : d.reg, s);
      code += `const A${k}=${a},AH${k}=${ah};`;
    }
    const A = `A${k}`, AH = `AH${k}`, B = `B${k}`, BH = `BH${k}`, R = `R${k}`, RH = `RH${k}`;
    let kind: Lf;
    let cin = '0';
    if (op === 2 || op === 3) {
      // ADC/SBB: the carry in is the pending CF.
      const [pre, cf] = this.cfExpr();
      code += `${pre}const C${k}=${cf};`;
      cin = `C${k}`;
    }
    if (op === 2) {
      kind = Lf.Adc;
      if (s === 8) code += `const T${k}=(${A}>>>0)+(${B}>>>0)+${cin};const ${R}=T${k}|0,${RH}=(((${AH}+${BH})|0)+(T${k}>4294967295?1:0))|0;`;
      else code += `const ${R}=(((${A}+${B})|0)+${cin})${s === 4 ? '|0' : `&${MASK[s]}`},${RH}=0;`;
    } else if (op === 3) {
      kind = Lf.Sbb;
      if (s === 8) code += `const T${k}=(${A}>>>0)-(${B}>>>0)-${cin};const ${R}=T${k}|0,${RH}=(((${AH}-${BH})|0)-(T${k}<0?1:0))|0;`;
      else code += `const ${R}=(((${A}-${B})|0)-${cin})${s === 4 ? '|0' : `&${MASK[s]}`},${RH}=0;`;
    } else if (op === 0) {
      kind = Lf.Add;
      if (s === 8) code += `const ${R}=(${A}+${B})|0,${RH}=(((${AH}+${BH})|0)+((${R}>>>0)<(${A}>>>0)?1:0))|0;`;
      else code += `const ${R}=(${A}+${B})${s === 4 ? '|0' : `&${MASK[s]}`},${RH}=0;`;
    } else if (op === 5 || op === 7) {
      kind = Lf.Sub;
      if (s === 8) code += `const ${R}=(${A}-${B})|0,${RH}=(((${AH}-${BH})|0)-((${A}>>>0)<(${B}>>>0)?1:0))|0;`;
      else code += `const ${R}=(${A}-${B})${s === 4 ? '|0' : `&${MASK[s]}`},${RH}=0;`;
    } else {
      kind = Lf.Logic;
      const o = op === 1 ? '|' : op === 4 ? '&' : '^';
      code += `const ${R}=${A}${o}${B},${RH}=${s === 8 ? `${AH}${o}${BH}` : '0'};`;
    }
    const prevPend = this.pend;
    const flags = kind === Lf.Logic ? this.setFlags(k, kind, s, { r: R, rh: RH }) : this.setFlags(k, kind, s, { a: A, ah: AH, b: B, bh: BH, r: R, rh: RH, cf: cin });
    const newPend = this.pend;
    if (write) {
      if (dstIsRm && mem) {
        this.pend = prevPend; // a faulting write leaves the previous flags
        code += this.write(k, s, `al${k}`, `ah${k}`, R, RH);
        this.pend = newPend;
      } else code += this.wrReg(dstIsRm ? d.rm : d.reg, s, R, RH);
    }
    code += flags;
    if (mem) code += this.breakCheck(k);
    return code;
  }

  /** Declares A{k}/AH{k} = the r/m operand of unary read-modify-write instruction k. */
  private loadRm(k: number): string {
    const d = this.insns[k], s = d.os;
    if (d.mod !== 3) return this.addr(k) + this.read(k, s, `al${k}`, `ah${k}`, `a${k}`, `avh${k}`) + `const A${k}=a${k},AH${k}=${s === 8 ? `avh${k}` : '0'};`;
    const [a, ah] = this.rdReg(d.rm, s);
    return `const A${k}=${a},AH${k}=${ah};`;
  }

  /**
   * Writes R{k}/RH{k} back to instruction k's r/m operand, then its flag code: a faulting write
   * leaves the flags from before the instruction (`prevPend`), and a watched one stops after it.
   */
  private storeRm(k: number, prevPend: Pend, flags: string): string {
    const d = this.insns[k], s = d.os, R = `R${k}`, RH = `RH${k}`;
    if (d.mod === 3) return this.wrReg(d.rm, s, R, RH) + flags;
    const newPend = this.pend;
    this.pend = prevPend;
    const code = this.write(k, s, `al${k}`, `ah${k}`, R, RH);
    this.pend = newPend;
    return code + flags + this.breakCheck(k);
  }

  /** NOT (op 2, no flags) and NEG (op 3: the flags of 0 - a). */
  private emitNotNeg(k: number): string {
    const d = this.insns[k], s = d.os;
    let code = this.loadRm(k);
    const A = `A${k}`, AH = `AH${k}`, R = `R${k}`, RH = `RH${k}`;
    const mask = s < 4 ? `&${MASK[s]}` : '|0';
    const prevPend = this.pend;
    let flags = '';
    if (d.op === 2) code += `const ${R}=(~${A})${mask},${RH}=${s === 8 ? `~${AH}` : '0'};`;
    else {
      code += `const ${R}=(0-${A})${mask},${RH}=${s === 8 ? `(0-${AH}-(${A}!==0?1:0))|0` : '0'};`;
      flags = this.setFlags(k, Lf.Sub, s, { a: '0', ah: '0', b: A, bh: AH, r: R, rh: RH, cf: '0' });
    }
    return code + this.storeRm(k, prevPend, flags);
  }

  private emitIncDec(k: number): string {
    const d = this.insns[k], s = d.os;
    let code = '';
    const [pre, cf] = this.needed[k] ? this.cfExpr() : ['', '0'];
    code += `${pre}const C${k}=${cf};`;
    code += this.loadRm(k);
    const A = `A${k}`, AH = `AH${k}`, R = `R${k}`, RH = `RH${k}`;
    if (d.op === 0) {
      if (s === 8) code += `const ${R}=(${A}+1)|0,${RH}=(${AH}+(${R}===0?1:0))|0;`;
      else code += `const ${R}=(${A}+1)${s === 4 ? '|0' : `&${MASK[s]}`},${RH}=0;`;
    } else if (s === 8) code += `const ${R}=(${A}-1)|0,${RH}=(${AH}-(${A}===0?1:0))|0;`;
    else code += `const ${R}=(${A}-1)${s === 4 ? '|0' : `&${MASK[s]}`},${RH}=0;`;
    const prevPend = this.pend;
    const flags = this.setFlags(k, d.op === 0 ? Lf.Inc : Lf.Dec, s, { a: A, ah: AH, b: '1', bh: '0', r: R, rh: RH, cf: `C${k}` });
    return code + this.storeRm(k, prevPend, flags);
  }

  private emitShift(k: number): string {
    const d = this.insns[k], s = d.os, op = d.op;
    const n = ((d.fn === shiftRm1 ? 1 : d.imm) & (s === 8 ? 63 : 31));
    const [a, ah] = this.rdReg(d.rm, s);
    let code = `const A${k}=${a},AH${k}=${ah};`;
    const A = `A${k}`, AH = `AH${k}`, R = `R${k}`, RH = `RH${k}`;
    const bit = (k2: number): string => (s === 8 ? (k2 < 32 ? `((${A}>>>${k2})&1)` : `((${AH}>>>${k2 - 32})&1)`) : `((${A}>>>${k2})&1)`);
    let cf: string, of: string;
    if (s === 8) {
      switch (op) {
        case 0: case 1: { // ROL / ROR
          const l = op === 0 ? n : 64 - n; // rotate left by l
          if (l === 32) code += `const ${R}=${AH},${RH}=${A};`;
          else if (l < 32) code += `const ${R}=(${A}<<${l})|(${AH}>>>${32 - l}),${RH}=(${AH}<<${l})|(${A}>>>${32 - l});`;
          else code += `const ${R}=(${AH}<<${l - 32})|(${A}>>>${64 - l}),${RH}=(${A}<<${l - 32})|(${AH}>>>${64 - l});`;
          if (op === 0) { cf = `(${R}&1)`; of = `((${RH}>>>31)^(${R}&1))`; } else { cf = `(${RH}>>>31)`; of = `((${RH}>>>31)^((${RH}>>>30)&1))`; }
          break;
        }
        case 4: case 6:
          if (n < 32) code += `const ${R}=${A}<<${n},${RH}=(${AH}<<${n})|(${A}>>>${32 - n});`;
          else code += `const ${R}=0,${RH}=${n === 32 ? A : `${A}<<${n - 32}`};`;
          cf = bit(64 - n); of = `((${RH}>>>31)^${cf})`;
          break;
        case 5:
          if (n < 32) code += `const ${R}=(${A}>>>${n})|(${AH}<<${32 - n}),${RH}=${AH}>>>${n};`;
          else code += `const ${R}=${n === 32 ? AH : `${AH}>>>${n - 32}`},${RH}=0;`;
          cf = bit(n - 1); of = `(${AH}>>>31)`;
          break;
        default:
          if (n < 32) code += `const ${R}=(${A}>>>${n})|(${AH}<<${32 - n}),${RH}=${AH}>>${n};`;
          else code += `const ${R}=${n === 32 ? AH : `${AH}>>${n - 32}`},${RH}=${AH}>>31;`;
          cf = bit(n - 1); of = '0';
      }
    } else {
      switch (op) {
        case 0: code += `const ${R}=(${A}<<${n})|(${A}>>>${32 - n}),${RH}=0;`; cf = `(${R}&1)`; of = `(((${R}>>>31)&1)^(${R}&1))`; break;
        case 1: code += `const ${R}=(${A}>>>${n})|(${A}<<${32 - n}),${RH}=0;`; cf = `((${R}>>>31)&1)`; of = `(((${R}>>>31)&1)^((${R}>>>30)&1))`; break;
        case 4: case 6: code += `const ${R}=${A}<<${n},${RH}=0;`; cf = `((${A}>>>${32 - n})&1)`; of = `(((${R}>>>31)&1)^${cf})`; break;
        case 5: code += `const ${R}=(${A}>>>${n})|0,${RH}=0;`; cf = `((${A}>>>${n - 1})&1)`; of = `((${A}>>>31)&1)`; break;
        default: code += `const ${R}=${A}>>${n},${RH}=0;`; cf = `((${A}>>${n - 1})&1)`; of = '0';
      }
    }
    code += this.wrReg(d.rm, s, R, RH);
    if (op <= 1) {
      // Rotates change only CF and OF: merge into the materialized flags.
      if (this.needed[k]) {
        code += `${this.commit()}H.setCfOf(c,${cf},${of});`;
        this.pend = { t: 'cpu' };
      }
    } else code += this.setFlags(k, Lf.Res, s, { r: R, rh: RH, cf, of });
    return code;
  }

  private emitImul(k: number): string {
    const d = this.insns[k], s = d.os, mem = d.mod !== 3;
    let code = '';
    if (mem) code += this.addr(k) + this.read(k, s, `al${k}`, `ah${k}`, `m${k}`, `mh${k}`) + `const X${k}=m${k},XH${k}=${s === 8 ? `mh${k}` : '0'};`;
    else { const [a, ah] = this.rdReg(d.rm, s); code += `const X${k}=${a},XH${k}=${ah};`; }
    let b: string, bh: string;
    if (d.fn === imulRegRmImm) { b = String(d.imm); bh = String(s === 8 ? d.immHi : 0); } else [b, bh] = this.rdReg(d.reg, s);
    code += `const Y${k}=${b},YH${k}=${bh};`;
    const R = `R${k}`, RH = `RH${k}`;
    const needed = this.needed[k];
    if (s === 8) {
      if (needed) {
        code += `H.muls64(X${k},XH${k},Y${k},YH${k});const P=H.PROD;const ${R}=P[0],${RH}=P[1];const O${k}=(P[3]!==(${RH}>>31)||P[2]!==(${RH}>>31))?1:0;`;
      } else {
        // Low 64 bits only: lo*lo (full) + cross terms into the high half.
        code += `const ${R}=Math.imul(X${k},Y${k});` +
          `const xl${k}=X${k}&65535,xh${k}=X${k}>>>16,yl${k}=Y${k}&65535,yh${k}=Y${k}>>>16;` +
          `const mid${k}=((xl${k}*yl${k})>>>16)+(xh${k}*yl${k}&65535)+(xl${k}*yh${k}&65535);` +
          `const ${RH}=(xh${k}*yh${k}+((xh${k}*yl${k})>>>16)+((xl${k}*yh${k})>>>16)+(mid${k}>>>16)+Math.imul(XH${k},Y${k})+Math.imul(X${k},YH${k}))|0;`;
      }
    } else {
      code += `const ${R}=Math.imul(X${k},Y${k}),${RH}=0;`;
      if (needed) code += `const O${k}=((X${k}|0)*(Y${k}|0))!==${R}?1:0;`;
    }
    code += this.wrReg(d.reg, s, R, RH);
    code += this.setFlags(k, Lf.Res, s, { r: R, rh: RH, cf: `O${k}`, of: `O${k}` });
    if (mem) code += this.breakCheck(k);
    return code;
  }

  private emitGeneric(k: number): string {
    const d = this.insns[k];
    const [nl, nh] = this.ripAt(k + 1);
    let code = `${this.sync(k)}{const d=c.curInsn;d.fn(c,d);}`;
    this.pend = { t: 'cpu' };
    if (k === this.n - 1 || (d.flags & 1)) {
      // The block ends here (an indirect JMP/CALL, RET imm, LOOP, or a block cut short): chain
      // to where it went when that is a block of the region and nothing asked to stop.
      code += `/*RL*/ic=c.icount+1;`;
      code += `if(!c.breakLoop&&c.nextHi===${this.map.pageHi}&&(c.nextLo&-4096)===${this.map.pageLo}){const m=MAP[c.nextLo&4095];if(m>=0){E=m;continue D;}}`;
      code += `LF=false;XL=c.nextLo;XH=c.nextHi;XN=0;break D;`;
      return code;
    }
    // REP string instructions retire several iterations and may leave RIP on themselves.
    code += `/*RL*/ic=c.icount-${k};`;
    code += `if(c.breakLoop||c.nextLo!==${nl}||c.nextHi!==${nh}||ic+${this.n}>stopAt){LF=false;XL=c.nextLo;XH=c.nextHi;XN=${k + 1};break D;}`;
    return code;
  }
}

/** a < b unsigned at size s. */
function ltu(s: number, a: string, ah: string, b: string, bh: string): string {
  if (s === 8) return `((${ah}>>>0)<(${bh}>>>0)||(${ah}===${bh}&&(${a}>>>0)<(${b}>>>0)))`;
  return `((${a}>>>0)<(${b}>>>0))`;
}

/** a < b signed at size s. */
function lts(s: number, a: string, ah: string, b: string, bh: string): string {
  if (s === 8) return `(${ah}<${bh}||(${ah}===${bh}&&(${a}>>>0)<(${b}>>>0)))`;
  if (s === 4) return `((${a}|0)<(${b}|0))`;
  const sh = s === 2 ? 16 : 24;
  return `(((${a}<<${sh})>>${sh})<((${b}<<${sh})>>${sh}))`;
}

/** Condition `cc` computed from a writer's locals, or null when the interpreter must evaluate it. */
function condFromWriter(w: Writer, cc: number): string | null {
  const f = `f${w.k}`, s = w.size;
  const a = `${f}a`, ah = `${f}ah`, b = `${f}b`, bh = `${f}bh`, r = `${f}r`, rh = `${f}rh`;
  const zf = s === 8 ? `((${r}|${rh})===0)` : `(${r}===0)`;
  const sf = s === 8 ? `(${rh}<0)` : s === 4 ? `(${r}<0)` : `((${r}&${s === 2 ? 0x8000 : 0x80})!==0)`;
  let e: string | null = null;
  const base = cc >> 1;
  if (w.kind === Lf.Sub) {
    const eq = s === 8 ? `(${a}===${b}&&${ah}===${bh})` : `(${a}===${b})`;
    switch (base) {
      case 1: e = ltu(s, a, ah, b, bh); break;
      case 2: e = eq; break;
      case 3: e = `(${ltu(s, a, ah, b, bh)}||${eq})`; break;
      case 4: e = sf; break;
      case 6: e = lts(s, a, ah, b, bh); break;
      case 7: e = `(${lts(s, a, ah, b, bh)}||${eq})`; break;
    }
  } else if (w.kind === Lf.Logic) {
    switch (base) {
      case 0: case 1: e = 'false'; break;
      case 2: case 3: e = zf; break;
      case 4: case 6: e = sf; break;
      case 7: e = `(${zf}||${sf})`; break;
    }
  } else if (w.kind === Lf.Res) {
    switch (base) {
      case 0: e = `(${f}of!==0)`; break;
      case 1: e = `(${f}cf!==0)`; break;
      case 2: e = zf; break;
      case 3: e = `(${f}cf!==0||${zf})`; break;
      case 4: e = sf; break;
      case 6: e = `(${sf}!==(${f}of!==0))`; break;
      case 7: e = `(${zf}||${sf}!==(${f}of!==0))`; break;
    }
  } else {
    // Add, Inc, Dec: ZF and SF come straight from the result.
    if (base === 2) e = zf; else if (base === 4) e = sf;
  }
  if (e === null) return null;
  return (cc & 1) ? `!${e}` : e;
}
