// Event delivery (SDM 6.x): real-mode IVT, protected-mode and long-mode IDT gates,
// privilege-changing stack switches through the TSS, IST stacks, error codes, #DF on a
// fault during delivery and triple fault; plus INT n/INT3/INTO/INT1 and IRET.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { FAULT, Vec, hasErrorCode, isContributory } from './exceptions';
import { getFlags, materialize, IF, TF, NT, RF, VM, AC, IOPL, OF, getOF, VIF, VIP } from './flags';
import { Seg } from './vcpu';
import { CR0_PE, EFER_LMA } from './paging';
import { desc, descAttr, descBase, descLimit, readDescriptor } from './segmentation';

export const enum DeliveryOutcome { Delivered = 0, TripleFault = 1 }

/**
 * Delivers `vector`. Faults return to the current RIP, software interrupts (`software`) to
 * the next one. A fault raised while delivering is combined per SDM table 6-5.
 */
export function deliverEvent(c: Cpu, vector: number, hasCode: boolean, code: number, software: boolean, _injected: boolean): DeliveryOutcome {
  let v = vector, hc = hasCode, ec = code, sw = software;
  for (;;) {
    const prev = c.deliveringVector;
    c.deliveringVector = v;
    try {
      deliverOnce(c, v, hc, ec, sw);
      c.deliveringVector = -1;
      return DeliveryOutcome.Delivered;
    } catch (e) {
      if (e !== FAULT) { c.deliveringVector = -1; throw e; }
      const nv = c.faultVec;
      const first = v;
      c.deliveringVector = prev;
      if (first === Vec.DF) { c.deliveringVector = -1; return DeliveryOutcome.TripleFault; }
      if ((isContributory(first) && isContributory(nv)) || (first === Vec.PF && (nv === Vec.PF || isContributory(nv)))) {
        v = Vec.DF; hc = true; ec = 0;
      } else { v = nv; hc = c.faultHasCode; ec = c.faultCode; }
      sw = false;
    }
  }
}

