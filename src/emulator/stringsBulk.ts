// Bulk REP MOVS/STOS for 64-bit address size: runs as many iterations as fit in the current
// source/destination pages with typed-array copies. It only touches pages that hit the soft
// TLB, whose fill rules already exclude MMIO, watched pages and pages holding translated code
// (and alignment-check/implicit-supervisor modes), so those keep the exact per-iteration path.
// It never faults: on a TLB miss or a straddling element it does nothing and the caller runs
// one ordinary iteration (which walks, faults exactly, or fills the TLB for the next chunk).

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { DF } from './flags';
import { Seg } from './vcpu';
import { advance, strAddr } from './stringRegisters';

/** Elements of `s` bytes from page offset `o` to the page's end (or start when `down`). */
function fit(o: number, s: number, down: boolean): number {
  if (o + s > 0x1000) return 0;
  return down ? ((o / s) | 0) + 1 : ((0x1000 - o) / s) | 0;
}

/**
 * Runs up to `max` iterations of REP MOVS (op 0) or STOS (op 2) with a 64-bit address size
 * and updates rCX/rSI/rDI; returns the count (0 when the per-iteration path must run).
 */
export function bulkChunk(c: Cpu, d: Insn, max: number): number {
  const s = d.os, down = (c.flags & DF) !== 0, movs = d.op === 0;
  if (c.rh[1] === 0 && (c.r[1] >>> 0) < max) max = c.r[1] >>> 0;
  const mask = c.wTag.length - 1;
  // Same address order as one iteration, so a #GP here is the one it would raise.
  let src: Uint8Array | null = null, so = 0;
  if (movs) {
    const a = strAddr(c, d.segOvr >= 0 ? d.segOvr : Seg.DS, 6, 8, s, false), pn = a >>> 12, i = pn & mask;
    if (c.rTag[i] !== pn || c.rTagHi[i] !== c.hi) return 0;
    src = c.rPage[i]; so = a & 0xfff;
  }
  const b = strAddr(c, Seg.ES, 7, 8, s, true), pn = b >>> 12, i = pn & mask;
  if (c.wTag[i] !== pn || c.wTagHi[i] !== c.hi) return 0;
  const dst = c.wPage[i], dO = b & 0xfff;
  let n = Math.min(max, fit(dO, s, down));
  if (src !== null) n = Math.min(n, fit(so, s, down));
  if (n <= 0) return 0;
  if (src !== null && src.buffer === dst.buffer) {
    // Overlap where element order matters (destination ahead of the source in the copy's
    // direction): chunks no longer than the distance replicate like the CPU does.
    const dist = (dst.byteOffset + dO) - (src.byteOffset + so), ahead = down ? -dist : dist;
    if (ahead > 0 && ahead < n * s) n = Math.max(1, (ahead / s) | 0);
  }
  const len = n * s, back = down ? len - s : 0;
  if (src !== null) {
    const from = so - back, to = dO - back;
    if (src === dst) dst.copyWithin(to, from, from + len);
    else dst.set(src.subarray(from, from + len), to);
  } else {
    const to = dO - back, lo = c.r[0], hi = c.rh[0];
    if (s === 1) dst.fill(lo, to, to + len);
    else {
      for (let k = 0; k < s; k++) dst[to + k] = k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4));
      for (let have = s; have < len; have *= 2) dst.copyWithin(to + have, to, to + Math.min(have, len - have));
    }
  }
  const delta = down ? -len : len;
  if (movs) advance(c, 6, 8, delta);
  advance(c, 7, 8, delta);
  advance(c, 1, 8, -n);
  return n;
}
