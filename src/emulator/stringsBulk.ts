// Bulk REP string operations: runs as many iterations of MOVS/STOS (typed-array copies and
// fills) or LODS/CMPS/SCAS (scans) as fit in the current source/destination pages, at any
// address size. It only touches pages that hit the soft TLB, whose fill rules already exclude
// MMIO, watched pages and, for stores, pages holding translated code (and alignment-check/
// implicit-supervisor modes), so those keep the exact per-iteration path. A chunk never reaches an element whose offset would wrap at the address size or fail
// the segment's limit check (stringRegisters.ts `room`). It never faults past its first
// element's address checks: on a TLB miss or a straddling element it does nothing and the
// caller runs one ordinary iteration (which walks, faults or wraps exactly, or fills the TLB).

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { DF } from './flags';
import { Seg } from './vcpu';
import { alu, AluOp } from './alu';
import { advance, room, strAddr } from './stringRegisters';

/** Elements of `s` bytes from page offset `o` to the page's end (or start when `down`). */
function fit(o: number, s: number, down: boolean): number {
  if (o + s > 0x1000) return 0;
  return down ? ((o / s) | 0) + 1 : ((0x1000 - o) / s) | 0;
}

/** The page of linear address `a` (high half in c.hi) when it hits the read or write TLB. */
function tlbPage(c: Cpu, a: number, write: boolean): Uint8Array | null {
  const pn = a >>> 12, i = pn & (c.rTag.length - 1);
  if (write) return c.wTag[i] === pn && c.wTagHi[i] === c.hi ? c.wPage[i] : null;
  return c.rTag[i] === pn && c.rTagHi[i] === c.hi ? c.rPage[i] : null;
}

/** Little-endian value of 1, 2 or 4 bytes at p[o], as the memory reads return it. */
function le(p: Uint8Array, o: number, s: number): number {
  if (s === 1) return p[o];
  if (s === 2) return p[o] | (p[o + 1] << 8);
  return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
}

/** rAX's bytes, the SCAS comparand (one buffer, no allocation per chunk). */
const acc = new Uint8Array(8);

function loadAcc(c: Cpu, s: number): void {
  for (let j = 0; j < s; j++) acc[j] = j < 4 ? c.r[0] >>> (8 * j) : c.rh[0] >>> (8 * (j - 4));
}

/** 32-bit views of pages, so equal runs compare four bytes at a time. */
const words = new WeakMap<Uint8Array, Int32Array>();

function wordsOf(p: Uint8Array): Int32Array {
  let w = words.get(p);
  if (w === undefined) { w = new Int32Array(p.buffer, p.byteOffset, p.length >> 2); words.set(p, w); }
  return w;
}

/** Equal bytes of a and b from ai and bi upward before the first difference, at most len. */
function sameUp(a: Uint8Array, ai: number, b: Uint8Array, bi: number, len: number): number {
  let j = 0;
  if (len >= 32 && ((ai ^ bi) & 3) === 0 && ((a.byteOffset | b.byteOffset) & 3) === 0) {
    for (; (ai + j) & 3; j++) if (a[ai + j] !== b[bi + j]) return j;
    const wa = wordsOf(a), wb = wordsOf(b);
    let x = (ai + j) >> 2, y = (bi + j) >> 2;
    const end = x + ((len - j) >> 2);
    while (x < end && wa[x] === wb[y]) { x++; y++; }
    j = (x << 2) - ai;
  }
  while (j < len && a[ai + j] === b[bi + j]) j++;
  return j;
}

/** Equal bytes of a and b from ai and bi downward before the first difference, at most len. */
function sameDown(a: Uint8Array, ai: number, b: Uint8Array, bi: number, len: number): number {
  let j = 0;
  while (j < len && a[ai - j] === b[bi - j]) j++;
  return j;
}

/** Bytes of b matching rAX's element bytes (acc) from the element at bi, in the scan's direction. */
function sameAsAcc(b: Uint8Array, bi: number, s: number, len: number, down: boolean): number {
  let j = 0;
  if (down) for (let e = s - 1, top = bi + s - 1; j < len && b[top - j] === acc[e]; j++) { if (--e < 0) e = s - 1; }
  else for (let e = 0; j < len && b[bi + j] === acc[e]; j++) { if (++e === s) e = 0; }
  return j;
}

/**
 * Index of the first of `n` elements (a's at ao, b's at bo, each stepping by its own stride)
 * that are equal, where REPNE stops; n if none.
 */
function firstEqual(a: Uint8Array, ao: number, aStep: number, b: Uint8Array, bo: number, bStep: number, s: number, n: number): number {
  for (let k = 0; k < n; k++, ao += aStep, bo += bStep) {
    let j = 0;
    while (j < s && a[ao + j] === b[bo + j]) j++;
    if (j === s) return k;
  }
  return n;
}

/** REPNE SCASB's search for AL (memchr), forward or backward from o over n bytes. */
function findByte(p: Uint8Array, o: number, v: number, n: number, down: boolean): number {
  const at = down ? p.lastIndexOf(v, o) : p.indexOf(v, o);
  if (at < 0) return n;
  const k = down ? o - at : at - o;
  return k < n ? k : n;
}

