// ADD/ADC/SUB/SBB/CMP/AND/OR/XOR/TEST/NEG/NOT/INC/DEC, CMPXCHG, XADD: results and lazy flags.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Lf, getCF, setLogic } from './flags';
import { MASK, immOf, rdRm } from './operands';

/** ALU operation numbers: the /reg field of 80-83 and bits 5:3 of opcodes 00-3F. */
export const enum AluOp { Add = 0, Or = 1, Adc = 2, Sbb = 3, And = 4, Sub = 5, Xor = 6, Cmp = 7 }

function add(c: Cpu, s: number, a: number, ah: number, b: number, bh: number, cin: number, kind: Lf): number {
  let r: number, rh = 0;
  if (s === 8) {
    const t = (a >>> 0) + (b >>> 0) + cin;
    r = t | 0; rh = (ah + bh + (t > 0xffffffff ? 1 : 0)) | 0;
  } else if (s === 4) r = (a + b + cin) | 0;
  else r = (a + b + cin) & MASK[s];
  c.lfOp = kind; c.lfSize = s; c.lfA = a; c.lfAHi = ah; c.lfB = b; c.lfBHi = bh; c.lfRes = r; c.lfResHi = rh; c.lfCf = cin;
  c.hi = rh;
  return r;
}

function sub(c: Cpu, s: number, a: number, ah: number, b: number, bh: number, cin: number, kind: Lf): number {
  let r: number, rh = 0;
  if (s === 8) {
    const t = (a >>> 0) - (b >>> 0) - cin;
    r = t | 0; rh = (ah - bh - (t < 0 ? 1 : 0)) | 0;
  } else if (s === 4) r = (a - b - cin) | 0;
  else r = (a - b - cin) & MASK[s];
  c.lfOp = kind; c.lfSize = s; c.lfA = a; c.lfAHi = ah; c.lfB = b; c.lfBHi = bh; c.lfRes = r; c.lfResHi = rh; c.lfCf = cin;
  c.hi = rh;
  return r;
}

/** Computes `a op b` at size `s`, records flags, returns lo (hi in c.hi). */
export function alu(c: Cpu, op: number, s: number, a: number, ah: number, b: number, bh: number): number {
  switch (op) {
    case AluOp.Add: return add(c, s, a, ah, b, bh, 0, Lf.Add);
    case AluOp.Adc: return add(c, s, a, ah, b, bh, getCF(c), Lf.Adc);
    case AluOp.Sub: case AluOp.Cmp: return sub(c, s, a, ah, b, bh, 0, Lf.Sub);
    case AluOp.Sbb: return sub(c, s, a, ah, b, bh, getCF(c), Lf.Sbb);
    case AluOp.And: { const r = a & b, rh = ah & bh; setLogic(c, s, r, rh); c.hi = rh; return r; }
    case AluOp.Or: { const r = a | b, rh = ah | bh; setLogic(c, s, r, rh); c.hi = rh; return r; }
    default: { const r = a ^ b, rh = ah ^ bh; setLogic(c, s, r, rh); c.hi = rh; return r; }
  }
}

/** op r/m, src: the shared body of the r/m-destination forms; src is b:bh. */
function aluIntoRm(c: Cpu, d: Insn, b: number, bh: number): void {
  const s = d.os;
  const write = d.op !== AluOp.Cmp && (d.flags & 0x100) === 0;
  if (d.mod === 3) {
    const a = c.getReg(d.rm, s), ah = s === 8 ? c.hi : 0;
    const r = alu(c, d.op, s, a, ah, b, bh);
    if (write) c.setReg(d.rm, s, r, c.hi);
    return;
  }
  const lo = c.ea(d, s, write), hi = c.hi;
  const a = write ? c.rmwRead(lo, hi, s) : c.readN(lo, hi, s), ah = s === 8 ? c.hi : 0;
  const r = alu(c, d.op, s, a, ah, b, bh);
  if (write) c.rmwWrite(lo, hi, s, r, c.hi);
}

/** op r/m, reg (00, 01, 08, ...; also TEST 84/85 via op = And with no write-back). */
export function aluRmReg(c: Cpu, d: Insn): void {
  const s = d.os;
  const b = c.getReg(d.reg, s), bh = s === 8 ? c.hi : 0;
  aluIntoRm(c, d, b, bh);
}

