// FXSAVE/FXRSTOR (0F AE /0 /1, the 512-byte x87+SSE image, legacy and REX.W 64-bit forms)
// and LDMXCSR/STMXCSR (0F AE /2 /3).
//
// Image (SDM vol. 1 table 10-2/10-3): 0 FCW, 2 FSW, 4 abridged FTW, 6 FOP, 8 FIP, 16 FDP,
// 24 MXCSR, 28 MXCSR_MASK, 32 ST0-7 (16-byte slots), 160 XMM0-15. The legacy form stores
// FIP[31:0], FCS at 12 and FDP[31:0], FDS at 20; the 64-bit form (REX.W) 64-bit FIP/FDP.
// cpu.fpu.fip/fdp hold the Hyper-V encoding, which is the same: CS/DS in bits 47:32 of the
// legacy form. XMM8-15 are saved and restored only in 64-bit mode; bytes 416-511 (and 288-415
// outside 64-bit mode) are neither written nor read. XMM and MXCSR are always saved, whatever
// CR4.OSFXSR says (what current Intel parts do).

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Vec } from './exceptions';
import { CR0_EM, CR0_TS } from './paging';
import { sseCheck, readM32, writeM32, MXCSR_MASK } from './sseCore';

const IMG = new Int32Array(128);
const IMG8 = new Uint8Array(IMG.buffer);

/** FXSAVE/FXRSTOR: #UD with LOCK, #NM when CR0.TS or CR0.EM; the operand must be 16-byte aligned. */
/** Returns the linear address (high half in c.hi). */
function fxCheck(c: Cpu, d: Insn, write: boolean): number {
  if (d.lock) c.raise(Vec.UD);
  if (c.cr0 & (CR0_TS | CR0_EM)) c.raise(Vec.NM);
  const lo = c.ea(d, 512, write);
  if (lo & 15) c.gp(0);
  return lo;
}

function imageBytes(c: Cpu): number { return c.long64 ? 416 : 288; }

function big32(v: bigint, shift: bigint): number { return Number(BigInt.asUintN(32, v >> shift)) | 0; }

export function fxsave(c: Cpu, d: Insn): void {
  const lo = fxCheck(c, d, true), hi = c.hi;
  const f = c.fpu, wide = (d.rex & 8) !== 0;
  IMG.fill(0);
  IMG[0] = (f.fcw & 0xffff) | ((f.fsw & 0xffff) << 16);
  IMG[1] = (f.ftw & 0xff) | ((f.fop & 0x7ff) << 16);
  IMG[2] = big32(f.fip, 0n); IMG[3] = big32(f.fip, 32n);
  IMG[4] = big32(f.fdp, 0n); IMG[5] = big32(f.fdp, 32n);
  if (!wide) { IMG[3] &= 0xffff; IMG[5] &= 0xffff; }
  IMG[6] = c.mxcsr; IMG[7] = MXCSR_MASK;
  for (let i = 0; i < 8; i++) for (let b = 0; b < 10; b++) IMG8[32 + 16 * i + b] = c.fpr[16 * i + b];
  const n = imageBytes(c);
  for (let w = 40; w < n >> 2; w++) IMG[w] = c.xmm[w - 40];
  c.probeWrite(lo, hi, n);
  for (let w = 0; w < n >> 2; w++) {
    const a = (lo >>> 0) + 4 * w;
    c.write32(a | 0, a > 0xffffffff ? (hi + 1) | 0 : hi, IMG[w]);
  }
}

export function fxrstor(c: Cpu, d: Insn): void {
  const lo = fxCheck(c, d, false), hi = c.hi;
  const n = imageBytes(c), wide = (d.rex & 8) !== 0;
  for (let w = 0; w < n >> 2; w++) {
    const a = (lo >>> 0) + 4 * w;
    IMG[w] = c.read32(a | 0, a > 0xffffffff ? (hi + 1) | 0 : hi);
  }
  if (IMG[6] & ~MXCSR_MASK) c.gp(0);
  const ipHi = wide ? IMG[3] : IMG[3] & 0xffff, dpHi = wide ? IMG[5] : IMG[5] & 0xffff;
  c.fpu = {
    fcw: IMG[0] & 0xffff, fsw: IMG[0] >>> 16, ftw: IMG[1] & 0xff, fop: (IMG[1] >>> 16) & 0x7ff,
    fip: BigInt(ipHi >>> 0) << 32n | BigInt(IMG[2] >>> 0), fdp: BigInt(dpHi >>> 0) << 32n | BigInt(IMG[4] >>> 0),
  };
  c.mxcsr = IMG[6];
  for (let i = 0; i < 8; i++) {
    for (let b = 0; b < 10; b++) c.fpr[16 * i + b] = IMG8[32 + 16 * i + b];
  }
  for (let w = 40; w < n >> 2; w++) c.xmm[w - 40] = IMG[w];
}

/** LDMXCSR m32: #GP(0) when a bit outside MXCSR_MASK is set. */
export function ldmxcsr(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  const v = readM32(c, d);
  if (v & ~MXCSR_MASK) c.gp(0);
  c.mxcsr = v;
}

export function stmxcsr(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  writeM32(c, d, c.mxcsr);
}