function deliverOnce(c: Cpu, v: number, hasCode: boolean, code: number, software: boolean): void {
  const retLo = software ? c.nextLo : c.ripLo;
  const retHi = software ? c.nextHi : c.ripHi;
  // External events and exceptions set EXT (bit 0) in error codes about the IDT.
  const ext = software ? 0 : 1;
  const flags = getFlags(c);
  if (!(c.cr0 & CR0_PE)) {
    // Real mode: IVT entry is offset:segment.
    if (v * 4 + 3 > c.idtLimit) c.raise(Vec.GP, 0);
    const e = (c.idtBaseLo + v * 4) | 0;
    const off = c.read16(e, 0), sel = c.read16((e + 2) | 0, 0);
    c.push(2, flags & 0xffff, 0);
    c.push(2, c.segSel[Seg.CS], 0);
    c.push(2, retLo & 0xffff, 0);
    c.setSegRaw(Seg.CS, sel, sel << 4, 0, c.segLimit[Seg.CS], c.segAttr[Seg.CS]);
    setFlagsAfterDelivery(c, flags, true);
    setRip(c, off, 0);
    return;
  }
  if (flags & VM) c.unsupported('interrupt delivery in virtual-8086 mode');
  const long = (c.efer & EFER_LMA) !== 0;
  const gsize = long ? 16 : 8;
  const idtErr = v * 8 + 2 + ext;
  if (v * gsize + gsize - 1 > c.idtLimit) c.raise(Vec.GP, idtErr);
  const s = (c.idtBaseLo >>> 0) + v * gsize;
  const gLo = s | 0, gHi = long ? (c.idtBaseHi + (s > 0xffffffff ? 1 : 0)) | 0 : 0;
  c.implicitSupervisor = true;
  let g0: number, g1: number, g2 = 0;
  try {
    g0 = c.read32(gLo, gHi); g1 = c.read32((gLo + 4) | 0, gHi);
    if (long) g2 = c.read32((gLo + 8) | 0, gHi);
  } finally { c.implicitSupervisor = false; }
  const type = (g1 >>> 8) & 0x1f;
  const gdpl = (g1 >>> 13) & 3;
  if (type === 5) {
    if (long) c.raise(Vec.GP, idtErr);
    c.unsupported('task gate in the IDT (hardware task switching is not emulated)');
  }
  const is32 = type === 0xe || type === 0xf;
  const is16 = type === 6 || type === 7;
  if (!(is32 || (is16 && !long))) c.raise(Vec.GP, idtErr);
  const trapGate = (type & 1) !== 0;
  if (software && gdpl < c.cpl) c.raise(Vec.GP, idtErr);
  if (!(g1 & 0x8000)) c.raise(Vec.NP, idtErr);
  const sel = g0 >>> 16;
  let offLo = (g1 & 0xffff0000) | (g0 & 0xffff);
  const offHi = long ? g2 : 0;
  if (is16) offLo &= 0xffff;
  if ((sel & 0xfffc) === 0) c.raise(Vec.GP, ext);
  if (!readDescriptor(c, sel)) c.raise(Vec.GP, (sel & 0xfffc) + ext);
  const chi = desc.hi, clo = desc.lo;
  const ctype = (chi >>> 8) & 0x1f, cdpl = (chi >>> 13) & 3;
  if ((ctype & 0x18) !== 0x18 || cdpl > c.cpl) c.raise(Vec.GP, (sel & 0xfffc) + ext);
  if (!(chi & 0x8000)) c.raise(Vec.NP, (sel & 0xfffc) + ext);
  if (long && !((chi >>> 21) & 1)) c.raise(Vec.GP, (sel & 0xfffc) + ext);
  const conforming = (ctype & 4) !== 0;
  const newCpl = conforming ? c.cpl : cdpl;
  const ist = long ? g1 & 7 : 0;
  const oldSs = c.segSel[Seg.SS], oldSpLo = c.r[4], oldSpHi = c.rh[4];
  const oldCs = c.segSel[Seg.CS];
  const oldCpl = c.cpl;
  // Frame goes to a new stack on a privilege change (or an IST stack).
  let spLo: number, spHi: number, ssSel = oldSs, ssBase = c.segBaseLo[Seg.SS], ssLimit = c.segLimit[Seg.SS], ssAttr = c.segAttr[Seg.SS];
  let stackWidth = c.stackSize;
  const changing = newCpl < c.cpl;
  if (long) {
    if (ist || changing) {
      const off = ist ? 0x24 + (ist - 1) * 8 : 4 + newCpl * 8;
      readTss(c, off, 8);
      spLo = tssLo; spHi = tssHi;
    } else { spLo = oldSpLo; spHi = oldSpHi; }
    spLo &= ~0xf;
    stackWidth = 8;
    if (changing) { ssSel = newCpl; ssBase = 0; ssLimit = 0; ssAttr = 0x10000 | (newCpl << 5); }
  } else if (changing) {
    const tss32 = (c.segAttr[7] & 0xf) === 0xb || (c.segAttr[7] & 0xf) === 9;
    if (tss32) { readTss(c, 4 + newCpl * 8, 4); spLo = tssLo; readTss(c, 8 + newCpl * 8, 2); ssSel = tssLo; }
    else { readTss(c, 2 + newCpl * 4, 2); spLo = tssLo; readTss(c, 4 + newCpl * 4, 2); ssSel = tssLo; }
    spHi = 0;
    if ((ssSel & 0xfffc) === 0 || (ssSel & 3) !== newCpl) c.raise(Vec.TS, (ssSel & 0xfffc) + ext);
    if (!readDescriptor(c, ssSel)) c.raise(Vec.TS, (ssSel & 0xfffc) + ext);
    const shi = desc.hi;
    if (((shi >>> 13) & 3) !== newCpl || (((shi >>> 8) & 0x1a) !== 0x12)) c.raise(Vec.TS, (ssSel & 0xfffc) + ext);
    if (!(shi & 0x8000)) c.raise(Vec.SS, (ssSel & 0xfffc) + ext);
    ssBase = descBase(desc.lo, shi); ssLimit = descLimit(desc.lo, shi); ssAttr = descAttr(shi);
    stackWidth = (ssAttr & 0x4000) ? 4 : 2;
  } else { spLo = oldSpLo; spHi = oldSpHi; }
  const w = long ? 8 : is32 ? 4 : 2;
  // Build the frame in a scratch list, then write it (all writes at the new privilege).
  let n = 0;
  if (long || changing) { frame[n++] = oldSs; frameHi[n - 1] = 0; frame[n++] = oldSpLo; frameHi[n - 1] = oldSpHi; }
  frame[n++] = flags; frameHi[n - 1] = 0;
  frame[n++] = oldCs; frameHi[n - 1] = 0;
  frame[n++] = retLo; frameHi[n - 1] = retHi;
  if (hasCode) { frame[n++] = code; frameHi[n - 1] = 0; }
  const saveImplicit = c.implicitSupervisor;
  c.implicitSupervisor = newCpl < 3;
  try {
    for (let k = 0; k < n; k++) {
      if (stackWidth === 8) {
        const t = (spLo >>> 0) - w;
        spHi = (spHi - (t < 0 ? 1 : 0)) | 0; spLo = t | 0;
        if (((spHi << 16) >> 16) !== spHi) c.raise(Vec.SS, 0);
        c.writeN(spLo, spHi, w, frame[k], frameHi[k]);
      } else {
        spLo = stackWidth === 4 ? (spLo - w) | 0 : (spLo & ~0xffff) | ((spLo - w) & 0xffff);
        const off = stackWidth === 4 ? spLo : spLo & 0xffff;
        if (((ssAttr & 0x1c) !== 0x14 && (off >>> 0) + w - 1 > ssLimit)) c.raise(Vec.SS, changing ? (ssSel & 0xfffc) + ext : 0);
        c.writeN((ssBase + off) | 0, 0, w, w === 2 ? frame[k] & 0xffff : frame[k], 0);
      }
    }
  } finally { c.implicitSupervisor = saveImplicit; }
  // Commit.
  if (long || changing) c.setSegRaw(Seg.SS, ssSel, ssBase, 0, ssLimit, ssAttr);
  c.r[4] = spLo; c.rh[4] = stackWidth === 8 ? spHi : stackWidth === 4 ? 0 : c.rh[4];
  c.setSegRaw(Seg.CS, (sel & 0xfffc) | newCpl, descBase(clo, chi), 0, descLimit(clo, chi), descAttr(chi));
  if (changing && !long && oldCpl !== newCpl) { /* data segments stay; IRET to the outer level re-checks them */ }
  setFlagsAfterDelivery(c, flags, !trapGate);
  c.updateMode();
  setRip(c, offLo, offHi);
}

