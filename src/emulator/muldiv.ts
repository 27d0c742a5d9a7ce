// MUL/IMUL (one-, two- and three-operand forms) and DIV/IDIV with #DE. 64-bit products
// use 32-bit limbs; only 128/64 division falls back to bigint (it is rare and slow on
// hardware too).

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Vec } from './exceptions';
import { setRes } from './flags';
import { MASK, MUL_HI, PROD, immOf, mulu32, muls64, mulu64, rdRm, sext } from './operands';

/** Signed product of (a, ah) and (b, bh) at size s truncated to s; CF=OF=overflow. Returns lo, hi in c.hi. */
function imulTrunc(c: Cpu, s: number, a: number, ah: number, b: number, bh: number): number {
  if (s === 8) {
    muls64(a, ah, b, bh);
    const lo = PROD[0], hi = PROD[1];
    const ov = PROD[3] !== (hi >> 31) || PROD[2] !== (hi >> 31) ? 1 : 0;
    setRes(c, 8, lo, hi, ov, ov);
    c.hi = hi; return lo;
  }
  if (s === 4) {
    const lo = Math.imul(a, b);
    const full = (a | 0) * (b | 0); // exact enough to decide overflow (|full| < 2^62 error is in low bits only)
    const ov = full !== lo ? 1 : 0;
    setRes(c, 4, lo, 0, ov, ov);
    c.hi = 0; return lo;
  }
  const p = sext(a, s) * sext(b, s);
  const r = p & MASK[s];
  const ov = sext(r, s) !== p ? 1 : 0;
  setRes(c, s, r, 0, ov, ov);
  c.hi = 0; return r;
}

/** IMUL reg, r/m (0F AF). */
export function imulRegRm(c: Cpu, d: Insn): void {
  const s = d.os;
  const b = rdRm(c, d, s), bh = s === 8 ? c.hi : 0;
  const a = c.getReg(d.reg, s), ah = s === 8 ? c.hi : 0;
  const r = imulTrunc(c, s, a, ah, b, bh);
  c.setReg(d.reg, s, r, c.hi);
}

/** IMUL reg, r/m, imm (69, 6B). */
export function imulRegRmImm(c: Cpu, d: Insn): void {
  const s = d.os;
  const a = rdRm(c, d, s), ah = s === 8 ? c.hi : 0;
  const r = imulTrunc(c, s, a, ah, immOf(d, s), s === 8 ? d.immHi : 0);
  c.setReg(d.reg, s, r, c.hi);
}

/** Group 3 /4 MUL, /5 IMUL (one operand): rDX:rAX = rAX * r/m. */
export function mulAcc(c: Cpu, d: Insn): void {
  const s = d.os;
  const signed = d.op === 5;
  const b = rdRm(c, d, s), bh = s === 8 ? c.hi : 0;
  if (s === 1) {
    const a = c.r[0] & 0xff;
    const p = signed ? sext(a, 1) * sext(b, 1) : a * b;
    const r = p & 0xffff;
    const ov = signed ? (sext(r & 0xff, 1) !== p ? 1 : 0) : (r >>> 8 ? 1 : 0);
    c.setReg(0, 2, r, 0);
    setRes(c, 1, r & 0xff, 0, ov, ov);
    return;
  }
  if (s === 2) {
    const a = c.r[0] & 0xffff;
    const p = signed ? sext(a, 2) * sext(b, 2) : a * b;
    const ov = signed ? (sext(p & 0xffff, 2) !== p ? 1 : 0) : (p >>> 16 ? 1 : 0);
    c.setReg(0, 2, p & 0xffff, 0); c.setReg(2, 2, (p >> 16) & 0xffff, 0);
    setRes(c, 2, p & 0xffff, 0, ov, ov);
    return;
  }
  if (s === 4) {
    const a = c.r[0];
    let lo = mulu32(a, b), hi = MUL_HI[0];
    if (signed) { if (a < 0) hi -= b; if (b < 0) hi -= a; hi |= 0; }
    const ov = signed ? (hi !== (lo >> 31) ? 1 : 0) : (hi !== 0 ? 1 : 0);
    lo |= 0;
    c.setReg(0, 4, lo, 0); c.setReg(2, 4, hi, 0);
    setRes(c, 4, lo, 0, ov, ov);
    return;
  }
  const a = c.r[0], ah = c.rh[0];
  if (signed) muls64(a, ah, b, bh); else mulu64(a, ah, b, bh);
  const ov = signed ? (PROD[2] !== (PROD[1] >> 31) || PROD[3] !== (PROD[1] >> 31) ? 1 : 0) : ((PROD[2] | PROD[3]) !== 0 ? 1 : 0);
  c.setReg(0, 8, PROD[0], PROD[1]); c.setReg(2, 8, PROD[2], PROD[3]);
  setRes(c, 8, PROD[0], PROD[1], ov, ov);
}

