// Far JMP/CALL/RET: real-mode CS loads, protected/long-mode code-segment checks
// (conforming/non-conforming, RPL/DPL), call gates (with the TSS stack switch for a call
// to an inner ring) and RETF to an outer ring.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Seg } from './vcpu';
import { Vec } from './exceptions';
import { EFER_LMA } from './paging';
import { desc, descAttr, descBase, descLimit, isProtected, readDescriptor } from './segmentation';
import { nullInaccessibleSegments } from './interrupts';

/** Loads CS for a far transfer to sel:off at privilege `cpl` (descriptor already in `desc`). */
function commitCs(c: Cpu, sel: number, cpl: number, offLo: number, offHi: number, os: number): void {
  const lo = desc.lo, hi = desc.hi;
  const to64 = (c.efer & EFER_LMA) !== 0 && ((hi >>> 21) & 1) !== 0;
  const limit = descLimit(lo, hi);
  if (!to64 && (offLo >>> 0) > limit) c.gp(0);
  if (to64 && ((offHi << 16) >> 16) !== offHi) c.gp(0);
  c.setSegRaw(Seg.CS, (sel & 0xfffc) | cpl, descBase(lo, hi), 0, limit, descAttr(hi));
  c.updateMode();
  c.nextLo = os === 2 && !to64 ? offLo & 0xffff : offLo;
  c.nextHi = to64 ? offHi : 0;
}

/** Checks a code-segment descriptor for a direct far JMP/CALL (SDM "JMP", "CALL"). */
function checkDirectCode(c: Cpu, sel: number): void {
  const hi = desc.hi;
  const type = (hi >>> 8) & 0x1f, dpl = (hi >>> 13) & 3, rpl = sel & 3;
  if ((type & 0x18) !== 0x18) c.gp(sel & 0xfffc);
  if (type & 4) { if (dpl > c.cpl) c.gp(sel & 0xfffc); } else if (rpl > c.cpl || dpl !== c.cpl) c.gp(sel & 0xfffc);
  if (!(hi & 0x8000)) c.raise(Vec.NP, sel & 0xfffc);
  if ((c.efer & EFER_LMA) && ((hi >>> 21) & 1) && ((hi >>> 22) & 1)) c.gp(sel & 0xfffc);
}

/** Far transfer to sel:off. `call` pushes the return CS:IP (at operand size os). */
function farTransfer(c: Cpu, sel: number, offLo: number, offHi: number, os: number, call: boolean): void {
  const retCs = c.segSel[Seg.CS], retLo = c.nextLo, retHi = c.nextHi;
  if (!isProtected(c)) {
    if (call) { c.push(os, retCs, 0); c.push(os, retLo, 0); }
    c.setSegRaw(Seg.CS, sel, sel << 4, 0, c.segLimit[Seg.CS], c.segAttr[Seg.CS]);
    c.updateMode();
    c.nextLo = os === 2 ? offLo & 0xffff : offLo; c.nextHi = 0;
    return;
  }
  if ((sel & 0xfffc) === 0) c.gp(0);
  if (!readDescriptor(c, sel)) c.gp(sel & 0xfffc);
  const type = (desc.hi >>> 8) & 0x1f;
  if (type & 0x10) {
    checkDirectCode(c, sel);
    if (call) {
      const spLo = c.r[4], spHi = c.rh[4];
      try { c.push(os, retCs, 0); c.push(os, retLo, retHi); } catch (e) { c.r[4] = spLo; c.rh[4] = spHi; throw e; }
    }
    commitCs(c, sel, c.cpl, offLo, offHi, os);
    return;
  }
  const long = (c.efer & EFER_LMA) !== 0;
  if ((type & 0xf) === 0xc || (!long && (type & 0xf) === 4)) { callGate(c, sel, call, retCs, retLo, retHi); return; }
  if (!long && ((type & 0xf) === 5 || (type & 0xf) === 9 || (type & 0xf) === 1)) c.unsupported('far transfer to a task gate or TSS (hardware task switching is not emulated)');
  c.gp(sel & 0xfffc);
}

