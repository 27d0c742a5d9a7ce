// System instructions: control/debug register moves, descriptor-table loads and stores,
// flag instructions (CLI/STI with the shadow, PUSHF/POPF with the IOPL rules), HLT, CPUID,
// RDTSC/RDTSCP, RDMSR/WRMSR, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, VMCALL, XGETBV.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { CpuExitReason, Seg } from './vcpu';
import { Vec } from './exceptions';
import { AC, CF, DF, ID, IF, IOPL, NT, RF, TF, VIF, VIP, VM, getFlags, materialize } from './flags';
import { CR0_PE, CR0_PG, CR0_TS, CR4_PAE, CR4_PCE, CR4_SMAP, CR4_TSD, CR4_UMIP, CR4_DE, CR4_OSXSAVE, EFER_LMA, EFER_LME, EFER_SCE, CR4_PGE } from './paging';
import { CR4_SUPPORTED } from './cpu';
import { MSR } from './msr';
import { rdRm, wrRm } from './operands';
import { isProtected } from './segmentation';

function requireCpl0(c: Cpu): void { if (c.cpl !== 0) c.gp(0); }

// ---- Flags ----

/** CLC CMC STC CLD STD (op 0-4). */
export function flagOp(c: Cpu, d: Insn): void {
  materialize(c);
  switch (d.op) {
    case 0: c.flags &= ~CF; break;
    case 1: c.flags ^= CF; break;
    case 2: c.flags |= CF; break;
    case 3: c.flags &= ~DF; break;
    default: c.flags |= DF; break;
  }
}

function iopl(c: Cpu): number { return (c.flags >> 12) & 3; }

/** CLI (FA). */
export function cli(c: Cpu): void {
  if (isProtected(c) && c.cpl > iopl(c)) c.gp(0);
  if ((c.flags & VM) && iopl(c) < 3) c.gp(0);
  c.flags &= ~IF;
}

/** STI (FB): interrupts stay blocked until after the next instruction. */
export function sti(c: Cpu): void {
  if (isProtected(c) && c.cpl > iopl(c)) c.gp(0);
  if ((c.flags & VM) && iopl(c) < 3) c.gp(0);
  if (!(c.flags & IF)) c.shadowUntil = c.icount + 1;
  c.flags |= IF;
  c.breakLoop = true;
}

/** PUSHF/PUSHFD/PUSHFQ (9C): VM and RF read as 0. */
export function pushf(c: Cpu, d: Insn): void {
  if ((c.flags & VM) && iopl(c) < 3) c.gp(0);
  const f = getFlags(c) & ~(VM | RF);
  c.push(d.os, d.os === 2 ? f & 0xffff : f, 0);
}

/** POPF/POPFD/POPFQ (9D): IOPL changes only at CPL 0, IF only at CPL <= IOPL; VM/RF/VIP/VIF preserved. */
export function popf(c: Cpu, d: Insn): void {
  if ((c.flags & VM) && iopl(c) < 3) c.gp(0);
  const v = c.peekStack(d.os, 0);
  c.addSp(d.os);
  materialize(c);
  let mask = 0x7fd5 | TF | DF | IF | IOPL | NT | AC | ID;
  if (isProtected(c)) {
    if (c.cpl > 0) mask &= ~IOPL;
    if (c.cpl > iopl(c)) mask &= ~IF;
  }
  if (d.os === 2) mask &= 0xffff;
  mask &= ~(VM | RF | VIP | VIF);
  c.flags = ((c.flags & ~mask) | (v & mask)) | 2;
  c.updateMode();
}

// ---- HLT, CPUID, TSC, MSRs ----

/** HLT (F4): CPL 0 only. Retires, then exits Halt unless an interrupt is deliverable (the run loop delivers it). */
export function hlt(c: Cpu, d: Insn): void {
  requireCpl0(c);
  c.breakLoop = true;
  if (c.interruptDeliverable()) return;
  c.haltExit(d);
}