/** Copies n elements of s bytes from src[so] to dst[dO] in the CPU's order; returns how many it could do exactly. */
function copy(src: Uint8Array, so: number, dst: Uint8Array, dO: number, s: number, n: number, down: boolean): number {
  if (src.buffer === dst.buffer) {
    // Overlap where element order matters (destination ahead of the source in the copy's
    // direction): chunks no longer than the distance replicate like the CPU does.
    const dist = (dst.byteOffset + dO) - (src.byteOffset + so), ahead = down ? -dist : dist;
    if (ahead > 0 && ahead < n * s) n = Math.max(1, (ahead / s) | 0);
  }
  const len = n * s, back = down ? len - s : 0, from = so - back, to = dO - back;
  if (src === dst) dst.copyWithin(to, from, from + len);
  else dst.set(src.subarray(from, from + len), to);
  return n;
}

/** Stores rAX's low s bytes n times from dst[dO] in the copy's direction. */
function fill(c: Cpu, dst: Uint8Array, dO: number, s: number, n: number, down: boolean): void {
  const len = n * s, to = dO - (down ? len - s : 0), lo = c.r[0], hi = c.rh[0];
  if (s === 1) { dst.fill(lo, to, to + len); return; }
  for (let k = 0; k < s; k++) dst[to + k] = k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4));
  for (let have = s; have < len; have *= 2) dst.copyWithin(to + have, to, to + Math.min(have, len - have));
}

/**
 * Runs up to `max` iterations of REP MOVS/CMPS/STOS/LODS/SCAS (d.op 0-4) at any address size
 * and updates rCX/rSI/rDI (and AL..RAX for LODS, the arithmetic flags for CMPS/SCAS as the last
 * iteration's compare leaves them); returns the count (0 when the per-iteration path must run).
 * CMPS/SCAS chunks end with the iteration whose compare ends a REPE/REPNE.
 */
export function bulkChunk(c: Cpu, d: Insn, max: number): number {
  const s = d.os, as = d.as, op = d.op, down = (c.flags & DF) !== 0;
  const count = as === 8 ? (c.rh[1] === 0 ? c.r[1] >>> 0 : max) : as === 4 ? c.r[1] >>> 0 : c.r[1] & 0xffff;
  let n = Math.min(max, count);
  // Same address order as one iteration (seg:rSI, then ES:rDI), so a #GP here is the one it
  // would raise; and nothing of ES:rDI is looked at when the source element is left to it.
  let src: Uint8Array | null = null, so = 0;
  if (op !== 2 && op !== 4) {
    const seg = d.segOvr >= 0 ? d.segOvr : Seg.DS;
    const a = strAddr(c, seg, 6, as, s, false);
    src = tlbPage(c, a, false);
    if (src === null) return 0;
    so = a & 0xfff;
    n = Math.min(n, fit(so, s, down), room(c, seg, 6, as, s, down));
    if (n <= 0) return 0;
  }
  let dst: Uint8Array | null = null, dO = 0;
  if (op !== 3) {
    const store = op === 0 || op === 2;
    const b = strAddr(c, Seg.ES, 7, as, s, store);
    dst = tlbPage(c, b, store);
    if (dst === null) return 0;
    dO = b & 0xfff;
    n = Math.min(n, fit(dO, s, down), room(c, Seg.ES, 7, as, s, down));
    if (n <= 0) return 0;
  }
  const step = down ? -s : s;
  switch (op) {
    case 0: n = copy(src!, so, dst!, dO, s, n, down); break;
    case 2: fill(c, dst!, dO, s, n, down); break;
    case 3: {
      const o = so + (n - 1) * step;
      c.setReg(0, s, le(src!, o, s > 4 ? 4 : s), s === 8 ? le(src!, o + 4, 4) : 0);
      break;
    }
    default: {
      let k: number;
      if (d.rep === 1) {
        // REPE: the element holding the first differing byte ends it.
        const len = n * s;
        let j: number;
        if (op === 4) { loadAcc(c, s); j = sameAsAcc(dst!, dO, s, len, down); }
        else if (down) j = sameDown(src!, so + s - 1, dst!, dO + s - 1, len);
        else j = sameUp(src!, so, dst!, dO, len);
        k = (j / s) | 0;
      } else if (op === 4 && s === 1) k = findByte(dst!, dO, c.r[0] & 0xff, n, down);
      else if (op === 4) { loadAcc(c, s); k = firstEqual(acc, 0, 0, dst!, dO, step, s, n); }
      else k = firstEqual(src!, so, step, dst!, dO, step, s, n);
      if (k < n) n = k + 1;
      // The flags of the chunk's last compare, computed the way one iteration computes them.
      const bo = dO + (n - 1) * step, w = s > 4 ? 4 : s;
      const b = le(dst!, bo, w), bh = s === 8 ? le(dst!, bo + 4, 4) : 0;
      if (op === 1) {
        const ao = so + (n - 1) * step;
        alu(c, AluOp.Cmp, s, le(src!, ao, w), s === 8 ? le(src!, ao + 4, 4) : 0, b, bh);
      } else alu(c, AluOp.Cmp, s, c.getReg(0, s), s === 8 ? c.rh[0] : 0, b, bh);
    }
  }
  const delta = down ? -n * s : n * s;
  if (src !== null) advance(c, 6, as, delta);
  if (dst !== null) advance(c, 7, as, delta);
  advance(c, 1, as, -n);
  return n;
}
