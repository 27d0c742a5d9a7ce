// Shared machinery of the SSE/SSE2 handlers: the availability checks every SSE instruction
// makes first (LOCK, CR0.EM, CR4.OSFXSR, CR0.TS), 128/64/32-bit operand access with the
// legacy-SSE 16-byte alignment rule, scratch lanes with float views, and MXCSR exception
// commit (#XM when CR4.OSXMMEXCPT, else #UD). Nothing here allocates per instruction.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Vec } from './exceptions';
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXMMEXCPT } from './paging';

/** MXCSR exception flags (bits 0-5); the masks are these << 7. */
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20;
export const DAZ = 0x40, FTZ = 0x8000;
/** MXCSR bits this CPU implements (MXCSR_MASK as FXSAVE reports it). */
export const MXCSR_MASK = 0xffff;

/** Scratch lanes: S holds the source operand, R the result. */
export const S = new Int32Array(4);
export const R = new Int32Array(4);

/** SSE availability (SDM table 23-? / "exception class" checks): #UD for LOCK, CR0.EM or !CR4.OSFXSR, then #NM for CR0.TS. */
export function sseCheck(c: Cpu, d: Insn): void {
  if (d.lock || (c.cr0 & CR0_EM) || !(c.cr4 & CR4_OSFXSR)) c.raise(Vec.UD);
  if (c.cr0 & CR0_TS) c.raise(Vec.NM);
}

/** Reads 16 bytes at d's memory operand into `dst` (checking 16-byte alignment when `aligned`). */
export function readM128(c: Cpu, d: Insn, aligned: boolean, dst: Int32Array): void {
  const lo = c.ea(d, 16, false), hi = c.hi;
  if (aligned && (lo & 15)) c.gp(0);
  for (let k = 0; k < 4; k++) {
    const a = (lo >>> 0) + 4 * k;
    dst[k] = c.read32(a | 0, a > 0xffffffff ? (hi + 1) | 0 : hi);
  }
}

/** Writes 16 bytes from `src` at d's memory operand; a fault on either page leaves memory unchanged. */
export function writeM128(c: Cpu, d: Insn, aligned: boolean, src: Int32Array, off: number): void {
  const lo = c.ea(d, 16, true), hi = c.hi;
  if (aligned && (lo & 15)) c.gp(0);
  if ((lo & 0xfff) > 0xff0) c.probeWrite(lo, hi, 16);
  for (let k = 0; k < 4; k++) {
    const a = (lo >>> 0) + 4 * k;
    c.write32(a | 0, a > 0xffffffff ? (hi + 1) | 0 : hi, src[off + k]);
  }
}

/** Reads 8 bytes at d's memory operand into dst[off], dst[off + 1]. */
export function readM64(c: Cpu, d: Insn, dst: Int32Array, off: number): void {
  const lo = c.ea(d, 8, false);
  dst[off] = c.read64(lo, c.hi);
  dst[off + 1] = c.hi;
}

export function writeM64(c: Cpu, d: Insn, lo32: number, hi32: number): void {
  const lo = c.ea(d, 8, true);
  c.write64(lo, c.hi, lo32, hi32);
}

export function readM32(c: Cpu, d: Insn): number {
  const lo = c.ea(d, 4, false);
  return c.read32(lo, c.hi);
}

export function writeM32(c: Cpu, d: Insn, v: number): void {
  const lo = c.ea(d, 4, true);
  c.write32(lo, c.hi, v);
}

/** Loads the full 128-bit source operand (xmm register or aligned/unaligned m128) into S. */
export function srcFull(c: Cpu, d: Insn, aligned: boolean): void {
  if (d.mod === 3) { const b = d.rm << 2, x = c.xmm; S[0] = x[b]; S[1] = x[b + 1]; S[2] = x[b + 2]; S[3] = x[b + 3]; } else readM128(c, d, aligned, S);
}

/** Loads a scalar source: 4 or 8 bytes from the xmm register or memory into S[0..1]. */
export function srcScalar(c: Cpu, d: Insn, size: 4 | 8): void {
  if (d.mod === 3) { const b = d.rm << 2; S[0] = c.xmm[b]; S[1] = c.xmm[b + 1]; } else if (size === 4) S[0] = readM32(c, d); else readM64(c, d, S, 0);
}

/** Copies R[0..3] into xmm register `reg`. */
export function storeR(c: Cpu, reg: number): void {
  const b = reg << 2, x = c.xmm;
  x[b] = R[0]; x[b + 1] = R[1]; x[b + 2] = R[2]; x[b + 3] = R[3];
}

// ---- MXCSR exception accumulation for one instruction ----

/** Exception flags raised by the instruction being executed. */
let excFlags = 0;
/** MXCSR at the start of the instruction (rounding control, DAZ/FTZ, masks). */
export let mxcsr = 0x1f80;

export function fpBegin(c: Cpu): void { excFlags = 0; mxcsr = c.mxcsr; }
export function fpRaise(flags: number): void { excFlags |= flags; }

/**
 * Records the instruction's exception flags in MXCSR; if any is unmasked, raises #XM (or #UD
 * when CR4.OSXMMEXCPT is clear) before the caller writes its destination.
 */
export function fpCommit(c: Cpu): void {
  if (excFlags === 0) return;
  const unmasked = excFlags & ~(mxcsr >> 7) & 0x3f;
  // An unmasked pre-computation exception (IE, DE, ZE) in any lane stops the instruction
  // before the post-computation checks: no lane reports OE, UE or PE.
  c.mxcsr |= (unmasked & (IE | DE | ZE)) ? excFlags & (IE | DE | ZE) : excFlags;
  if (unmasked) c.raise((c.cr4 & CR4_OSXMMEXCPT) ? Vec.XM : Vec.UD);
}