function callGate(c: Cpu, gateSel: number, call: boolean, retCs: number, retLo: number, retHi: number): void {
  const long = (c.efer & EFER_LMA) !== 0;
  if (long) readDescriptor(c, gateSel, true);
  const g0 = desc.lo, g1 = desc.hi, g2 = desc.hi2;
  const gdpl = (g1 >>> 13) & 3;
  const gate32 = ((g1 >>> 8) & 0xf) === 0xc;
  if (gdpl < c.cpl || gdpl < (gateSel & 3)) c.gp(gateSel & 0xfffc);
  if (!(g1 & 0x8000)) c.raise(Vec.NP, gateSel & 0xfffc);
  const sel = g0 >>> 16;
  const offLo = gate32 ? (g1 & 0xffff0000) | (g0 & 0xffff) : g0 & 0xffff;
  const offHi = long ? g2 : 0;
  if ((sel & 0xfffc) === 0) c.gp(0);
  if (!readDescriptor(c, sel)) c.gp(sel & 0xfffc);
  const hi = desc.hi, type = (hi >>> 8) & 0x1f, dpl = (hi >>> 13) & 3;
  if ((type & 0x18) !== 0x18 || dpl > c.cpl) c.gp(sel & 0xfffc);
  if (!(hi & 0x8000)) c.raise(Vec.NP, sel & 0xfffc);
  const os = long ? 8 : gate32 ? 4 : 2;
  const conforming = (type & 4) !== 0;
  if (!call || conforming || dpl === c.cpl) {
    if (!call && !conforming && dpl !== c.cpl) c.gp(sel & 0xfffc);
    if (call) { c.push(os, retCs, 0); c.push(os, retLo, retHi); }
    commitCs(c, sel, c.cpl, offLo, offHi, os);
    return;
  }
  // Call to an inner ring: new stack from the TSS; legacy gates copy their parameter count of stack slots.
  const codeLo = desc.lo, codeHi = desc.hi;
  const oldSs = c.segSel[Seg.SS], oldSpLo = c.r[4], oldSpHi = c.rh[4];
  const paramCount = long ? 0 : g1 & 0x1f;
  const params: number[] = [];
  for (let i = 0; i < paramCount; i++) params.push(c.peekStack(os, i * os));
  c.implicitSupervisor = true;
  let spLo: number, spHi = 0, ss = dpl;
  try {
    const tb = c.segBaseLo[7];
    if (long) { spLo = c.read64((tb + 4 + dpl * 8) | 0, c.segBaseHi[7]); spHi = c.hi; }
    else { spLo = c.read32((tb + 4 + dpl * 8) | 0, 0); ss = c.read16((tb + 8 + dpl * 8) | 0, 0); }
  } finally { c.implicitSupervisor = false; }
  if (long) {
    c.setSegRaw(Seg.SS, dpl, 0, 0, 0, 0x10000 | (dpl << 5));
  } else {
    if ((ss & 0xfffc) === 0 || (ss & 3) !== dpl || !readDescriptor(c, ss)) c.raise(Vec.TS, ss & 0xfffc);
    if (((desc.hi >>> 13) & 3) !== dpl || ((desc.hi >>> 8) & 0x1a) !== 0x12) c.raise(Vec.TS, ss & 0xfffc);
    c.setSegRaw(Seg.SS, ss, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
  }
  c.updateMode();
  c.r[4] = spLo; c.rh[4] = spHi;
  // The new stack is written at the new (inner) privilege.
  c.implicitSupervisor = dpl < 3;
  try {
    c.push(os, oldSs, 0); c.push(os, oldSpLo, oldSpHi);
    for (let i = paramCount - 1; i >= 0; i--) c.push(os, params[i], 0);
    c.push(os, retCs, 0); c.push(os, retLo, retHi);
  } finally { c.implicitSupervisor = false; }
  desc.lo = codeLo; desc.hi = codeHi;
  commitCs(c, sel, dpl, offLo, offHi, os);
}

/** JMP ptr16:16/32 (EA) and CALL ptr16:16/32 (9A): selector in imm2, offset in imm; op 1 = call. */
export function farDirect(c: Cpu, d: Insn): void {
  farTransfer(c, d.imm2 & 0xffff, d.os === 2 ? d.imm & 0xffff : d.imm, 0, d.os, d.op === 1);
}

/** JMP m16:16/32/64 (FF /5, op 0) and CALL m16:16/32/64 (FF /3, op 1). */
export function farIndirect(c: Cpu, d: Insn): void {
  if (d.mod === 3) c.ud();
  const s = d.os;
  const lo = c.ea(d, s + 2, false), hi = c.hi;
  const off = c.readN(lo, hi, s), offHi = s === 8 ? c.hi : 0;
  const t = (lo >>> 0) + s;
  const sel = c.read16(t | 0, c.long64 ? (hi + (t > 0xffffffff ? 1 : 0)) | 0 : 0);
  farTransfer(c, sel, off, offHi, s, d.op === 1);
}

/** RETF / RETF imm16 (CB, CA). */
export function retFar(c: Cpu, d: Insn): void {
  const s = d.os;
  const ipLo = c.peekStack(s, 0), ipHi = s === 8 ? c.hi : 0;
  const cs = c.peekStack(s, s) & 0xffff;
  const n = d.imm & 0xffff;
  if (!isProtected(c)) {
    c.addSp(2 * s + n);
    c.setSegRaw(Seg.CS, cs, cs << 4, 0, c.segLimit[Seg.CS], c.segAttr[Seg.CS]);
    c.updateMode();
    c.jumpTo(ipLo, 0, s);
    return;
  }
  const rpl = cs & 3;
  if ((cs & 0xfffc) === 0) c.gp(0);
  if (!readDescriptor(c, cs)) c.gp(cs & 0xfffc);
  const hi = desc.hi, type = (hi >>> 8) & 0x1f, dpl = (hi >>> 13) & 3;
  if ((type & 0x18) !== 0x18 || rpl < c.cpl) c.gp(cs & 0xfffc);
  if ((type & 4) ? dpl > rpl : dpl !== rpl) c.gp(cs & 0xfffc);
  if (!(hi & 0x8000)) c.raise(Vec.NP, cs & 0xfffc);
  const codeLo = desc.lo, codeHi = desc.hi;
  if (rpl === c.cpl) {
    c.addSp(2 * s + n);
    commitCs(c, cs, rpl, ipLo, ipHi, s);
    return;
  }
  // Return to an outer ring: pop SS:rSP too.
  const spLo = c.peekStack(s, 2 * s + n), spHi = s === 8 ? c.hi : 0;
  const ss = c.peekStack(s, 3 * s + n) & 0xffff;
  const long = (c.efer & EFER_LMA) !== 0;
  let sLo = 0, sHi = 0;
  const nullSs = (ss & 0xfffc) === 0;
  if (nullSs) { if (!(long && ((codeHi >>> 21) & 1) && rpl !== 3)) c.gp(0); } else {
    if ((ss & 3) !== rpl || !readDescriptor(c, ss)) c.gp(ss & 0xfffc);
    if (((desc.hi >>> 13) & 3) !== rpl || ((desc.hi >>> 8) & 0x1a) !== 0x12) c.gp(ss & 0xfffc);
    if (!(desc.hi & 0x8000)) c.raise(Vec.SS, ss & 0xfffc);
    sLo = desc.lo; sHi = desc.hi;
  }
  desc.lo = codeLo; desc.hi = codeHi;
  commitCs(c, cs, rpl, ipLo, ipHi, s);
  if (nullSs) c.setSegRaw(Seg.SS, ss, 0, 0, 0, 0x10000 | (rpl << 5));
  else c.setSegRaw(Seg.SS, ss, descBase(sLo, sHi), 0, descLimit(sLo, sHi), descAttr(sHi));
  c.updateMode();
  c.setReg(4, c.stackSize, spLo, spHi);
  c.addSp(n);
  nullInaccessibleSegments(c);
}
