// Segment descriptors: reading GDT/LDT entries, the protected-mode checks of segment
// register loads (SDM 5.x, "MOV Sreg"), and the instructions that work on selectors
// (MOV/PUSH/POP Sreg, LDS..LGS/LSS, LLDT/LTR/SLDT/STR, LAR/LSL/VERR/VERW, ARPL).

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Seg } from './vcpu';
import { Vec } from './exceptions';
import { VM, ZF, materialize } from './flags';
import { CR0_PE } from './paging';
import { rdRm, wrRm } from './operands';

/** The two dwords of the last descriptor read, and the high qword of a 16-byte system descriptor. */
export const desc = { lo: 0, hi: 0, hi2: 0, addrLo: 0, addrHi: 0 };

export function descBase(lo: number, hi: number): number { return ((hi & 0xff000000) | ((hi & 0xff) << 16) | (lo >>> 16)) | 0; }
export function descLimit(lo: number, hi: number): number {
  const l = (hi & 0xf0000) | (lo & 0xffff);
  return (hi & 0x800000) ? ((l * 4096) + 0xfff) : l;
}
/** Hyper-V attribute encoding: Type S DPL P in bits 7:0, AVL L D/B G in bits 15:12. */
export function descAttr(hi: number): number { return ((hi >>> 8) & 0xff) | (((hi >>> 20) & 0xf) << 12); }

export function isProtected(c: Cpu): boolean { return (c.cr0 & CR0_PE) !== 0 && (c.flags & VM) === 0; }

/**
 * Reads the descriptor for `sel` into `desc`; returns false if the selector is outside its
 * table (the caller raises the right fault). `wide` also reads the upper 8 bytes (long-mode system descriptors).
 */
export function readDescriptor(c: Cpu, sel: number, wide = false): boolean {
  let baseLo: number, baseHi: number, limit: number;
  if (sel & 4) {
    if (c.segAttr[6] & 0x10000 || (c.segSel[6] & 0xfffc) === 0) return false;
    baseLo = c.segBaseLo[6]; baseHi = c.segBaseHi[6]; limit = c.segLimit[6];
  } else { baseLo = c.gdtBaseLo; baseHi = c.gdtBaseHi; limit = c.gdtLimit; }
  const off = sel & 0xfff8;
  if (off + (wide ? 15 : 7) > limit) return false;
  const s = (baseLo >>> 0) + off;
  const lo = s | 0, hi = (c.efer & 0x400) ? (baseHi + (s > 0xffffffff ? 1 : 0)) | 0 : 0;
  c.implicitSupervisor = true;
  try {
    desc.lo = c.read32(lo, hi);
    desc.hi = c.read32((lo + 4) | 0, hi);
    desc.hi2 = wide ? c.read32((lo + 8) | 0, hi) : 0;
  } finally { c.implicitSupervisor = false; }
  desc.addrLo = lo; desc.addrHi = hi;
  return true;
}

/** Sets the accessed bit of the descriptor last read (type bit 0 of data/code descriptors). */
export function setAccessed(c: Cpu): void {
  if (desc.hi & 0x100) return;
  desc.hi |= 0x100;
  c.implicitSupervisor = true;
  try { c.write8((desc.addrLo + 5) | 0, desc.addrHi, (desc.hi >>> 8) & 0xff); } finally { c.implicitSupervisor = false; }
}

