// SSE/SSE2 floating-point arithmetic handlers: ADD/SUB/MUL/DIV/MIN/MAX/SQRT in the four
// forms (ps, ss, pd, sd), RCP/RSQRT approximations, AND/ANDN/OR/XOR ps/pd, CMPcc and
// (U)COMIS. Lane semantics live in sseMath.ts; packed results are committed only after
// every lane ran and no unmasked exception was raised.

import type { Cpu } from './cpu';
import type { Insn, Handler } from './insn';
import { sseCheck, srcFull, srcScalar, storeR, fpBegin, fpCommit, S, R } from './sseCore';
import { op32, op64, HI, isNaN32, f32, bits32, compare32, compare64, comi32, comi64, INDEF32 } from './sseMath';
import { CF, PF, ZF, OF, SF, AF } from './flags';

/** Packed single: op on the four lanes of xmm(reg) and the source. */
export function packedSingle(op: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    fpBegin(c);
    const x = c.xmm, b = d.reg << 2;
    for (let k = 0; k < 4; k++) R[k] = op32(op, x[b + k], S[k]);
    fpCommit(c);
    storeR(c, d.reg);
  };
}

export function scalarSingle(op: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcScalar(c, d, 4);
    fpBegin(c);
    const b = d.reg << 2;
    const v = op32(op, c.xmm[b], S[0]);
    fpCommit(c);
    c.xmm[b] = v;
  };
}

export function packedDouble(op: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    fpBegin(c);
    const x = c.xmm, b = d.reg << 2;
    R[0] = op64(op, x[b], x[b + 1], S[0], S[1]); R[1] = HI[0];
    R[2] = op64(op, x[b + 2], x[b + 3], S[2], S[3]); R[3] = HI[0];
    fpCommit(c);
    storeR(c, d.reg);
  };
}

export function scalarDouble(op: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcScalar(c, d, 8);
    fpBegin(c);
    const x = c.xmm, b = d.reg << 2;
    const lo = op64(op, x[b], x[b + 1], S[0], S[1]), hi = HI[0];
    fpCommit(c);
    x[b] = lo; x[b + 1] = hi;
  };
}

/** RCPPS lane: 1/x within the SDM's 1.5*2^-12 relative error (here correctly rounded); denormals act as 0, tiny results flush to 0. */
function rcp32(b: number): number {
  if (isNaN32(b)) return b | 0x400000;
  if ((b & 0x7f800000) === 0) return (b & 0x80000000) | 0x7f800000;
  const r = Math.fround(1 / f32(b));
  return Math.abs(r) < 2 ** -126 ? b & 0x80000000 : bits32(r);
}

/** RSQRTPS lane: 1/sqrt(x); negative non-zero inputs give the QNaN indefinite. */
function rsqrt32(b: number): number {
  if (isNaN32(b)) return b | 0x400000;
  if ((b & 0x7f800000) === 0) return (b & 0x80000000) | 0x7f800000;
  if (b < 0) return INDEF32;
  return bits32(Math.fround(1 / Math.sqrt(f32(b))));
}

/** RCPPS/RSQRTPS (packed) and RCPSS/RSQRTSS (scalar): no MXCSR exceptions. */
export function approx(rsqrt: boolean, scalar: boolean): Handler {
  const fn = rsqrt ? rsqrt32 : rcp32;
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const b = d.reg << 2, x = c.xmm;
    if (scalar) { srcScalar(c, d, 4); x[b] = fn(S[0]); return; }
    srcFull(c, d, true);
    for (let k = 0; k < 4; k++) x[b + k] = fn(S[k]);
  };
}

/** ANDPS/ANDNPS/ORPS/XORPS (and the pd forms, same bits): op 0 and, 1 andn, 2 or, 3 xor. */
export function logic(op: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    const x = c.xmm, b = d.reg << 2;
    for (let k = 0; k < 4; k++) {
      const a = x[b + k], s = S[k];
      x[b + k] = op === 0 ? a & s : op === 1 ? ~a & s : op === 2 ? a | s : a ^ s;
    }
  };
}

/** CMPPS/CMPSS/CMPPD/CMPSD with predicate imm8[2:0]. */
export function cmpFloat(dbl: boolean, scalar: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    if (scalar) srcScalar(c, d, dbl ? 8 : 4); else srcFull(c, d, true);
    fpBegin(c);
    const x = c.xmm, b = d.reg << 2, pred = d.imm & 7;
    const n = scalar ? 1 : dbl ? 2 : 4;
    for (let k = 0; k < n; k++) {
      if (dbl) {
        const m = compare64(pred, x[b + 2 * k], x[b + 2 * k + 1], S[2 * k], S[2 * k + 1]) ? -1 : 0;
        R[2 * k] = m; R[2 * k + 1] = m;
      } else R[k] = compare32(pred, x[b + k], S[k]) ? -1 : 0;
    }
    fpCommit(c);
    const words = scalar ? (dbl ? 2 : 1) : 4;
    for (let k = 0; k < words; k++) x[b + k] = R[k];
  };
}

/** RFLAGS for greater, less, equal, unordered. */
const ORDER_FLAGS = [0, CF, ZF, ZF | PF | CF];

/** COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF = 111 unordered, 000 greater, 001 less, 100 equal; OF SF AF cleared. */
export function comis(dbl: boolean, signalQuiet: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcScalar(c, d, dbl ? 8 : 4);
    fpBegin(c);
    const x = c.xmm, b = d.reg << 2;
    const order = dbl ? comi64(x[b], x[b + 1], S[0], S[1], signalQuiet) : comi32(x[b], S[0], signalQuiet);
    fpCommit(c);
    c.syncFlags();
    const f = ORDER_FLAGS[order];
    c.flags = (c.flags & ~(CF | PF | ZF | OF | SF | AF)) | f;
  };
}
