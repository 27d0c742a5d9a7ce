// SSE2 packed-integer handlers on XMM registers: wrapping and saturating add/sub (b/w/d/q),
// multiplies (PMULLW/PMULHW/PMULHUW/PMULUDQ/PMADDWD), compares, min/max, averages, PSADBW,
// and the shifts (by xmm/m128 count, by imm8, and the whole-register byte shifts).

import type { Cpu } from './cpu';
import type { Insn, Handler } from './insn';
import { sseCheck, srcFull, S } from './sseCore';
import { mulu32, MUL_HI } from './operands';

const D = new Int32Array(4);
const DU8 = new Uint8Array(D.buffer), DS8 = new Int8Array(D.buffer);
const DU16 = new Uint16Array(D.buffer), DS16 = new Int16Array(D.buffer);
const SU8 = new Uint8Array(S.buffer), SS8 = new Int8Array(S.buffer);
const SU16 = new Uint16Array(S.buffer), SS16 = new Int16Array(S.buffer);

function loadD(c: Cpu, reg: number): void { const b = reg << 2, x = c.xmm; D[0] = x[b]; D[1] = x[b + 1]; D[2] = x[b + 2]; D[3] = x[b + 3]; }
function storeD(c: Cpu, reg: number): void { const b = reg << 2, x = c.xmm; x[b] = D[0]; x[b + 1] = D[1]; x[b + 2] = D[2]; x[b + 3] = D[3]; }

type Lane = (a: number, b: number) => number;

const sat = (lo: number, hi: number) => (v: number): number => (v < lo ? lo : v > hi ? hi : v);
const sat8s = sat(-128, 127), sat8u = sat(0, 255), sat16s = sat(-32768, 32767), sat16u = sat(0, 65535);

/** Lane-wise operation on 16 bytes (signed or unsigned view); results are stored modulo 2^8. */
function bytes(fn: Lane, signed: boolean): Handler {
  const A = signed ? DS8 : DU8, B = signed ? SS8 : SU8;
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    loadD(c, d.reg);
    for (let k = 0; k < 16; k++) DU8[k] = fn(A[k], B[k]);
    storeD(c, d.reg);
  };
}

function words(fn: Lane, signed: boolean): Handler {
  const A = signed ? DS16 : DU16, B = signed ? SS16 : SU16;
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    loadD(c, d.reg);
    for (let k = 0; k < 8; k++) DU16[k] = fn(A[k], B[k]);
    storeD(c, d.reg);
  };
}

function dwords(fn: Lane): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    const x = c.xmm, b = d.reg << 2;
    for (let k = 0; k < 4; k++) x[b + k] = fn(x[b + k], S[k]);
  };
}

/** PADDQ / PSUBQ. */
function qwords(sub: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    const x = c.xmm, b = d.reg << 2;
    for (let k = 0; k < 4; k += 2) {
      const alo = x[b + k] >>> 0, blo = S[k] >>> 0;
      if (sub) { x[b + k] = (alo - blo) | 0; x[b + k + 1] = (x[b + k + 1] - S[k + 1] - (alo < blo ? 1 : 0)) | 0; }
      else { const s = alo + blo; x[b + k] = s | 0; x[b + k + 1] = (x[b + k + 1] + S[k + 1] + (s > 0xffffffff ? 1 : 0)) | 0; }
    }
  };
}

/** PMULUDQ: unsigned dword 0 x dword 0 and dword 2 x dword 2 to two qwords. */
function pmuludq(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcFull(c, d, true);
  const x = c.xmm, b = d.reg << 2;
  x[b] = mulu32(x[b], S[0]); x[b + 1] = MUL_HI[0];
  x[b + 2] = mulu32(x[b + 2], S[2]); x[b + 3] = MUL_HI[0];
}

/** PMADDWD: signed word products summed pairwise into dwords (0x8000*0x8000*2 wraps to 0x80000000). */
function pmaddwd(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcFull(c, d, true);
  loadD(c, d.reg);
  for (let k = 0; k < 4; k++) D[k] = (DS16[2 * k] * SS16[2 * k] + DS16[2 * k + 1] * SS16[2 * k + 1]) | 0;
  storeD(c, d.reg);
}

/** PSADBW: per 64-bit half, the sum of absolute byte differences in the low word. */
function psadbw(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  srcFull(c, d, true);
  loadD(c, d.reg);
  for (let h = 0; h < 2; h++) {
    let sum = 0;
    for (let k = 8 * h; k < 8 * h + 8; k++) sum += Math.abs(DU8[k] - SU8[k]);
    D[2 * h] = sum; D[2 * h + 1] = 0;
  }
  storeD(c, d.reg);
}