/** CPUID (0F A2): always exits; the default model's answer is in exit.cpuid. */
export function cpuid(c: Cpu, d: Insn): void {
  const leaf = c.r[0] >>> 0, sub = c.r[1] >>> 0;
  const [a, b, cc, dd] = c.cpuidDefaults(leaf, sub);
  const x = c.exit.cpuid;
  x.leaf = leaf; x.subleaf = sub; x.defaultEax = a >>> 0; x.defaultEbx = b >>> 0; x.defaultEcx = cc >>> 0; x.defaultEdx = dd >>> 0;
  c.exitWith(CpuExitReason.Cpuid, d);
}

/** RDTSC (op 0) / RDTSCP (op 1). */
export function rdtsc(c: Cpu, d: Insn): void {
  if ((c.cr4 & CR4_TSD) && c.cpl !== 0 && isProtected(c)) c.gp(0);
  if (c.rdtscExiting) c.exitWith(CpuExitReason.Rdtsc, d);
  const t = c.tsc();
  c.setReg(0, 4, t % 4294967296 | 0, 0);
  c.setReg(2, 4, Math.floor(t / 4294967296) | 0, 0);
  if (d.op === 1) c.setReg(1, 4, Number(c.msrs.tscAux) | 0, 0);
}

/** RDPMC: no performance counters are modelled. */
export function rdpmc(c: Cpu): void {
  if (!(c.cr4 & CR4_PCE) && c.cpl !== 0) c.gp(0);
  c.gp(0);
}

/** RDMSR (op 0) / WRMSR (op 1): implemented MSRs are handled here unless in the exit set. */
export function msrAccess(c: Cpu, d: Insn): void {
  requireCpl0(c);
  const idx = c.r[1] >>> 0;
  const write = d.op === 1;
  const value = (BigInt(c.r[2] >>> 0) << 32n) | BigInt(c.r[0] >>> 0);
  const implemented = c.msrs.get(idx) !== undefined;
  if (c.msrExitSet.has(idx) || (!implemented && c.unknownMsrsExit)) {
    const x = c.exit.msr;
    x.index = idx; x.isWrite = write; x.value = write ? value : 0n;
    c.exitWith(CpuExitReason.MsrAccess, d);
  }
  if (!implemented) c.gp(0);
  if (write) {
    if (!c.msrs.set(idx, value)) c.gp(0);
    if (idx === MSR.EFER) c.breakLoop = true;
  } else {
    const v = c.msrs.get(idx)!;
    c.setReg(0, 4, Number(v & 0xffffffffn) | 0, 0);
    c.setReg(2, 4, Number(v >> 32n) | 0, 0);
  }
}

// ---- Control and debug registers ----

/** MOV r64/32, CRn (op 0) / MOV CRn, r (op 1) (0F 20 / 0F 22). reg = CR number (LOCK-prefixed CR8 not supported). */
export function movCr(c: Cpu, d: Insn): void {
  requireCpl0(c);
  const n = d.reg;
  const size = c.long64 ? 8 : 4;
  if (d.op === 0) {
    let lo: number, hi = 0;
    switch (n) {
      case 0: lo = c.cr0; break;
      case 2: lo = c.cr2Lo; hi = c.cr2Hi; break;
      case 3: lo = c.cr3Lo; hi = c.cr3Hi; break;
      case 4: lo = c.cr4; break;
      case 8: if (!c.long64) c.ud(); lo = c.tpr; break;
      default: c.ud();
    }
    c.setReg(d.rm, size, lo, hi);
    return;
  }
  const lo = c.r[d.rm], hi = size === 8 ? c.rh[d.rm] : 0;
  switch (n) {
    case 0: {
      if (hi !== 0) c.gp(0);
      const v = (lo | 0x10) & ~0x1ffaffc0 | 0;
      if (!c.validCr0(v, 0)) c.gp(0);
      if ((c.cr0 & CR0_PG) && !(v & CR0_PE)) c.gp(0);
      if ((v & CR0_PG) && !(c.cr0 & CR0_PG) && (c.efer & EFER_LME)) {
        if (!(c.cr4 & CR4_PAE)) c.gp(0);
        if (c.segAttr[Seg.CS] & 0x2000) c.gp(0);
      }
      if (!(v & CR0_PG) && (c.cr0 & CR0_PG) && c.long64) c.gp(0);
      const changed = c.cr0 ^ v;
      c.cr0 = v;
      c.updateMode();
      if (changed & (CR0_PG | 0x10000 | CR0_PE)) c.flushTlb(true);
      break;
    }
    case 2: c.cr2Lo = lo; c.cr2Hi = hi; break;
    case 3:
      if (hi & ~0xfffff) c.gp(0);
      c.cr3Lo = lo; c.cr3Hi = hi;
      c.cr3Written();
      break;
    case 4: {
      if (hi !== 0 || (lo & ~CR4_SUPPORTED)) c.gp(0);
      if ((c.efer & EFER_LMA) && !(lo & CR4_PAE)) c.gp(0);
      if (lo & CR4_OSXSAVE) c.gp(0);
      const changed = c.cr4 ^ lo;
      c.cr4 = lo;
      if (changed & (CR4_PAE | CR4_PGE | 0x10 | 0x100000 | CR4_SMAP)) c.flushTlb(true);
      c.updateMode();
      break;
    }
    case 8: if (!c.long64) c.ud(); if (hi !== 0 || (lo & ~0xf)) c.gp(0); c.tpr = lo; c.breakLoop = true; break;
    default: c.ud();
  }
  c.breakLoop = true;
}