/** Loads a data segment register (or SS) with the protected-mode checks. */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!isProtected(c)) {
    const attr = (c.flags & VM) ? 0xf3 : (c.segAttr[seg] & ~0x10000) | 0x80;
    c.setSegRaw(seg, sel, sel << 4, 0, (c.flags & VM) ? 0xffff : c.segLimit[seg], attr);
    if (seg === Seg.SS || seg === Seg.CS) c.updateMode();
    return;
  }
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (seg === Seg.SS && !(c.long64 && c.cpl !== 3 && rpl === c.cpl)) c.gp(0);
    // A null selector makes the segment unusable; in 64-bit mode FS/GS keep no base either.
    c.setSegRaw(seg, sel, 0, 0, 0, 0x10000 | (seg === Seg.SS ? (c.cpl << 5) : 0));
    if (seg === Seg.SS) c.updateMode();
    return;
  }
  if (!readDescriptor(c, sel)) c.gp(sel & 0xfffc);
  const hi = desc.hi;
  const type = (hi >>> 8) & 0x1f; // S + type
  const dpl = (hi >>> 13) & 3;
  if (seg === Seg.SS) {
    if (rpl !== c.cpl || dpl !== c.cpl || (type & 0x1a) !== 0x12) c.gp(sel & 0xfffc);
    if (!(hi & 0x8000)) c.raise(Vec.SS, sel & 0xfffc);
  } else {
    const isData = (type & 0x18) === 0x10;
    const readableCode = (type & 0x1a) === 0x1a;
    if (!isData && !readableCode) c.gp(sel & 0xfffc);
    const conforming = (type & 0x1c) === 0x1c;
    if (!conforming && (dpl < c.cpl || dpl < rpl)) c.gp(sel & 0xfffc);
    if (!(hi & 0x8000)) c.raise(Vec.NP, sel & 0xfffc);
  }
  setAccessed(c);
  c.setSegRaw(seg, sel, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
  if (seg === Seg.SS) c.updateMode();
}

/** MOV Sreg, r/m16 (8E). Loading CS is #UD; loading SS starts an interrupt shadow. */
export function movSreg(c: Cpu, d: Insn): void {
  if (d.reg === Seg.CS || d.reg > 5) c.ud();
  const sel = rdRm(c, d, 2);
  loadSegment(c, d.reg, sel);
  if (d.reg === Seg.SS) c.shadowUntil = c.debugShadowUntil = c.icount + 1;
}

/** MOV r/m, Sreg (8C): a register destination gets the zero-extended selector. */
export function movFromSreg(c: Cpu, d: Insn): void {
  if (d.reg > 5) c.ud();
  const v = c.segSel[d.reg];
  if (d.mod === 3) c.setReg(d.rm, d.os === 8 ? 8 : d.os, v, 0); else wrRm(c, d, 2, v, 0);
}

/** PUSH Sreg (segment in op). A 32-bit push writes only the low 16 bits on current CPUs; we write the zero-extended value. */
export function pushSreg(c: Cpu, d: Insn): void {
  c.push(d.os, c.segSel[d.op], 0);
}

/** POP Sreg. */
export function popSreg(c: Cpu, d: Insn): void {
  const v = c.peekStack(d.os, 0);
  loadSegment(c, d.op, v & 0xffff);
  c.addSp(d.os);
  if (d.op === Seg.SS) c.shadowUntil = c.debugShadowUntil = c.icount + 1;
}

/** LDS/LES/LSS/LFS/LGS reg, m16:16|32|64 (segment in op). */
export function loadFarPointer(c: Cpu, d: Insn): void {
  if (d.mod === 3) c.ud();
  const s = d.os;
  const lo = c.ea(d, s + 2, false), hi = c.hi;
  const off = c.readN(lo, hi, s), offHi = c.hi;
  const t = (lo >>> 0) + s;
  const sel = c.read16(t | 0, c.long64 ? hi + (t > 0xffffffff ? 1 : 0) : 0);
  loadSegment(c, d.op, sel);
  c.setReg(d.reg, s, off, offHi);
}

