// The implicit operands of the string and string-I/O instructions: the linear address of
// seg:rSI / ES:rDI at the instruction's address size, their post-increment, and rCX's test.
import type { Cpu } from './cpu';

/** Linear address of seg:rSI/rDI (reg 6 or 7) for an access of `size`; sets c.hi. */
export function strAddr(c: Cpu, seg: number, reg: number, as: number, size: number, write: boolean): number {
  if (as === 8) {
    const lo = c.r[reg], hi = c.rh[reg];
    if (seg >= 4) {
      const s = (lo >>> 0) + (c.segBaseLo[seg] >>> 0);
      const h = (hi + c.segBaseHi[seg] + (s > 0xffffffff ? 1 : 0)) | 0;
      if (((h << 16) >> 16) !== h) c.gp(0);
      c.hi = h; return s | 0;
    }
    if (((hi << 16) >> 16) !== hi) c.gp(0);
    c.hi = hi; return lo;
  }
  const off = as === 4 ? c.r[reg] : c.r[reg] & 0xffff;
  return c.segAddr(seg, off, size, write);
}

/** rSI/rDI (or rCX with delta -1) += delta at address size `as`. */
export function advance(c: Cpu, reg: number, as: number, delta: number): void {
  if (as === 8) {
    const s = (c.r[reg] >>> 0) + delta;
    c.r[reg] = s | 0;
    c.rh[reg] = (c.rh[reg] + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
  } else if (as === 4) { c.r[reg] = (c.r[reg] + delta) | 0; c.rh[reg] = 0; }
  else c.r[reg] = (c.r[reg] & ~0xffff) | ((c.r[reg] + delta) & 0xffff);
}

/** True when rCX (at address size) is zero. */
export function countZero(c: Cpu, as: number): boolean {
  return as === 8 ? (c.r[1] | c.rh[1]) === 0 : as === 4 ? c.r[1] === 0 : (c.r[1] & 0xffff) === 0;
}

/**
 * Elements of `size` at seg:rSI/rDI (reg 6 or 7) and onward in the copy's direction that one
 * iteration each would address without its offset wrapping at the address size or failing the
 * segment's limit check (segCheck); 0 when the first one would. Type checks do not depend on
 * the offset, so the caller's strAddr of the first element has already made them.
 */
export function room(c: Cpu, seg: number, reg: number, as: number, size: number, down: boolean): number {
  // 64-bit offsets and linear addresses wrap together (mod 2^64), so only pages bound a chunk.
  if (as === 8) return 0x7fffffff;
  const off = as === 4 ? c.r[reg] >>> 0 : c.r[reg] & 0xffff;
  let lo = 0, hi = as === 4 ? 0xffffffff : 0xffff;
  if (!c.long64 && c.segFlat[seg] === 0) {
    const a = c.segAttr[seg], limit = c.segLimit[seg] >>> 0;
    if ((a & 0x1c) === 0x14) { // expand-down data: offsets above the limit up to 64 KiB or 4 GiB
      lo = limit + 1;
      if (!(a & 0x4000)) hi = Math.min(hi, 0xffff);
    } else hi = Math.min(hi, limit);
  }
  if (off < lo || off + size - 1 > hi) return 0;
  return Math.floor(down ? (off - lo) / size : (hi - off - size + 1) / size) + 1;
}
