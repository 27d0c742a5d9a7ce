// SSE/SSE2 conversions: integer <-> single/double (CVTSI2SS/SD incl. REX.W 64-bit sources,
// CVT(T)SS2SI/SD2SI incl. 64-bit destinations, CVTDQ2PS/PD, CVT(T)PS2DQ, CVT(T)PD2DQ) and
// single <-> double (CVTSS2SD, CVTSD2SS, CVTPS2PD, CVTPD2PS). Rounding follows MXCSR.RC
// (or truncation for the CVTT forms); out-of-range and NaN inputs give the integer indefinite.

import type { Cpu } from './cpu';
import type { Insn, Handler } from './insn';
import { sseCheck, srcFull, srcScalar, storeR, fpBegin, fpCommit, S, R } from './sseCore';
import { HI, round, bits32, bits64, in32, in64, toInt, fromInt64, cvt32to64, cvt64to32 } from './sseMath';
import { rdRm } from './operands';

/** CVTSI2SS / CVTSI2SD xmm, r/m32 (r/m64 with REX.W). */
export function cvtIntToScalar(dbl: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const wide = (d.rex & 8) !== 0;
    const lo = rdRm(c, d, wide ? 8 : 4), hi = c.hi;
    fpBegin(c);
    const x = c.xmm, b = d.reg << 2;
    if (dbl) {
      const v = wide ? fromInt64(lo, hi, false) : lo;
      const rl = bits64(v), rh = HI[0];
      fpCommit(c);
      x[b] = rl; x[b + 1] = rh;
    } else {
      const v = bits32(wide ? fromInt64(lo, hi, true) : round(lo, 0, true));
      fpCommit(c);
      x[b] = v;
    }
  };
}

/** CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m32/m64. */
export function cvtScalarToInt(dbl: boolean, truncate: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcScalar(c, d, dbl ? 8 : 4);
    fpBegin(c);
    const wide = (d.rex & 8) !== 0;
    const v = dbl ? in64(S[0], S[1], false) : in32(S[0], false);
    const lo = toInt(v, truncate, wide), hi = HI[0];
    fpCommit(c);
    c.setReg(d.reg, wide ? 8 : 4, lo, hi);
  };
}

/** CVTSS2SD (toDouble) / CVTSD2SS: the low element; the rest of the destination is kept. */
export function cvtScalarFloat(toDouble: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcScalar(c, d, toDouble ? 4 : 8);
    fpBegin(c);
    const x = c.xmm, b = d.reg << 2;
    if (toDouble) {
      const lo = cvt32to64(S[0]), hi = HI[0];
      fpCommit(c);
      x[b] = lo; x[b + 1] = hi;
    } else {
      const v = cvt64to32(S[0], S[1]);
      fpCommit(c);
      x[b] = v;
    }
  };
}

/** CVTDQ2PS: four int32 to single under MXCSR.RC. */
export function cvtdq2ps(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcFull(c, d, true);
  fpBegin(c);
  for (let k = 0; k < 4; k++) R[k] = bits32(round(S[k], 0, true));
  fpCommit(c);
  storeR(c, d.reg);
}

/** CVTPS2DQ / CVTTPS2DQ. */
export function cvtps2dq(truncate: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    fpBegin(c);
    for (let k = 0; k < 4; k++) R[k] = toInt(in32(S[k], false), truncate, false);
    fpCommit(c);
    storeR(c, d.reg);
  };
}

/** CVTDQ2PD: the low two int32 of xmm/m64 to doubles (exact). */
export function cvtdq2pd(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcScalar(c, d, 8);
  R[0] = bits64(S[0]); R[1] = HI[0];
  R[2] = bits64(S[1]); R[3] = HI[0];
  storeR(c, d.reg);
}

/** CVTPD2DQ / CVTTPD2DQ: two doubles to int32 in the low half; the high half is zeroed. */
export function cvtpd2dq(truncate: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    fpBegin(c);
    R[0] = toInt(in64(S[0], S[1], false), truncate, false);
    R[1] = toInt(in64(S[2], S[3], false), truncate, false);
    R[2] = 0; R[3] = 0;
    fpCommit(c);
    storeR(c, d.reg);
  };
}

/** CVTPS2PD: the low two singles of xmm/m64 to doubles. */
export function cvtps2pd(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcScalar(c, d, 8);
  fpBegin(c);
  R[0] = cvt32to64(S[0]); R[1] = HI[0];
  R[2] = cvt32to64(S[1]); R[3] = HI[0];
  fpCommit(c);
  storeR(c, d.reg);
}

/** CVTPD2PS: two doubles to singles in the low half; the high half is zeroed. */
export function cvtpd2ps(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcFull(c, d, true);
  fpBegin(c);
  R[0] = cvt64to32(S[0], S[1]);
  R[1] = cvt64to32(S[2], S[3]);
  R[2] = 0; R[3] = 0;
  fpCommit(c);
  storeR(c, d.reg);
}
