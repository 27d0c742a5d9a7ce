// Data movement: MOV (all forms), MOVZX/MOVSX/MOVSXD, LEA, XCHG, PUSH/POP, PUSHA/POPA,
// CMOVcc, SETcc, CBW..CQO, XLAT, LAHF/SAHF, NOP.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { cond, materialize, getFlags, CF, PF, AF, ZF, SF } from './flags';
import { MASK, rdRm, wrRm } from './operands';
import { Vec } from './exceptions';

/** MOV r/m, reg (88, 89). */
export function movRmReg(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = c.getReg(d.reg, s);
  wrRm(c, d, s, v, c.hi);
}

/** MOV reg, r/m (8A, 8B). */
export function movRegRm(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = rdRm(c, d, s);
  c.setReg(d.reg, s, v, c.hi);
}

/** MOV r/m, imm (C6, C7) and MOV reg, imm (B0-BF, decoded with mod = 3). */
export function movRmImm(c: Cpu, d: Insn): void {
  const s = d.os;
  wrRm(c, d, s, s < 4 ? d.imm & MASK[s] : d.imm, d.immHi);
}

/** MOV AL/eAX, moffs (A0, A1: op 0) and moffs, AL/eAX (A2, A3: op 1). The offset is in disp. */
export function movMoffs(c: Cpu, d: Insn): void {
  const s = d.os;
  if (d.op === 0) { const v = rdRm(c, d, s); c.setReg(0, s, v, c.hi); } else { const v = c.getReg(0, s); wrRm(c, d, s, v, c.hi); }
}

/** MOVZX (op 0) / MOVSX (op 1) reg, r/m8|16; the source size is in imm2. MOVSXD uses op 1, imm2 4. */
export function movx(c: Cpu, d: Insn): void {
  const ss = d.imm2;
  let v = rdRm(c, d, ss);
  let vh = 0;
  if (d.op === 1) {
    v = ss === 1 ? (v << 24) >> 24 : ss === 2 ? (v << 16) >> 16 : v | 0;
    vh = v >> 31;
  }
  const s = d.os;
  c.setReg(d.reg, s, s < 4 ? v & MASK[s] : v, vh);
}

/** LEA reg, m: the offset only (no segment base), truncated to the operand size. */
export function lea(c: Cpu, d: Insn): void {
  if (d.mod === 3) c.ud();
  let lo = d.disp, hi = d.dispHi;
  if (d.base >= 0) { const s = (lo >>> 0) + (c.r[d.base] >>> 0); lo = s | 0; hi = (hi + c.rh[d.base] + (s > 0xffffffff ? 1 : 0)) | 0; }
  else if (d.ripRel) { const s = (lo >>> 0) + (c.nextLo >>> 0); lo = s | 0; hi = (hi + c.nextHi + (s > 0xffffffff ? 1 : 0)) | 0; }
  if (d.index >= 0) {
    const x = c.r[d.index], sc = d.scale;
    const xh = sc === 0 ? c.rh[d.index] : (c.rh[d.index] << sc) | (x >>> (32 - sc));
    const s = (lo >>> 0) + ((x << sc) >>> 0); lo = s | 0; hi = (hi + xh + (s > 0xffffffff ? 1 : 0)) | 0;
  }
  if (d.as === 2) lo &= 0xffff;
  if (d.as !== 8) hi = 0;
  c.setReg(d.reg, d.os, d.os < 4 ? lo & MASK[d.os] : lo, hi);
}

/** XCHG r/m, reg (86, 87) and XCHG rAX, reg (91-97, decoded with mod = 3, rm = 0). */
export function xchg(c: Cpu, d: Insn): void {
  const s = d.os;
  const a = c.getReg(d.reg, s), ah = c.hi;
  if (d.mod === 3) {
    const b = c.getReg(d.rm, s), bh = c.hi;
    c.setReg(d.rm, s, a, ah); c.setReg(d.reg, s, b, bh);
    return;
  }
  const lo = c.ea(d, s, true), hi = c.hi;
  const b = c.readN(lo, hi, s), bh = c.hi;
  c.writeN(lo, hi, s, a, ah);
  c.setReg(d.reg, s, b, bh);
}

export function nop(): void { /* NOP, PAUSE, hint NOPs, prefetches, fences */ }

/** PUSH reg (50-57; register in rm). */
export function pushReg(c: Cpu, d: Insn): void {
  const v = c.getReg(d.rm, d.os);
  c.push(d.os, v, c.hi);
}

/** POP reg (58-5F). */
export function popReg(c: Cpu, d: Insn): void {
  const v = c.pop(d.os);
  c.setReg(d.rm, d.os, v, c.hi);
}

/** PUSH imm (68, 6A). */
export function pushImm(c: Cpu, d: Insn): void {
  c.push(d.os, d.os === 2 ? d.imm & 0xffff : d.imm, d.immHi);
}

