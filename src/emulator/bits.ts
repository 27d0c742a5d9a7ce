// BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT, POPCNT, BSWAP, MOVBE.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { CF, ZF, OF, SF, AF, PF, materialize, setLogic } from './flags';
import { rdRm, wrRm } from './operands';

/**
 * BT family. op: 0 BT, 1 BTS, 2 BTR, 3 BTC. Flag 0x200 marks the immediate form (0F BA),
 * where the offset is taken modulo the operand size; with a register offset and a memory
 * operand the offset is a signed bit string index (SDM "BT").
 */
export function btOp(c: Cpu, d: Insn): void {
  const s = d.os;
  const bits = s * 8;
  let off: number, offHi = 0;
  if (d.flags & 0x200) off = d.imm & (bits - 1);
  else { off = c.getReg(d.reg, s); if (s === 8) offHi = c.hi; }
  let lo = 0, hi = 0, v: number, vh = 0, bit: number;
  if (d.mod === 3) {
    bit = off & (bits - 1);
    v = c.getReg(d.rm, s); if (s === 8) vh = c.hi;
  } else {
    // Memory: address += (signed offset >> 3) rounded to the operand size.
    let byteOff = 0, byteOffHi = 0;
    if (!(d.flags & 0x200)) {
      const signedOff = s === 8 ? offHi * 4294967296 + (off >>> 0) : s === 2 ? (off << 16) >> 16 : off | 0;
      const bo = Math.floor(signedOff / bits) * s;
      byteOff = bo | 0; byteOffHi = Math.floor(bo / 4294967296) | 0;
      bit = off & (bits - 1);
    } else bit = off;
    lo = c.ea(d, s, d.op !== 0); hi = c.hi;
    const t = (lo >>> 0) + (byteOff >>> 0);
    hi = c.long64 ? (hi + byteOffHi + (t > 0xffffffff ? 1 : 0)) | 0 : 0;
    lo = t | 0;
    v = d.op !== 0 ? c.rmwRead(lo, hi, s) : c.readN(lo, hi, s); if (s === 8) vh = c.hi;
  }
  const cf = bit < 32 ? (v >>> bit) & 1 : (vh >>> (bit - 32)) & 1;
  materialize(c);
  c.flags = (c.flags & ~CF) | cf;
  if (d.op === 0) return;
  const mlo = bit < 32 ? 1 << bit : 0, mhi = bit >= 32 ? 1 << (bit - 32) : 0;
  if (d.op === 1) { v |= mlo; vh |= mhi; } else if (d.op === 2) { v &= ~mlo; vh &= ~mhi; } else { v ^= mlo; vh ^= mhi; }
  if (s < 4) v &= s === 1 ? 0xff : 0xffff;
  if (d.mod === 3) c.setReg(d.rm, s, v, vh); else c.rmwWrite(lo, hi, s, v, vh);
}

/** BSF (op 0) / BSR (op 1): ZF=1 and destination unchanged for a zero source. */
export function bsfBsr(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = rdRm(c, d, s), vh = s === 8 ? c.hi : 0;
  materialize(c);
  c.flags &= ~(ZF | CF | OF | SF | AF | PF);
  if ((v | vh) === 0) { c.flags |= ZF; return; }
  let idx: number;
  if (d.op === 0) idx = v !== 0 ? 31 - Math.clz32(v & -v) : 32 + 31 - Math.clz32(vh & -vh);
  else idx = vh !== 0 ? 63 - Math.clz32(vh) : 31 - Math.clz32(v);
  c.setReg(d.reg, s, idx, 0);
}

/** TZCNT (op 0) / LZCNT (op 1): CF = source was zero, ZF = result is zero. */
export function tzLzcnt(c: Cpu, d: Insn): void {
  const s = d.os;
  const bits = s * 8;
  const v = rdRm(c, d, s), vh = s === 8 ? c.hi : 0;
  let n: number;
  if ((v | vh) === 0) n = bits;
  else if (d.op === 0) n = v !== 0 ? 31 - Math.clz32(v & -v) : 32 + 31 - Math.clz32(vh & -vh);
  else if (s === 8) n = vh !== 0 ? Math.clz32(vh) : 32 + Math.clz32(v);
  else n = Math.clz32(v) - (32 - bits);
  materialize(c);
  c.flags = (c.flags & ~(CF | ZF)) | (n === bits ? CF : 0) | (n === 0 ? ZF : 0);
  c.setReg(d.reg, s, n, 0);
}

function popcnt32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** POPCNT: ZF = source zero; other arithmetic flags cleared. */
export function popcnt(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = rdRm(c, d, s), vh = s === 8 ? c.hi : 0;
  const n = popcnt32(v) + popcnt32(vh);
  setLogic(c, 4, n === 0 ? 0 : 1, 0);
  materialize(c);
  c.flags &= ~(PF | SF);
  c.setReg(d.reg, s, n, 0);
}

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** BSWAP r32/r64 (0F C8+r). The 16-bit form is undefined; it gives 0 like current CPUs. */
export function bswap(c: Cpu, d: Insn): void {
  const i = d.rm;
  if (d.os === 8) { const lo = c.r[i], hi = c.rh[i]; c.setReg(i, 8, bswap32(hi), bswap32(lo)); }
  else if (d.os === 4) c.setReg(i, 4, bswap32(c.r[i]), 0);
  else c.setReg(i, 2, 0, 0);
}

/** MOVBE reg, m (op 0) / m, reg (op 1). */
export function movbe(c: Cpu, d: Insn): void {
  if (d.mod === 3) c.ud();
  const s = d.os;
  if (d.op === 0) {
    const v = rdRm(c, d, s), vh = c.hi;
    if (s === 8) c.setReg(d.reg, 8, bswap32(vh), bswap32(v));
    else if (s === 4) c.setReg(d.reg, 4, bswap32(v), 0);
    else c.setReg(d.reg, 2, ((v & 0xff) << 8) | ((v >> 8) & 0xff), 0);
  } else {
    const v = c.getReg(d.reg, s), vh = c.hi;
    if (s === 8) wrRm(c, d, 8, bswap32(vh), bswap32(v));
    else if (s === 4) wrRm(c, d, 4, bswap32(v), 0);
    else wrRm(c, d, 2, ((v & 0xff) << 8) | ((v >> 8) & 0xff), 0);
  }
}