/** Group 3 /6 DIV, /7 IDIV. Flags are undefined; they are left unchanged. */
export function divAcc(c: Cpu, d: Insn): void {
  const s = d.os;
  const signed = d.op === 7;
  const b = rdRm(c, d, s), bh = s === 8 ? c.hi : 0;
  if (s === 1 || s === 2) {
    const dividend = s === 1 ? (signed ? (c.r[0] << 16) >> 16 : c.r[0] & 0xffff)
      : (signed ? (((c.r[2] & 0xffff) << 16) | (c.r[0] & 0xffff)) : (((c.r[2] & 0xffff) * 65536) + (c.r[0] & 0xffff)));
    const divisor = signed ? sext(b, s) : b;
    if (divisor === 0) c.raise(Vec.DE);
    const q = Math.trunc(dividend / divisor);
    const rem = dividend - q * divisor;
    const bits = s * 8;
    if (signed ? (q > (2 ** (bits - 1)) - 1 || q < -(2 ** (bits - 1))) : q > MASK[s]) c.raise(Vec.DE);
    if (s === 1) c.setReg(0, 2, (q & 0xff) | ((rem & 0xff) << 8), 0);
    else { c.setReg(0, 2, q & 0xffff, 0); c.setReg(2, 2, rem & 0xffff, 0); }
    return;
  }
  if (s === 4) {
    const hi = c.r[2], lo = c.r[0];
    if (b === 0) c.raise(Vec.DE);
    if (!signed && hi === 0) {
      const q = Math.floor((lo >>> 0) / (b >>> 0));
      c.setReg(0, 4, q | 0, 0); c.setReg(2, 4, ((lo >>> 0) - q * (b >>> 0)) | 0, 0);
      return;
    }
    const dividend = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    const n = signed ? dividend : BigInt.asUintN(64, dividend);
    const dv = signed ? BigInt(b | 0) : BigInt(b >>> 0);
    const q = n / dv, rem = n % dv;
    if (signed ? (q > 0x7fffffffn || q < -0x80000000n) : q > 0xffffffffn) c.raise(Vec.DE);
    c.setReg(0, 4, Number(BigInt.asIntN(32, q)), 0); c.setReg(2, 4, Number(BigInt.asIntN(32, rem)), 0);
    return;
  }
  if ((b | bh) === 0) c.raise(Vec.DE);
  const big = (x: number, xh: number): bigint => (BigInt(xh >>> 0) << 32n) | BigInt(x >>> 0);
  let n = (big(c.r[2], c.rh[2]) << 64n) | big(c.r[0], c.rh[0]);
  let dv = big(b, bh);
  if (signed) { n = BigInt.asIntN(128, n); dv = BigInt.asIntN(64, dv); }
  const q = n / dv, rem = n % dv;
  if (signed ? (q > 0x7fffffffffffffffn || q < -0x8000000000000000n) : q > 0xffffffffffffffffn) c.raise(Vec.DE);
  const qu = BigInt.asUintN(64, q), ru = BigInt.asUintN(64, rem);
  c.setReg(0, 8, Number(qu & 0xffffffffn) | 0, Number(qu >> 32n) | 0);
  c.setReg(2, 8, Number(ru & 0xffffffffn) | 0, Number(ru >> 32n) | 0);
}