const frame = new Int32Array(8);
const frameHi = new Int32Array(8);
let tssLo = 0, tssHi = 0;

/** Reads `size` bytes at offset `off` of the current TSS (into tssLo/tssHi). */
function readTss(c: Cpu, off: number, size: number): void {
  if (off + size - 1 > c.segLimit[7]) c.raise(Vec.TS, c.segSel[7] & 0xfffc);
  const long = (c.efer & EFER_LMA) !== 0;
  const s = (c.segBaseLo[7] >>> 0) + off;
  c.implicitSupervisor = true;
  try {
    tssLo = c.readN(s | 0, long ? (c.segBaseHi[7] + (s > 0xffffffff ? 1 : 0)) | 0 : 0, size);
    tssHi = size === 8 ? c.hi : 0;
  } finally { c.implicitSupervisor = false; }
}

function setFlagsAfterDelivery(c: Cpu, flags: number, clearIf: boolean): void {
  let f = flags & ~(TF | NT | RF | VM);
  if (!(c.cr0 & CR0_PE)) f &= ~AC;
  if (clearIf) f &= ~IF;
  c.flags = f; c.lfOp = 0;
}

function setRip(c: Cpu, lo: number, hi: number): void {
  c.ripLo = lo; c.ripHi = hi; c.nextLo = lo; c.nextHi = hi;
  c.breakLoop = true;
}