/** op reg, r/m (02, 03, 0A, ...). */
export function aluRegRm(c: Cpu, d: Insn): void {
  const s = d.os;
  const b = rdRm(c, d, s), bh = s === 8 ? c.hi : 0;
  const a = c.getReg(d.reg, s), ah = s === 8 ? c.hi : 0;
  const r = alu(c, d.op, s, a, ah, b, bh);
  if (d.op !== AluOp.Cmp) c.setReg(d.reg, s, r, c.hi);
}

/** op r/m, imm (80, 81, 83, and the accumulator forms 04, 05, ... decoded with rm = 0). TEST imm via flag 0x100. */
export function aluRmImm(c: Cpu, d: Insn): void {
  const s = d.os;
  aluIntoRm(c, d, immOf(d, s), s === 8 ? d.immHi : 0);
}

/** INC (op 0) / DEC (op 1) r/m: CF is preserved. */
export function incDec(c: Cpu, d: Insn): void {
  const s = d.os;
  const cf = getCF(c);
  let lo = 0, hi = 0, a: number, ah = 0;
  if (d.mod === 3) { a = c.getReg(d.rm, s); if (s === 8) ah = c.hi; } else { lo = c.ea(d, s, true); hi = c.hi; a = c.rmwRead(lo, hi, s); if (s === 8) ah = c.hi; }
  const r = d.op === 0 ? add(c, s, a, ah, 1, 0, 0, Lf.Inc) : sub(c, s, a, ah, 1, 0, 0, Lf.Dec);
  const rh = c.hi;
  c.lfCf = cf;
  if (d.mod === 3) c.setReg(d.rm, s, r, rh); else c.rmwWrite(lo, hi, s, r, rh);
}

/** NOT (op 2) / NEG (op 3) r/m (group 3). */
export function notNeg(c: Cpu, d: Insn): void {
  const s = d.os;
  let lo = 0, hi = 0, a: number, ah = 0;
  if (d.mod === 3) { a = c.getReg(d.rm, s); if (s === 8) ah = c.hi; } else { lo = c.ea(d, s, true); hi = c.hi; a = c.rmwRead(lo, hi, s); if (s === 8) ah = c.hi; }
  let r: number, rh: number;
  if (d.op === 2) { r = ~a & MASK[s]; rh = s === 8 ? ~ah : 0; } else { r = sub(c, s, 0, 0, a, ah, 0, Lf.Sub); rh = c.hi; }
  if (d.mod === 3) c.setReg(d.rm, s, r, rh); else c.rmwWrite(lo, hi, s, r, rh);
}

/** CMPXCHG r/m, reg (0F B0/B1). */
export function cmpxchg(c: Cpu, d: Insn): void {
  const s = d.os;
  let lo = 0, hi = 0, dst: number, dh = 0;
  if (d.mod === 3) { dst = c.getReg(d.rm, s); if (s === 8) dh = c.hi; } else { lo = c.ea(d, s, true); hi = c.hi; dst = c.rmwRead(lo, hi, s); if (s === 8) dh = c.hi; }
  const acc = c.getReg(0, s), acch = s === 8 ? c.hi : 0;
  sub(c, s, acc, acch, dst, dh, 0, Lf.Sub);
  if (acc === dst && acch === dh) {
    const src = c.getReg(d.reg, s), srch = s === 8 ? c.hi : 0;
    if (d.mod === 3) c.setReg(d.rm, s, src, srch); else c.rmwWrite(lo, hi, s, src, srch);
  } else {
    // The destination is written back with its own value (a locked RMW always writes).
    if (d.mod !== 3) c.rmwWrite(lo, hi, s, dst, dh);
    c.setReg(0, s, dst, dh);
  }
}

/** XADD r/m, reg (0F C0/C1). */
export function xadd(c: Cpu, d: Insn): void {
  const s = d.os;
  let lo = 0, hi = 0, dst: number, dh = 0;
  if (d.mod === 3) { dst = c.getReg(d.rm, s); if (s === 8) dh = c.hi; } else { lo = c.ea(d, s, true); hi = c.hi; dst = c.rmwRead(lo, hi, s); if (s === 8) dh = c.hi; }
  const src = c.getReg(d.reg, s), srch = s === 8 ? c.hi : 0;
  const r = add(c, s, dst, dh, src, srch, 0, Lf.Add), rh = c.hi;
  if (d.mod === 3) { c.setReg(d.reg, s, dst, dh); c.setReg(d.rm, s, r, rh); } else { c.rmwWrite(lo, hi, s, r, rh); c.setReg(d.reg, s, dst, dh); }
}
