// Shifts and rotates (group 2: ROL ROR RCL RCR SHL SHR SAL SAR) and SHLD/SHRD, with the
// SDM's flag rules: a masked count of 0 changes nothing; rotates touch only CF and OF.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { CF, OF, getCF, materialize, setRes } from './flags';
import { MASK } from './operands';

let outHi = 0;

function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) { outHi = hi; return lo; }
  if (n < 32) { outHi = (hi << n) | (lo >>> (32 - n)); return lo << n; }
  outHi = n === 32 ? lo : lo << (n - 32); return 0;
}

function shr64(lo: number, hi: number, n: number): number {
  if (n === 0) { outHi = hi; return lo; }
  if (n < 32) { outHi = hi >>> n; return (lo >>> n) | (hi << (32 - n)); }
  outHi = 0; return n === 32 ? hi : hi >>> (n - 32);
}

function sar64(lo: number, hi: number, n: number): number {
  if (n === 0) { outHi = hi; return lo; }
  if (n < 32) { outHi = hi >> n; return (lo >>> n) | (hi << (32 - n)); }
  outHi = hi >> 31; return n === 32 ? hi : hi >> (n - 32);
}

function bit64(lo: number, hi: number, k: number): number {
  return k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
}

/** Rotate-type ops only write CF and OF. */
function setCfOf(c: Cpu, cf: number, of: number): void {
  materialize(c);
  c.flags = (c.flags & ~(CF | OF)) | cf | (of ? OF : 0);
}

/** Applies group-2 operation `op` to (a, ah) of size s by `count` (already masked); returns lo, hi in c.hi. */
function shiftOp(c: Cpu, op: number, s: number, a: number, ah: number, count: number): number {
  const bits = s * 8;
  const m = MASK[s];
  switch (op) {
    case 0: { // ROL
      const n = count % bits;
      let r: number, rh = 0;
      if (s === 8) { const l = shl64(a, ah, n), lh = outHi; const q = shr64(a, ah, (64 - n) % 64), qh = outHi; r = n ? l | q : a; rh = n ? lh | qh : ah; }
      else r = n ? ((a << n) | ((a & m) >>> (bits - n))) & m : a & m;
      if (s === 4) r |= 0;
      const cf = r & 1;
      const msb = s === 8 ? rh >>> 31 : (r >>> (bits - 1)) & 1;
      setCfOf(c, cf, msb ^ cf);
      c.hi = rh; return r;
    }
    case 1: { // ROR
      const n = count % bits;
      let r: number, rh = 0;
      if (s === 8) { const l = shr64(a, ah, n), lh = outHi; const q = shl64(a, ah, (64 - n) % 64), qh = outHi; r = n ? l | q : a; rh = n ? lh | qh : ah; }
      else r = n ? (((a & m) >>> n) | (a << (bits - n))) & m : a & m;
      if (s === 4) r |= 0;
      const msb = s === 8 ? rh >>> 31 : (r >>> (bits - 1)) & 1;
      const msb2 = s === 8 ? (rh >>> 30) & 1 : (r >>> (bits - 2)) & 1;
      setCfOf(c, msb, msb ^ msb2);
      c.hi = rh; return r;
    }
    case 2: case 3: { // RCL, RCR: rotate through CF, one bit at a time (counts are small).
      const n = s === 8 || s === 4 ? count : count % (bits + 1);
      let lo = a, hi = ah, cf = getCF(c);
      for (let k = 0; k < n; k++) {
        if (op === 2) {
          const out = s === 8 ? hi >>> 31 : (lo >>> (bits - 1)) & 1;
          if (s === 8) { hi = (hi << 1) | (lo >>> 31); lo = (lo << 1) | cf; } else lo = ((lo << 1) | cf) & m;
          cf = out;
        } else {
          const out = lo & 1;
          if (s === 8) { lo = (lo >>> 1) | (hi << 31); hi = (hi >>> 1) | (cf << 31); } else lo = ((lo & m) >>> 1) | (cf << (bits - 1));
          cf = out;
        }
      }
      if (s === 4) lo |= 0; else if (s < 4) lo &= m;
      const msb = s === 8 ? hi >>> 31 : (lo >>> (bits - 1)) & 1;
      const msb2 = s === 8 ? (hi >>> 30) & 1 : (lo >>> (bits - 2)) & 1;
      setCfOf(c, cf, op === 2 ? msb ^ cf : msb ^ msb2);
      c.hi = s === 8 ? hi : 0; return lo;
    }
    case 4: case 6: { // SHL/SAL
      let r: number, rh = 0, cf: number;
      if (s === 8) { r = shl64(a, ah, count); rh = outHi; cf = bit64(a, ah, 64 - count); }
      else if (count >= 32) { r = 0; cf = count === bits ? a & 1 : 0; }
      else { r = (a << count) & m; cf = count <= bits ? (a >>> (bits - count)) & 1 : 0; if (s === 4) r |= 0; }
      const msb = s === 8 ? rh >>> 31 : (r >>> (bits - 1)) & 1;
      setRes(c, s, r, rh, cf, msb ^ cf);
      c.hi = rh; return r;
    }
    case 5: { // SHR
      let r: number, rh = 0, cf: number;
      if (s === 8) { r = shr64(a, ah, count); rh = outHi; cf = bit64(a, ah, count - 1); }
      else { r = count >= 32 ? 0 : (a & m) >>> count; cf = count - 1 < 32 ? ((a & m) >>> (count - 1)) & 1 : 0; if (s === 4) r |= 0; }
      const msbA = s === 8 ? ah >>> 31 : ((a & m) >>> (bits - 1)) & 1;
      setRes(c, s, r, rh, cf, msbA);
      c.hi = rh; return r;
    }
    default: { // SAR
      let r: number, rh = 0, cf: number;
      if (s === 8) { r = sar64(a, ah, count); rh = outHi; cf = bit64(a, ah, count - 1); }
      else {
        const sa = s === 4 ? a | 0 : s === 2 ? (a << 16) >> 16 : (a << 24) >> 24;
        const n = count > 31 ? 31 : count;
        r = (sa >> n) & m; if (s === 4) r |= 0;
        cf = (sa >> (count - 1 > 31 ? 31 : count - 1)) & 1;
      }
      setRes(c, s, r, rh, cf, 0);
      c.hi = rh; return r;
    }
  }
}