/** Shifts every element of xmm(reg) by `count` (unsigned; large counts zero or sign-fill). kind: 0 left, 1 logical right, 2 arithmetic right. */
function shiftLanes(c: Cpu, reg: number, width: number, kind: number, count: number): void {
  if (count >= width) { if (kind === 2) count = width - 1; else { const b = reg << 2; c.xmm.fill(0, b, b + 4); return; } }
  if (count === 0) return;
  loadD(c, reg);
  if (width === 16) {
    for (let k = 0; k < 8; k++) DU16[k] = kind === 0 ? DU16[k] << count : kind === 1 ? DU16[k] >>> count : DS16[k] >> count;
  } else if (width === 32) {
    for (let k = 0; k < 4; k++) D[k] = kind === 0 ? D[k] << count : kind === 1 ? D[k] >>> count : D[k] >> count;
  } else {
    for (let k = 0; k < 4; k += 2) {
      const lo = D[k], hi = D[k + 1];
      if (kind === 0) {
        if (count >= 32) { D[k + 1] = lo << (count - 32); D[k] = 0; } else { D[k + 1] = (hi << count) | (lo >>> (32 - count)); D[k] = lo << count; }
      } else if (count >= 32) { D[k] = hi >>> (count - 32); D[k + 1] = 0; } else { D[k] = (lo >>> count) | (hi << (32 - count)); D[k + 1] = hi >>> count; }
    }
  }
  storeD(c, reg);
}

/** PSLLx/PSRLx/PSRAx xmm, xmm/m128: the count is the low 64 bits of the source. */
function shiftByXmm(width: number, kind: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    srcFull(c, d, true);
    const count = S[1] !== 0 || (S[0] >>> 0) > 64 ? 64 : S[0] >>> 0;
    shiftLanes(c, d.reg, width, kind, count);
  };
}

/** Group 12/13/14 (66 0F 71/72/73 /r ib): shift xmm(rm) by imm8. */
export function shiftByImm(width: number, kind: number): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    shiftLanes(c, d.rm, width, kind, d.imm & 0xff);
  };
}

/** PSLLDQ (left) / PSRLDQ: whole-register byte shift by imm8 (> 15 clears). */
export function byteShift(left: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const n = d.imm & 0xff;
    loadD(c, d.rm);
    for (let k = 0; k < 16; k++) SU8[k] = DU8[k];
    for (let k = 0; k < 16; k++) {
      const from = left ? k - n : k + n;
      DU8[k] = from >= 0 && from < 16 ? SU8[from] : 0;
    }
    storeD(c, d.rm);
  };
}

/** 66 0F xx packed-integer handlers by second opcode byte (all take xmm, xmm/m128). */
export const PACKED_INT: Record<number, Handler> = {
  0x64: bytes((a, b) => (a > b ? -1 : 0), true), // PCMPGTB
  0x65: words((a, b) => (a > b ? -1 : 0), true), // PCMPGTW
  0x66: dwords((a, b) => (a > b ? -1 : 0)), // PCMPGTD
  0x74: bytes((a, b) => (a === b ? -1 : 0), false), // PCMPEQB
  0x75: words((a, b) => (a === b ? -1 : 0), false), // PCMPEQW
  0x76: dwords((a, b) => (a === b ? -1 : 0)), // PCMPEQD
  0xd1: shiftByXmm(16, 1), 0xd2: shiftByXmm(32, 1), 0xd3: shiftByXmm(64, 1), // PSRLW/D/Q
  0xd4: qwords(false), // PADDQ
  0xd5: words((a, b) => Math.imul(a, b), false), // PMULLW
  0xd8: bytes((a, b) => sat8u(a - b), false), 0xd9: words((a, b) => sat16u(a - b), false), // PSUBUSB/W
  0xda: bytes((a, b) => (a < b ? a : b), false), // PMINUB
  0xdb: dwords((a, b) => a & b), // PAND
  0xdc: bytes((a, b) => sat8u(a + b), false), 0xdd: words((a, b) => sat16u(a + b), false), // PADDUSB/W
  0xde: bytes((a, b) => (a > b ? a : b), false), // PMAXUB
  0xdf: dwords((a, b) => ~a & b), // PANDN
  0xe0: bytes((a, b) => (a + b + 1) >> 1, false), // PAVGB
  0xe1: shiftByXmm(16, 2), 0xe2: shiftByXmm(32, 2), // PSRAW/D
  0xe3: words((a, b) => (a + b + 1) >> 1, false), // PAVGW
  0xe4: words((a, b) => (a * b) >>> 16, false), // PMULHUW
  0xe5: words((a, b) => Math.imul(a, b) >> 16, true), // PMULHW
  0xe8: bytes((a, b) => sat8s(a - b), true), 0xe9: words((a, b) => sat16s(a - b), true), // PSUBSB/W
  0xea: words((a, b) => (a < b ? a : b), true), // PMINSW
  0xeb: dwords((a, b) => a | b), // POR
  0xec: bytes((a, b) => sat8s(a + b), true), 0xed: words((a, b) => sat16s(a + b), true), // PADDSB/W
  0xee: words((a, b) => (a > b ? a : b), true), // PMAXSW
  0xef: dwords((a, b) => a ^ b), // PXOR
  0xf1: shiftByXmm(16, 0), 0xf2: shiftByXmm(32, 0), 0xf3: shiftByXmm(64, 0), // PSLLW/D/Q
  0xf4: pmuludq, 0xf5: pmaddwd, 0xf6: psadbw,
  0xf8: bytes((a, b) => a - b, false), 0xf9: words((a, b) => a - b, false), 0xfa: dwords((a, b) => (a - b) | 0), 0xfb: qwords(true), // PSUBB/W/D/Q
  0xfc: bytes((a, b) => a + b, false), 0xfd: words((a, b) => a + b, false), 0xfe: dwords((a, b) => (a + b) | 0), // PADDB/W/D
};
