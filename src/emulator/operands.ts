// Operand access shared by the instruction handlers: ModRM r/m operands (register or
// memory), with 8-byte values split into halves (lo returned, hi in cpu.hi).

import type { Cpu } from './cpu';
import type { Insn } from './insn';

export const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
export const SIGNBIT = [0, 0x80, 0x8000, 0, 0x80000000 | 0, 0, 0, 0, 0x80000000 | 0];

/** Reads the r/m operand. */
export function rdRm(c: Cpu, d: Insn, size: number): number {
  if (d.mod === 3) return c.getReg(d.rm, size);
  const lo = c.ea(d, size, false);
  return c.readN(lo, c.hi, size);
}

/** Writes the r/m operand. */
export function wrRm(c: Cpu, d: Insn, size: number, v: number, vh: number): void {
  if (d.mod === 3) { c.setReg(d.rm, size, v, vh); return; }
  const lo = c.ea(d, size, true);
  c.writeN(lo, c.hi, size, v, vh);
}

/** Immediate of `d` for operand size `size` (8-byte immediates are sign-extended imm32 unless MOV r64, imm64). */
export function immOf(d: Insn, size: number): number {
  return size === 4 || size === 8 ? d.imm : d.imm & MASK[size];
}

/** Sign-extends a `size`-byte value to int32. */
export function sext(v: number, size: number): number {
  return size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
}

/** Unsigned 32x32 multiply: returns the low 32 bits, high 32 bits in MUL_HI[0]. */
export const MUL_HI = new Int32Array(1);
export function mulu32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  MUL_HI[0] = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  return ((mid & 0xffff) << 16) | (p00 & 0xffff);
}

/** Unsigned 64x64 -> 128 multiply into PROD (four int32 limbs, little-endian). */
export const PROD = new Int32Array(4);
export function mulu64(alo: number, ahi: number, blo: number, bhi: number): void {
  const ll = mulu32(alo, blo), llh = MUL_HI[0];
  const lh = mulu32(alo, bhi), lhh = MUL_HI[0];
  const hl = mulu32(ahi, blo), hlh = MUL_HI[0];
  const hh = mulu32(ahi, bhi), hhh = MUL_HI[0];
  // Column 1: llh + lh + hl
  let s1 = (llh >>> 0) + (lh >>> 0) + (hl >>> 0);
  const c1 = Math.floor(s1 / 4294967296);
  s1 = s1 >>> 0;
  let s2 = (lhh >>> 0) + (hlh >>> 0) + (hh >>> 0) + c1;
  const c2 = Math.floor(s2 / 4294967296);
  s2 = s2 >>> 0;
  PROD[0] = ll; PROD[1] = s1; PROD[2] = s2; PROD[3] = (hhh + c2) | 0;
}

/** Signed 64x64 -> 128 multiply into PROD. */
export function muls64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulu64(alo, ahi, blo, bhi);
  // Signed correction of the high 64 bits: subtract b if a < 0, a if b < 0.
  if (ahi < 0) sub128hi(blo, bhi);
  if (bhi < 0) sub128hi(alo, ahi);
}

function sub128hi(lo: number, hi: number): void {
  const t = (PROD[2] >>> 0) - (lo >>> 0);
  PROD[2] = t | 0;
  PROD[3] = (PROD[3] - hi - (t < 0 ? 1 : 0)) | 0;
}