/** MOV r, DRn (op 0) / MOV DRn, r (op 1). */
export function movDr(c: Cpu, d: Insn): void {
  requireCpl0(c);
  let n = d.reg;
  if (n === 4 || n === 5) { if (c.cr4 & CR4_DE) c.ud(); n += 2; }
  if (n > 7) c.ud();
  if (c.dr7 & 0x2000) { c.dr6 |= 0x2000; c.raise(Vec.DB); }
  const size = c.long64 ? 8 : 4;
  if (d.op === 0) {
    const v = c.getDr(n);
    c.setReg(d.rm, size, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  } else {
    const lo = c.r[d.rm], hi = size === 8 ? c.rh[d.rm] : 0;
    if ((n === 6 || n === 7) && hi !== 0) c.gp(0);
    c.setDr(n, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }
}

/** CLTS (0F 06). */
export function clts(c: Cpu): void { requireCpl0(c); c.cr0 &= ~CR0_TS; }

/** INVD / WBINVD (caches are not modelled). */
export function wbinvd(c: Cpu): void { requireCpl0(c); }

// ---- Group 7 (0F 01) ----

/** SGDT (0), SIDT (1), LGDT (2), LIDT (3), SMSW (4), LMSW (6), INVLPG (7) with a memory operand. */
export function group7(c: Cpu, d: Insn): void {
  const op = d.op;
  if (op === 4) {
    if ((c.cr4 & CR4_UMIP) && c.cpl > 0) c.gp(0);
    if (d.mod === 3) c.setReg(d.rm, d.os, d.os === 2 ? c.cr0 & 0xffff : c.cr0, 0); else wrRm(c, d, 2, c.cr0 & 0xffff, 0);
    return;
  }
  if (op === 6) {
    requireCpl0(c);
    const v = rdRm(c, d, 2);
    // LMSW sets PE (never clears it), MP, EM, TS.
    c.cr0 = (c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & CR0_PE);
    c.updateMode();
    return;
  }
  if (d.mod === 3) c.ud();
  if (op === 7) {
    requireCpl0(c);
    const lin = c.ea(d, 1, false);
    c.invalidatePage(lin, c.hi);
    return;
  }
  const tableSize = c.long64 ? 10 : 6;
  if (op <= 1) {
    if ((c.cr4 & CR4_UMIP) && c.cpl > 0) c.gp(0);
    const lo = c.ea(d, tableSize, true), hi = c.hi;
    const base = op === 0 ? c.gdtBaseLo : c.idtBaseLo, baseHi = op === 0 ? c.gdtBaseHi : c.idtBaseHi;
    const limit = op === 0 ? c.gdtLimit : c.idtLimit;
    c.probeWrite(lo, hi, tableSize);
    c.write16(lo, hi, limit);
    const t = (lo >>> 0) + 2;
    const l2 = t | 0, h2 = c.long64 ? (hi + (t > 0xffffffff ? 1 : 0)) | 0 : 0;
    if (c.long64) c.write64(l2, h2, base, baseHi); else c.write32(l2, h2, base);
    return;
  }
  requireCpl0(c);
  const lo = c.ea(d, tableSize, false), hi = c.hi;
  const limit = c.read16(lo, hi);
  const t = (lo >>> 0) + 2;
  const l2 = t | 0, h2 = c.long64 ? (hi + (t > 0xffffffff ? 1 : 0)) | 0 : 0;
  let base: number, baseHi = 0;
  if (c.long64) { base = c.read64(l2, h2); baseHi = c.hi; if (((baseHi << 16) >> 16) !== baseHi) c.gp(0); } else {
    base = c.read32(l2, h2);
    if (d.os === 2) base &= 0xffffff;
  }
  if (op === 2) { c.gdtBaseLo = base; c.gdtBaseHi = baseHi; c.gdtLimit = limit; } else { c.idtBaseLo = base; c.idtBaseHi = baseHi; c.idtLimit = limit; }
}

/** 0F 01 with mod = 3: VMCALL (C1), MONITOR/MWAIT (C8/C9: #UD, not advertised), CLAC/STAC (CA/CB), XGETBV/XSETBV (D0/D1), SWAPGS (F8), RDTSCP (F9). op holds the ModRM byte. */
export function group7reg(c: Cpu, d: Insn): void {
  switch (d.op) {
    case 0xc1: // VMCALL
      if (!isProtected(c) || c.cpl !== 0) c.ud();
      c.exitWith(CpuExitReason.Hypercall, d);
      break;
    case 0xca: case 0xcb: // CLAC / STAC
      if (!(c.cr4 & CR4_SMAP) || c.cpl !== 0) c.ud();
      materialize(c);
      if (d.op === 0xca) c.flags &= ~AC; else c.flags |= AC;
      c.updateMode();
      break;
    case 0xd0: // XGETBV
      if (!(c.cr4 & CR4_OSXSAVE)) c.ud();
      if (c.r[1] !== 0) c.gp(0);
      c.setReg(0, 4, c.xcr0, 0); c.setReg(2, 4, 0, 0);
      break;
    case 0xf8: { // SWAPGS
      if (!c.long64) c.ud();
      requireCpl0(c);
      const k = c.msrs.kernelGsBase;
      c.msrs.kernelGsBase = (BigInt(c.segBaseHi[5] >>> 0) << 32n) | BigInt(c.segBaseLo[5] >>> 0);
      c.setSegRaw(5, c.segSel[5], Number(k & 0xffffffffn) | 0, Number(k >> 32n) | 0, c.segLimit[5], c.segAttr[5]);
      break;
    }
    case 0xf9: // RDTSCP
      d.op = 1; try { rdtsc(c, d); } finally { d.op = 0xf9; }
      break;
    default: c.ud();
  }
}

// ---- Fast system calls ----

/** SYSCALL (0F 05): 64-bit mode with EFER.SCE. */
export function syscall(c: Cpu): void {
  if (!(c.efer & EFER_SCE) || !(c.efer & EFER_LMA)) c.ud();
  if (!c.long64) c.unsupported('SYSCALL from compatibility mode (CSTAR entry) is not emulated');
  const star = c.msrs.star;
  const sel = Number((star >> 32n) & 0xffffn);
  const rflags = getFlags(c);
  c.setReg(1, 8, c.nextLo, c.nextHi);
  c.setReg(11, 8, rflags & ~RF, 0);
  const mask = Number(c.msrs.sfmask & 0xffffffffn);
  c.flags = (rflags & ~mask & ~RF) | 2; c.lfOp = 0;
  c.setSegRaw(Seg.CS, sel & 0xfffc, 0, 0, 0xffffffff, 0xa09b);
  c.setSegRaw(Seg.SS, (sel + 8) & 0xfffc, 0, 0, 0xffffffff, 0xc093);
  c.updateMode();
  const t = c.msrs.lstar;
  c.nextLo = Number(t & 0xffffffffn) | 0; c.nextHi = Number(t >> 32n) | 0;
}

/** SYSRET (0F 07): to 64-bit (REX.W) or compatibility-mode ring 3. */
export function sysret(c: Cpu, d: Insn): void {
  if (!(c.efer & EFER_SCE) || !(c.efer & EFER_LMA) || !c.long64) c.ud();
  requireCpl0(c);
  const to64 = d.os === 8;
  if (to64 && ((c.rh[1] << 16) >> 16) !== c.rh[1]) c.gp(0);
  const base = Number((c.msrs.star >> 48n) & 0xffffn);
  const f = c.r[11];
  c.flags = ((f & 0x3c7fd7) | 2) & ~(RF | VM); c.lfOp = 0;
  if (to64) c.setSegRaw(Seg.CS, ((base + 16) & 0xfffc) | 3, 0, 0, 0xffffffff, 0xa0fb);
  else c.setSegRaw(Seg.CS, (base & 0xfffc) | 3, 0, 0, 0xffffffff, 0xc0fb);
  c.setSegRaw(Seg.SS, ((base + 8) & 0xfffc) | 3, 0, 0, 0xffffffff, 0xc0f3);
  c.updateMode();
  c.nextLo = c.r[1]; c.nextHi = to64 ? c.rh[1] : 0;
}

/** SYSENTER (0F 34). */
export function sysenter(c: Cpu): void {
  if (!(c.cr0 & CR0_PE)) c.gp(0);
  const cs = c.msrs.sysenterCs;
  if ((cs & 0xfffc) === 0) c.gp(0);
  const lma = (c.efer & EFER_LMA) !== 0;
  materialize(c);
  c.flags &= ~(VM | IF | RF);
  c.setSegRaw(Seg.CS, cs & 0xfffc, 0, 0, 0xffffffff, lma ? 0xa09b : 0xc09b);
  c.setSegRaw(Seg.SS, (cs + 8) & 0xfffc, 0, 0, 0xffffffff, 0xc093);
  c.updateMode();
  const esp = c.msrs.sysenterEsp, eip = c.msrs.sysenterEip;
  c.setReg(4, lma ? 8 : 4, Number(esp & 0xffffffffn) | 0, lma ? Number(esp >> 32n) | 0 : 0);
  c.nextLo = Number(eip & 0xffffffffn) | 0; c.nextHi = lma ? Number(eip >> 32n) | 0 : 0;
}

/** SYSEXIT (0F 35): to ring 3 (64-bit with REX.W). */
export function sysexit(c: Cpu, d: Insn): void {
  if (!(c.cr0 & CR0_PE)) c.gp(0);
  requireCpl0(c);
  const cs = c.msrs.sysenterCs;
  if ((cs & 0xfffc) === 0) c.gp(0);
  const to64 = d.os === 8;
  if (to64) {
    c.setSegRaw(Seg.CS, ((cs + 32) & 0xfffc) | 3, 0, 0, 0xffffffff, 0xa0fb);
    c.setSegRaw(Seg.SS, ((cs + 40) & 0xfffc) | 3, 0, 0, 0xffffffff, 0xc0f3);
  } else {
    c.setSegRaw(Seg.CS, ((cs + 16) & 0xfffc) | 3, 0, 0, 0xffffffff, 0xc0fb);
    c.setSegRaw(Seg.SS, ((cs + 24) & 0xfffc) | 3, 0, 0, 0xffffffff, 0xc0f3);
  }
  c.updateMode();
  c.setReg(4, to64 ? 8 : 4, c.r[1], to64 ? c.rh[1] : 0);
  c.nextLo = c.r[2]; c.nextHi = to64 ? c.rh[2] : 0;
}

/** UD2 and every opcode the emulator does not implement. */
export function undefinedOpcode(c: Cpu): void { c.ud(); }

