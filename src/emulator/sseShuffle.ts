// SSE/SSE2 data rearrangement: unpack/interleave (PUNPCK*, UNPCK*PS/PD), saturating packs
// (PACKSSWB/PACKUSWB/PACKSSDW), shuffles (PSHUFD/PSHUFHW/PSHUFLW, SHUFPS/SHUFPD), word
// insert/extract (PINSRW/PEXTRW) and sign-mask extraction (MOVMSKPS/PD, PMOVMSKB).

import type { Cpu } from './cpu';
import type { Insn, Handler } from './insn';
import { sseCheck, srcFull, storeR, S, R } from './sseCore';
import { rdRm } from './operands';

const A = new Int32Array(4);
const AU8 = new Uint8Array(A.buffer), AS16 = new Int16Array(A.buffer), AU16 = new Uint16Array(A.buffer);
const SU8 = new Uint8Array(S.buffer), SS16 = new Int16Array(S.buffer), SU16 = new Uint16Array(S.buffer);
const RU8 = new Uint8Array(R.buffer), RU16 = new Uint16Array(R.buffer);

function loadA(c: Cpu, reg: number): void { const b = reg << 2, x = c.xmm; A[0] = x[b]; A[1] = x[b + 1]; A[2] = x[b + 2]; A[3] = x[b + 3]; }

/**
 * Interleave: element size `size` bytes (1, 2, 4, 8) from the low (high = false) or high
 * halves of destination and source: PUNPCKL/H BW WD DQ QDQ and UNPCKL/H PS/PD.
 */
export function unpack(size: number, high: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    loadA(c, d.reg);
    const half = 8 / size, base = high ? 8 : 0;
    for (let k = 0; k < half; k++) {
      for (let i = 0; i < size; i++) {
        RU8[2 * k * size + i] = AU8[base + k * size + i];
        RU8[(2 * k + 1) * size + i] = SU8[base + k * size + i];
      }
    }
    storeR(c, d.reg);
  };
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** PACKSSWB (kind 0), PACKUSWB (1), PACKSSDW (2): destination elements first, then the source's. */
export function pack(kind: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    loadA(c, d.reg);
    if (kind === 2) {
      for (let k = 0; k < 4; k++) { RU16[k] = clamp(A[k], -32768, 32767); RU16[k + 4] = clamp(S[k], -32768, 32767); }
    } else {
      const lo = kind === 0 ? -128 : 0, hi = kind === 0 ? 127 : 255;
      for (let k = 0; k < 8; k++) { RU8[k] = clamp(AS16[k], lo, hi); RU8[k + 8] = clamp(SS16[k], lo, hi); }
    }
    storeR(c, d.reg);
  };
}

/** PSHUFD (kind 0), PSHUFHW (1), PSHUFLW (2) xmm, xmm/m128, imm8. */
export function pshuf(kind: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    const imm = d.imm;
    if (kind === 0) {
      for (let k = 0; k < 4; k++) R[k] = S[(imm >> (2 * k)) & 3];
    } else {
      const w = kind === 1 ? 4 : 0, keep = kind === 1 ? 0 : 2;
      R[keep] = S[keep]; R[keep + 1] = S[keep + 1];
      for (let k = 0; k < 4; k++) A[k] = SU16[w + ((imm >> (2 * k)) & 3)];
      for (let k = 0; k < 4; k++) RU16[w + k] = A[k];
    }
    storeR(c, d.reg);
  };
}

/** SHUFPS: two dwords of the destination, two of the source, picked by imm8. */
export function shufps(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcFull(c, d, true);
  loadA(c, d.reg);
  const imm = d.imm;
  R[0] = A[imm & 3]; R[1] = A[(imm >> 2) & 3]; R[2] = S[(imm >> 4) & 3]; R[3] = S[(imm >> 6) & 3];
  storeR(c, d.reg);
}

/** SHUFPD: one qword of the destination (imm8 bit 0), one of the source (bit 1). */
export function shufpd(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcFull(c, d, true);
  loadA(c, d.reg);
  const i = (d.imm & 1) * 2, j = ((d.imm >> 1) & 1) * 2;
  R[0] = A[i]; R[1] = A[i + 1]; R[2] = S[j]; R[3] = S[j + 1];
  storeR(c, d.reg);
}

/** PINSRW xmm, r32/m16, imm8. */
export function pinsrw(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  const v = rdRm(c, d, 2);
  loadA(c, d.reg);
  AU16[d.imm & 7] = v;
  const b = d.reg << 2, x = c.xmm;
  x[b] = A[0]; x[b + 1] = A[1]; x[b + 2] = A[2]; x[b + 3] = A[3];
}

/** PEXTRW r32/r64, xmm, imm8 (register form): the word zero-extended. */
export function pextrw(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  loadA(c, d.rm);
  c.setReg(d.reg, 4, AU16[d.imm & 7], 0);
}

/** MOVMSKPS (lanes 4), MOVMSKPD (2), PMOVMSKB (16) r32/r64, xmm: sign bits to a GPR. */
export function movmsk(lanes: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    loadA(c, d.rm);
    let m = 0;
    if (lanes === 16) { for (let k = 0; k < 16; k++) m |= (AU8[k] >> 7) << k; }
    else if (lanes === 4) { for (let k = 0; k < 4; k++) m |= (A[k] >>> 31) << k; }
    else m = (A[1] >>> 31) | ((A[3] >>> 31) << 1);
    c.setReg(d.reg, 4, m, 0);
  };
}
