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
