// Lazy arithmetic flags. ALU instructions record the operation, its size and operands and
// result; CF/PF/AF/ZF/SF/OF are computed only when something reads them (mostly a Jcc that
// needs one or two). Values of 1/2-byte operations are kept masked and unsigned, 4-byte ones
// as int32, 8-byte ones as int32 halves (lo in lf*, hi in lf*Hi).

import type { Cpu } from './cpu';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;
/** The six arithmetic flags held lazily. */
export const ARITH = CF | PF | AF | ZF | SF | OF;

export const enum Lf {
  /** Flags are materialized in cpu.flags. */
  None = 0,
  Add = 1, Adc = 2, Sub = 3, Sbb = 4,
  /** AND/OR/XOR/TEST: CF=OF=AF=0. */
  Logic = 5,
  /** INC/DEC: CF preserved in lfCf, b = 1. */
  Inc = 6, Dec = 7,
  /** Result flags from the result; CF and OF given explicitly (shifts, multiplies); AF = 0. */
  Res = 8,
}

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = 1;
  for (let b = i; b; b >>= 1) p ^= b & 1;
  PARITY[i] = p;
}

/** Sign-bit mask of a size's low half (the hi half for 8-byte values). */
const SIGN = [0, 0x80, 0x8000, 0, 0x80000000 | 0, 0, 0, 0, 0x80000000 | 0];

function ult(c: Cpu, x: number, xh: number, y: number, yh: number): boolean {
  if (c.lfSize === 8) return (xh >>> 0) < (yh >>> 0) || (xh === yh && (x >>> 0) < (y >>> 0));
  return (x >>> 0) < (y >>> 0);
}

export function getCF(c: Cpu): number {
  switch (c.lfOp) {
    case Lf.None: return c.flags & CF;
    case Lf.Add: return ult(c, c.lfRes, c.lfResHi, c.lfA, c.lfAHi) ? 1 : 0;
    case Lf.Adc: return ult(c, c.lfRes, c.lfResHi, c.lfA, c.lfAHi) || (c.lfCf !== 0 && c.lfRes === c.lfA && c.lfResHi === c.lfAHi) ? 1 : 0;
    case Lf.Sub: return ult(c, c.lfA, c.lfAHi, c.lfB, c.lfBHi) ? 1 : 0;
    case Lf.Sbb: return ult(c, c.lfA, c.lfAHi, c.lfB, c.lfBHi) || (c.lfCf !== 0 && c.lfA === c.lfB && c.lfAHi === c.lfBHi) ? 1 : 0;
    case Lf.Logic: return 0;
    default: return c.lfCf;
  }
}

export function getZF(c: Cpu): boolean {
  if (c.lfOp === Lf.None) return (c.flags & ZF) !== 0;
  return (c.lfRes | c.lfResHi) === 0;
}

export function getSF(c: Cpu): boolean {
  if (c.lfOp === Lf.None) return (c.flags & SF) !== 0;
  return c.lfSize === 8 ? c.lfResHi < 0 : (c.lfRes & SIGN[c.lfSize]) !== 0;
}

export function getOF(c: Cpu): boolean {
  const s = c.lfSize === 8;
  const sign = SIGN[c.lfSize];
  switch (c.lfOp) {
    case Lf.None: return (c.flags & OF) !== 0;
    case Lf.Add: case Lf.Adc:
      return s ? ((c.lfAHi ^ c.lfResHi) & (c.lfBHi ^ c.lfResHi)) < 0
        : ((c.lfA ^ c.lfRes) & (c.lfB ^ c.lfRes) & sign) !== 0;
    case Lf.Sub: case Lf.Sbb:
      return s ? ((c.lfAHi ^ c.lfBHi) & (c.lfAHi ^ c.lfResHi)) < 0
        : ((c.lfA ^ c.lfB) & (c.lfA ^ c.lfRes) & sign) !== 0;
    case Lf.Logic: return false;
    case Lf.Inc: return s ? c.lfResHi === (0x80000000 | 0) && c.lfRes === 0 : c.lfRes === sign;
    case Lf.Dec: return s ? c.lfResHi === 0x7fffffff && c.lfRes === -1 : c.lfRes === ((sign - 1) & MASK[c.lfSize]);
    default: return c.lfOf !== 0;
  }
}

