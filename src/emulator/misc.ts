// Less common integer instructions: CMPXCHG8B/16B, FWAIT, and the BCD adjustments
// DAA/DAS/AAA/AAS/AAM/AAD (16/32-bit modes only).

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Vec } from './exceptions';
import { AF, CF, ZF, getAF, getCF, materialize, setLogic } from './flags';
import { CR0_MP, CR0_TS, CR0_NE } from './paging';

/** CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W; 16-byte aligned). Only ZF is affected. */
export function cmpxchg8b(c: Cpu, d: Insn): void {
  if (d.mod === 3) c.ud();
  const wide = d.os === 8;
  const lo = c.ea(d, wide ? 16 : 8, true), hi = c.hi;
  if (wide && (lo & 15)) c.gp(0);
  c.probeWrite(lo, hi, wide ? 16 : 8);
  const t = (lo >>> 0) + (wide ? 8 : 4);
  const lo2 = t | 0, hi2 = c.long64 ? (hi + (t > 0xffffffff ? 1 : 0)) | 0 : 0;
  let m0: number, m1: number, m2 = 0, m3 = 0;
  if (wide) { m0 = c.read64(lo, hi); m1 = c.hi; m2 = c.read64(lo2, hi2); m3 = c.hi; } else { m0 = c.read32(lo, hi); m1 = c.read32(lo2, hi2); }
  const eq = wide
    ? m0 === c.r[0] && m1 === c.rh[0] && m2 === c.r[2] && m3 === c.rh[2]
    : m0 === c.r[0] && m1 === c.r[2];
  materialize(c);
  if (eq) {
    c.flags |= ZF;
    if (wide) { c.write64(lo, hi, c.r[3], c.rh[3]); c.write64(lo2, hi2, c.r[1], c.rh[1]); } else { c.write32(lo, hi, c.r[3]); c.write32(lo2, hi2, c.r[1]); }
  } else {
    c.flags &= ~ZF;
    // The destination is written back unchanged (locked cycle), then rDX:rAX gets the old value.
    if (wide) { c.write64(lo, hi, m0, m1); c.write64(lo2, hi2, m2, m3); c.setReg(0, 8, m0, m1); c.setReg(2, 8, m2, m3); } else {
      c.write32(lo, hi, m0); c.write32(lo2, hi2, m1); c.setReg(0, 4, m0, 0); c.setReg(2, 4, m1, 0);
    }
  }
}

/** FWAIT (9B): #NM when CR0.MP and CR0.TS; then #MF for a pending unmasked x87 exception (FSW.ES) when CR0.NE (the FERR# path without NE is not modelled). */
export function fwait(c: Cpu): void {
  if ((c.cr0 & CR0_MP) && (c.cr0 & CR0_TS)) c.raise(Vec.NM);
  if ((c.fpu.fsw & 0x80) && (c.cr0 & CR0_NE)) c.raise(Vec.MF);
}

/** op: 0 DAA, 1 DAS, 2 AAA, 3 AAS, 4 AAM imm8, 5 AAD imm8 (SDM pseudo-code). */
export function decimalAdjust(c: Cpu, d: Insn): void {
  let al = c.r[0] & 0xff;
  const cf = getCF(c), af = getAF(c);
  switch (d.op) {
    case 0: case 1: {
      const oldAl = al;
      let ncf = 0, naf = false;
      if ((al & 0xf) > 9 || af) { al = d.op === 0 ? al + 6 : al - 6; naf = true; ncf = cf | (d.op === 0 ? (al > 0xff ? 1 : 0) : (al < 0 ? 1 : 0)); al &= 0xff; }
      if (oldAl > 0x99 || cf) { al = (d.op === 0 ? al + 0x60 : al - 0x60) & 0xff; ncf = 1; }
      c.setReg(0, 1, al, 0);
      setLogic(c, 1, al, 0);
      materialize(c);
      c.flags = (c.flags & ~(CF | AF)) | ncf | (naf ? AF : 0);
      return;
    }
    case 2: case 3: {
      let ax = c.r[0] & 0xffff;
      const adj = (al & 0xf) > 9 || af;
      // AAS: AX <- AX - 6 (AL's borrow reaches AH), then AH <- AH - 1.
      if (adj) ax = d.op === 2 ? ax + 0x106 : ((ax - 6) & 0xff) | ((((((ax - 6) & 0xffff) >> 8) - 1) & 0xff) << 8);
      ax = (ax & 0xff0f) & 0xffff;
      c.setReg(0, 2, ax, 0);
      materialize(c);
      c.flags = (c.flags & ~(CF | AF)) | (adj ? CF | AF : 0);
      return;
    }
    case 4: {
      const base = d.imm & 0xff;
      if (base === 0) c.raise(Vec.DE);
      const ah = Math.floor(al / base); al = al % base;
      c.setReg(0, 2, (ah << 8) | al, 0);
      setLogic(c, 1, al, 0);
      return;
    }
    default: {
      const base = d.imm & 0xff;
      al = (al + ((c.r[0] >> 8) & 0xff) * base) & 0xff;
      c.setReg(0, 2, al, 0);
      setLogic(c, 1, al, 0);
    }
  }
}