// ---------------------------------------------------------------------------------------
// Software interrupts

/** INT imm8 (CD). In protected mode the gate DPL is checked against CPL. */
export function intN(c: Cpu, d: Insn): void {
  if (c.flags & VM && ((c.flags >> 12) & 3) < 3) c.gp(0);
  softInt(c, d.imm & 0xff);
}

/** INT3 (CC). */
export function int3(c: Cpu, d: Insn): void {
  c.exitIfSoftwareExceptionIntercepted(Vec.BP, d);
  softInt(c, Vec.BP);
}

/** INTO (CE, not in 64-bit mode). */
export function into(c: Cpu, d: Insn): void {
  if (!getOF(c)) return;
  c.exitIfSoftwareExceptionIntercepted(Vec.OF, d);
  softInt(c, Vec.OF);
}

/** INT1/ICEBP (F1): a #DB delivered like a hardware event (no DPL check). */
export function int1(c: Cpu, d: Insn): void {
  c.exitIfSoftwareExceptionIntercepted(Vec.DB, d);
  fromHandler(c, Vec.DB, false, 0, true, false);
}

function softInt(c: Cpu, v: number): void { fromHandler(c, v, false, 0, true, true); }

/** Delivers from inside a handler; the instruction retires as the handler returns. */
function fromHandler(c: Cpu, v: number, hasCode: boolean, code: number, retAfter: boolean, software: boolean): void {
  void retAfter;
  const out = c.deliver(v, hasCode, code, software, false);
  if (out === DeliveryOutcome.TripleFault) c.exitWith(c.exitReason, null);
  // deliver() placed the handler address in ripLo/nextLo; keep it.
  c.nextLo = c.ripLo; c.nextHi = c.ripHi;
}

// ---------------------------------------------------------------------------------------
// IRET