const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];

export function getPF(c: Cpu): boolean {
  if (c.lfOp === Lf.None) return (c.flags & PF) !== 0;
  return PARITY[c.lfRes & 0xff] === 1;
}

export function getAF(c: Cpu): boolean {
  switch (c.lfOp) {
    case Lf.None: return (c.flags & AF) !== 0;
    case Lf.Add: case Lf.Adc: case Lf.Sub: case Lf.Sbb: case Lf.Inc: case Lf.Dec:
      return ((c.lfA ^ c.lfB ^ c.lfRes) & 0x10) !== 0;
    default: return false;
  }
}

/** Full RFLAGS (low 32 bits; the high half is always zero). */
export function getFlags(c: Cpu): number {
  if (c.lfOp === Lf.None) return c.flags;
  return (c.flags & ~ARITH) | getCF(c) | (getPF(c) ? PF : 0) | (getAF(c) ? AF : 0) | (getZF(c) ? ZF : 0) | (getSF(c) ? SF : 0) | (getOF(c) ? OF : 0);
}

/** Materializes the lazy flags into cpu.flags (before an instruction edits single flags). */
export function materialize(c: Cpu): void {
  if (c.lfOp !== Lf.None) { c.flags = getFlags(c); c.lfOp = Lf.None; }
}

/** Evaluates condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc). */
export function cond(c: Cpu, cc: number): boolean {
  // Fast paths for the common compare-and-branch pairs.
  if (c.lfOp === Lf.Sub && c.lfSize === 4) {
    const a = c.lfA, b = c.lfB;
    switch (cc) {
      case 2: return (a >>> 0) < (b >>> 0);
      case 3: return (a >>> 0) >= (b >>> 0);
      case 4: return a === b;
      case 5: return a !== b;
      case 6: return (a >>> 0) <= (b >>> 0);
      case 7: return (a >>> 0) > (b >>> 0);
      case 12: return a < b;
      case 13: return a >= b;
      case 14: return a <= b;
      case 15: return a > b;
    }
  }
  if (c.lfOp === Lf.Sub && c.lfSize === 8) {
    const a = c.lfA, ah = c.lfAHi, b = c.lfB, bh = c.lfBHi;
    switch (cc) {
      case 2: return (ah >>> 0) < (bh >>> 0) || (ah === bh && (a >>> 0) < (b >>> 0));
      case 3: return !((ah >>> 0) < (bh >>> 0) || (ah === bh && (a >>> 0) < (b >>> 0)));
      case 4: return a === b && ah === bh;
      case 5: return a !== b || ah !== bh;
      case 12: return ah < bh || (ah === bh && (a >>> 0) < (b >>> 0));
      case 13: return !(ah < bh || (ah === bh && (a >>> 0) < (b >>> 0)));
    }
  }
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(c); break;
    case 1: r = getCF(c) !== 0; break;
    case 2: r = getZF(c); break;
    case 3: r = getCF(c) !== 0 || getZF(c); break;
    case 4: r = getSF(c); break;
    case 5: r = getPF(c); break;
    case 6: r = getSF(c) !== getOF(c); break;
    default: r = getZF(c) || getSF(c) !== getOF(c); break;
  }
  return (cc & 1) ? !r : r;
}

/** Records a result whose CF and OF the instruction computed itself (shifts, multiplies). */
export function setRes(c: Cpu, size: number, res: number, resHi: number, cf: number, of: number): void {
  c.lfOp = Lf.Res; c.lfSize = size; c.lfRes = res; c.lfResHi = resHi; c.lfCf = cf; c.lfOf = of;
}

export function setLogic(c: Cpu, size: number, res: number, resHi: number): void {
  c.lfOp = Lf.Logic; c.lfSize = size; c.lfRes = res; c.lfResHi = resHi;
}

export function parity(v: number): boolean { return PARITY[v & 0xff] === 1; }