/** PUSH r/m (FF /6). */
export function pushRm(c: Cpu, d: Insn): void {
  const v = rdRm(c, d, d.os);
  c.push(d.os, v, c.hi);
}

/** POP r/m (8F /0): RSP is incremented before the destination address is computed. */
export function popRm(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = c.peekStack(s, 0), vh = c.hi;
  const spLo = c.r[4], spHi = c.rh[4];
  c.addSp(s);
  try {
    wrRm(c, d, s, v, vh);
  } catch (e) {
    c.r[4] = spLo; c.rh[4] = spHi;
    throw e;
  }
}

/** PUSHA/PUSHAD (60). */
export function pusha(c: Cpu, d: Insn): void {
  const s = d.os;
  const sp = c.getReg(4, s);
  const spLo = c.r[4];
  try {
    for (let i = 0; i < 8; i++) c.push(s, i === 4 ? sp : c.getReg(i, s), 0);
  } catch (e) { c.r[4] = spLo; throw e; }
}

/** POPA/POPAD (61): the saved SP is skipped. */
export function popa(c: Cpu, d: Insn): void {
  const s = d.os;
  const vals = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 7; i >= 0; i--) vals[i] = c.peekStack(s, (7 - i) * s);
  for (let i = 7; i >= 0; i--) if (i !== 4) c.setReg(i, s, vals[i], 0);
  c.addSp(8 * s);
}

/** CMOVcc reg, r/m (0F 40-4F): the source is read even when the condition is false; a 32-bit CMOV always zero-extends. */
export function cmov(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = rdRm(c, d, s), vh = c.hi;
  if (cond(c, d.op)) c.setReg(d.reg, s, v, vh);
  else if (s === 4) c.rh[d.reg] = 0;
}

/** SETcc r/m8 (0F 90-9F). */
export function setcc(c: Cpu, d: Insn): void {
  wrRm(c, d, 1, cond(c, d.op) ? 1 : 0, 0);
}

/** CBW/CWDE/CDQE (98). */
export function cbw(c: Cpu, d: Insn): void {
  const v = c.r[0];
  if (d.os === 2) c.setReg(0, 2, ((v << 24) >> 24) & 0xffff, 0);
  else if (d.os === 4) c.setReg(0, 4, (v << 16) >> 16, 0);
  else c.setReg(0, 8, v, v >> 31);
}

/** CWD/CDQ/CQO (99). */
export function cwd(c: Cpu, d: Insn): void {
  if (d.os === 2) c.setReg(2, 2, (c.r[0] << 16) >> 31 & 0xffff, 0);
  else if (d.os === 4) c.setReg(2, 4, c.r[0] >> 31, 0);
  else { const s = c.rh[0] >> 31; c.setReg(2, 8, s, s); }
}

/** XLAT (D7): AL = [seg:rBX + AL]. */
export function xlat(c: Cpu, d: Insn): void {
  let off = (c.r[3] >>> 0) + (c.r[0] & 0xff);
  let hi = 0;
  if (d.as === 8) { hi = (c.rh[3] + (off > 0xffffffff ? 1 : 0)) | 0; off = off | 0; }
  else if (d.as === 4) off = off | 0; else off &= 0xffff;
  const lin = d.as === 8 ? (d.seg >= 4 ? c.segAddr(d.seg, off, 1, false) : off) : c.segAddr(d.seg, off, 1, false);
  const linHi = d.as === 8 ? (d.seg >= 4 ? c.hi + hi : hi) : 0;
  c.setReg(0, 1, c.read8(lin, linHi), 0);
}

/** LAHF (9F). In 64-bit mode it needs CPUID.80000001h:ECX.LAHF-SAHF, which the model reports. */
export function lahf(c: Cpu): void {
  c.setReg(16, 1, getFlags(c) & 0xff, 0);
}

/** SAHF (9E): loads SF ZF AF PF CF from AH. */
export function sahf(c: Cpu): void {
  materialize(c);
  const m = SF | ZF | AF | PF | CF;
  c.flags = (c.flags & ~m) | ((c.r[0] >> 8) & m) | 2;
}

/** BOUND (62, outside 64-bit mode): #BR if the index is outside [lower, upper]. */
export function bound(c: Cpu, d: Insn): void {
  if (d.mod === 3) c.ud();
  const s = d.os;
  const idx = s === 2 ? (c.r[d.reg] << 16) >> 16 : c.r[d.reg];
  const lo = c.ea(d, s * 2, false);
  const lower = s === 2 ? (c.read16(lo, 0) << 16) >> 16 : c.read32(lo, 0);
  const upper = s === 2 ? (c.read16((lo + 2) | 0, 0) << 16) >> 16 : c.read32((lo + 4) | 0, 0);
  if (idx < lower || idx > upper) c.raise(Vec.BR);
}