/** IRET/IRETD/IRETQ (CF). */
export function iret(c: Cpu, d: Insn): void {
  const s = d.os;
  materialize(c);
  if (!(c.cr0 & CR0_PE)) {
    const ip = c.peekStack(s, 0), cs = c.peekStack(s, s), fl = c.peekStack(s, 2 * s);
    c.addSp(3 * s);
    c.setSegRaw(Seg.CS, cs & 0xffff, (cs & 0xffff) << 4, 0, c.segLimit[Seg.CS], c.segAttr[Seg.CS]);
    const mask = s === 2 ? 0xffff : 0x257fd5;
    c.flags = ((c.flags & ~mask) | (fl & mask)) | 2;
    c.updateMode();
    c.jumpTo(ip, 0, s);
    return;
  }
  if (c.flags & VM) c.unsupported('IRET in virtual-8086 mode');
  if (c.flags & NT) {
    if (c.efer & EFER_LMA) c.gp(0);
    c.unsupported('IRET with NT set (task return) is not emulated');
  }
  const long = (c.efer & EFER_LMA) !== 0;
  const ipLo = c.peekStack(s, 0), ipHi = s === 8 ? c.hi : 0;
  const cs = c.peekStack(s, s) & 0xffff;
  const fl = c.peekStack(s, 2 * s);
  const rpl = cs & 3;
  if (!long && (fl & VM) && c.cpl === 0) c.unsupported('IRET to virtual-8086 mode');
  if ((cs & 0xfffc) === 0) c.gp(0);
  if (!readDescriptor(c, cs)) c.gp(cs & 0xfffc);
  const chi = desc.hi, clo = desc.lo;
  const ctype = (chi >>> 8) & 0x1f, cdpl = (chi >>> 13) & 3;
  if ((ctype & 0x18) !== 0x18 || rpl < c.cpl) c.gp(cs & 0xfffc);
  if ((ctype & 4) ? cdpl > rpl : cdpl !== rpl) c.gp(cs & 0xfffc);
  if (!(chi & 0x8000)) c.raise(Vec.NP, cs & 0xfffc);
  const to64 = long && ((chi >>> 21) & 1) !== 0;
  let newSpLo = 0, newSpHi = 0, newSs = 0;
  const outer = rpl > c.cpl;
  const popSs = outer || (long && c.long64);
  if (popSs) {
    newSpLo = c.peekStack(s, 3 * s); newSpHi = s === 8 ? c.hi : 0;
    newSs = c.peekStack(s, 4 * s) & 0xffff;
  }
  // Flags: IOPL only at CPL 0, IF only at CPL <= IOPL (SDM "IRET").
  const oldCpl = c.cpl;
  const iopl = (c.flags >> 12) & 3;
  let mask = s === 2 ? 0xffff : (RF | AC | 0x200000 | VIF | VIP | 0x7fd5 | NT | OF | IOPL | IF | TF);
  if (oldCpl > 0) mask &= ~(IOPL | VIF | VIP);
  if (oldCpl > iopl) mask &= ~IF;
  mask &= ~VM;
  const newFlags = ((c.flags & ~mask) | (fl & mask)) | 2;
  if (popSs) {
    if ((newSs & 0xfffc) === 0) {
      if (!(long && to64 && rpl !== 3 && (newSs & 3) === rpl)) c.gp(0);
    } else {
      if ((newSs & 3) !== rpl) c.gp(newSs & 0xfffc);
      if (!readDescriptor(c, newSs)) c.gp(newSs & 0xfffc);
      if (((desc.hi >>> 13) & 3) !== rpl || ((desc.hi >>> 8) & 0x1a) !== 0x12) c.gp(newSs & 0xfffc);
      if (!(desc.hi & 0x8000)) c.raise(Vec.SS, newSs & 0xfffc);
    }
  }
  const sLo = desc.lo, sHi = desc.hi;
  // Commit.
  c.setSegRaw(Seg.CS, cs, descBase(clo, chi), 0, descLimit(clo, chi), descAttr(chi));
  c.flags = newFlags;
  if (popSs) {
    if ((newSs & 0xfffc) === 0) c.setSegRaw(Seg.SS, newSs, 0, 0, 0, 0x10000 | (rpl << 5));
    else c.setSegRaw(Seg.SS, newSs, descBase(sLo, sHi), 0, descLimit(sLo, sHi), descAttr(sHi));
    c.updateMode();
    c.setReg(4, c.stackSize === 8 ? 8 : c.stackSize, newSpLo, newSpHi);
  } else {
    c.addSp(3 * s);
    c.updateMode();
  }
  if (outer) nullInaccessibleSegments(c);
  c.jumpTo(ipLo, to64 ? ipHi : 0, to64 ? 8 : s === 8 ? 4 : s);
  c.shadowUntil = -1;
}

/** After a return to an outer level: data segments the new CPL may not use become null. */
export function nullInaccessibleSegments(c: Cpu): void {
  for (const sg of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
    const a = c.segAttr[sg];
    if (a & 0x10000) continue;
    const dpl = (a >> 5) & 3;
    const conformingCode = (a & 0x1c) === 0x1c;
    if ((a & 0x10) && !conformingCode && dpl < c.cpl) {
      if (c.long64 && (sg === Seg.FS || sg === Seg.GS)) { c.segSel[sg] = 0; c.segAttr[sg] |= 0x10000; }
      else c.setSegRaw(sg, 0, 0, 0, 0, 0x10000);
    }
  }
}

export { hasErrorCode };