function shiftRm(c: Cpu, d: Insn, rawCount: number): void {
  const s = d.os;
  const count = rawCount & (s === 8 ? 63 : 31);
  if (count === 0) {
    // Still performs the memory read (and its faults), but no write and no flag change.
    if (d.mod !== 3) { const lo = c.ea(d, s, false); c.readN(lo, c.hi, s); } else if (s === 4) c.rh[d.rm] = 0;
    return;
  }
  if (d.mod === 3) {
    const a = c.getReg(d.rm, s), ah = s === 8 ? c.hi : 0;
    const r = shiftOp(c, d.op, s, a, ah, count);
    c.setReg(d.rm, s, r, c.hi);
    return;
  }
  const lo = c.ea(d, s, true), hi = c.hi;
  const a = c.rmwRead(lo, hi, s), ah = s === 8 ? c.hi : 0;
  const r = shiftOp(c, d.op, s, a, ah, count);
  c.rmwWrite(lo, hi, s, r, c.hi);
}

export function shiftRm1(c: Cpu, d: Insn): void { shiftRm(c, d, 1); }
export function shiftRmCl(c: Cpu, d: Insn): void { shiftRm(c, d, c.r[1] & 0xff); }
export function shiftRmImm(c: Cpu, d: Insn): void { shiftRm(c, d, d.imm & 0xff); }

/** SHLD (op 0) / SHRD (op 1) r/m, reg, imm8|CL (flag 0x200 = CL). */
export function shxd(c: Cpu, d: Insn): void {
  const s = d.os;
  const count = ((d.flags & 0x200) ? c.r[1] : d.imm) & (s === 8 ? 63 : 31);
  let lo = 0, hi = 0, a: number, ah = 0;
  if (d.mod === 3) { a = c.getReg(d.rm, s); if (s === 8) ah = c.hi; } else { lo = c.ea(d, s, true); hi = c.hi; a = c.rmwRead(lo, hi, s); if (s === 8) ah = c.hi; }
  if (count === 0) { if (d.mod === 3 && s === 4) c.rh[d.rm] = 0; return; }
  const b = c.getReg(d.reg, s), bh = s === 8 ? c.hi : 0;
  const bits = s * 8;
  let r: number, rh = 0, cf: number;
  if (s === 8) {
    if (d.op === 0) { const x = shl64(a, ah, count), xh = outHi; const y = shr64(b, bh, 64 - count), yh = outHi; r = x | y; rh = xh | yh; cf = bit64(a, ah, 64 - count); }
    else { const x = shr64(a, ah, count), xh = outHi; const y = shl64(b, bh, 64 - count), yh = outHi; r = x | y; rh = xh | yh; cf = bit64(a, ah, count - 1); }
  } else if (s === 4) {
    if (d.op === 0) { r = (a << count) | (b >>> (32 - count)); cf = (a >>> (32 - count)) & 1; } else { r = (a >>> count) | (b << (32 - count)); cf = (a >>> (count - 1)) & 1; }
  } else {
    // 16-bit: operate on the 32-bit concatenation; counts above 16 are undefined (this gives Intel's result).
    const cat = d.op === 0 ? ((a & 0xffff) << 16) | (b & 0xffff) : ((b & 0xffff) << 16) | (a & 0xffff);
    if (d.op === 0) { const t = count < 32 ? cat << count : 0; r = (t >>> 16) & 0xffff; cf = (cat >>> (32 - count)) & 1; }
    else { r = (cat >>> count) & 0xffff; cf = (cat >>> (count - 1)) & 1; }
  }
  const msb = s === 8 ? rh >>> 31 : (r >>> (bits - 1)) & 1;
  const msbA = s === 8 ? ah >>> 31 : (a >>> (bits - 1)) & 1;
  setRes(c, s, r, rh, cf, msb ^ msbA);
  if (d.mod === 3) c.setReg(d.rm, s, r, rh); else c.rmwWrite(lo, hi, s, r, rh);
}