/** Group 6 (0F 00): 0 SLDT, 1 STR, 2 LLDT, 3 LTR, 4 VERR, 5 VERW. */
export function group6(c: Cpu, d: Insn): void {
  if (!isProtected(c)) c.ud();
  switch (d.op) {
    case 0: case 1: {
      const v = c.segSel[d.op === 0 ? 6 : 7];
      if (d.mod === 3) c.setReg(d.rm, d.os === 8 ? 8 : d.os, v, 0); else wrRm(c, d, 2, v, 0);
      return;
    }
    case 2: case 3: {
      if (c.cpl !== 0) c.gp(0);
      const sel = rdRm(c, d, 2);
      if (d.op === 2) loadLdt(c, sel); else loadTr(c, sel);
      return;
    }
    case 4: case 5: {
      const sel = rdRm(c, d, 2);
      materialize(c);
      c.flags &= ~ZF;
      if ((sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return;
      const hi = desc.hi, type = (hi >>> 8) & 0x1f, dpl = (hi >>> 13) & 3;
      if (!(type & 0x10)) return;
      const conformingCode = (type & 0x1c) === 0x1c;
      if (!conformingCode && (dpl < c.cpl || dpl < (sel & 3))) return;
      const ok = d.op === 4 ? ((type & 8) === 0 || (type & 2) !== 0) : ((type & 8) === 0 && (type & 2) !== 0);
      if (ok) c.flags |= ZF;
      return;
    }
    default: c.ud();
  }
}

function loadLdt(c: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) { c.setSegRaw(6, sel, 0, 0, 0, 0x10000); return; }
  if (sel & 4) c.gp(sel & 0xfffc);
  const wide = (c.efer & 0x400) !== 0;
  if (!readDescriptor(c, sel, wide)) c.gp(sel & 0xfffc);
  if (((desc.hi >>> 8) & 0x1f) !== 2) c.gp(sel & 0xfffc);
  if (!(desc.hi & 0x8000)) c.raise(Vec.NP, sel & 0xfffc);
  c.setSegRaw(6, sel, descBase(desc.lo, desc.hi), wide ? desc.hi2 : 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

function loadTr(c: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0 || (sel & 4)) c.gp(sel & 0xfffc);
  const wide = (c.efer & 0x400) !== 0;
  if (!readDescriptor(c, sel, wide)) c.gp(sel & 0xfffc);
  const type = (desc.hi >>> 8) & 0x1f;
  if (type !== 9 && (wide || type !== 1)) c.gp(sel & 0xfffc);
  if (!(desc.hi & 0x8000)) c.raise(Vec.NP, sel & 0xfffc);
  // Mark the TSS busy.
  desc.hi |= 0x200;
  c.implicitSupervisor = true;
  try { c.write8((desc.addrLo + 5) | 0, desc.addrHi, (desc.hi >>> 8) & 0xff); } finally { c.implicitSupervisor = false; }
  c.setSegRaw(7, sel, descBase(desc.lo, desc.hi), wide ? desc.hi2 : 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/** LAR (op 0) / LSL (op 1) reg, r/m16 (0F 02, 0F 03). */
export function larLsl(c: Cpu, d: Insn): void {
  if (!isProtected(c)) c.ud();
  const sel = rdRm(c, d, 2);
  materialize(c);
  c.flags &= ~ZF;
  if ((sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return;
  const hi = desc.hi, type = (hi >>> 8) & 0x1f, dpl = (hi >>> 13) & 3;
  if (type & 0x10) {
    const conformingCode = (type & 0x1c) === 0x1c;
    if (!conformingCode && (dpl < c.cpl || dpl < (sel & 3))) return;
  } else {
    // System descriptors valid for LAR/LSL (LSL: no gates).
    const okLar = c.long64 || (c.efer & 0x400) ? [2, 9, 11, 12] : [1, 2, 3, 4, 5, 9, 11, 12];
    const okLsl = c.long64 || (c.efer & 0x400) ? [2, 9, 11] : [1, 2, 3, 9, 11];
    if (!(d.op === 0 ? okLar : okLsl).includes(type & 0xf)) return;
    if (dpl < c.cpl || dpl < (sel & 3)) return;
  }
  c.flags |= ZF;
  if (d.op === 0) c.setReg(d.reg, d.os, hi & 0x00f0ff00 & (d.os === 2 ? 0xff00 : -1), 0);
  else { const l = descLimit(desc.lo, desc.hi); c.setReg(d.reg, d.os, l | 0, 0); }
}

/** ARPL r/m16, r16 (63 outside 64-bit mode). */
export function arpl(c: Cpu, d: Insn): void {
  if (!isProtected(c)) c.ud();
  const dst = rdRm(c, d, 2);
  const src = c.getReg(d.reg, 2);
  materialize(c);
  if ((dst & 3) < (src & 3)) {
    wrRm(c, d, 2, (dst & ~3) | (src & 3), 0);
    c.flags |= ZF;
  } else c.flags &= ~ZF;
}
