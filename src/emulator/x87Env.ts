// x87 environment save/restore: FNSTENV/FLDENV (D9 /6, D9 /4) and FNSAVE/FRSTOR (DD /6,
// DD /4), as glibc's fenv.h functions use them. Protected- and long-mode layouts (SDM vol. 1
// figures 8-9/8-10): 28 bytes with 32/64-bit operand size (reserved halves stored as FFFF,
// as Intel parts do), 14 bytes with a 66 prefix; FNSAVE/FRSTOR add ST0-7 (10 bytes each).
// The real-mode/virtual-8086 layouts are not modelled: there these instructions raise #UD.
// The full tag word is derived from the abridged tag and the register contents.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { Vec } from './exceptions';
import { CR0_EM, CR0_TS, CR0_NE, CR0_PE } from './paging';
import { VM } from './flags';

const BUF = new Uint8Array(108);
const DV = new DataView(BUF.buffer);

function envCheck(c: Cpu, d: Insn, waiting: boolean): void {
  if (d.lock || !(c.cr0 & CR0_PE) || (c.flags & VM)) c.raise(Vec.UD);
  if (c.cr0 & (CR0_EM | CR0_TS)) c.raise(Vec.NM);
  if (waiting && (c.fpu.fsw & 0x80) && (c.cr0 & CR0_NE)) c.raise(Vec.MF);
}

/** Tag of ST(i): 0 valid, 1 zero, 2 special (NaN, infinity, denormal, unnormal). */
function classify(c: Cpu, st: number): number {
  const o = 16 * st, f = c.fpr;
  const exp = (f[o + 8] | (f[o + 9] << 8)) & 0x7fff;
  let mant = 0;
  for (let b = 0; b < 8; b++) mant |= f[o + b];
  if (exp === 0) return mant === 0 ? 1 : 2;
  if (exp === 0x7fff || !(f[o + 7] & 0x80)) return 2;
  return 0;
}

/** The full 16-bit tag word (2 bits per physical register) from the abridged FXSAVE form. */
function fullTag(c: Cpu): number {
  const top = (c.fpu.fsw >> 11) & 7;
  let tw = 0;
  for (let p = 0; p < 8; p++) tw |= ((c.fpu.ftw >> p) & 1 ? classify(c, (p - top) & 7) : 3) << (2 * p);
  return tw;
}

function lo32(v: bigint): number { return Number(v & 0xffffffffn); }
function sel(v: bigint): number { return Number((v >> 32n) & 0xffffn); }

/** Fills BUF with the environment; returns its size (14 or 28). */
function storeEnv(c: Cpu, d: Insn): number {
  const f = c.fpu, tag = fullTag(c);
  if (d.os === 2) {
    DV.setUint16(0, f.fcw, true); DV.setUint16(2, f.fsw, true); DV.setUint16(4, tag, true);
    DV.setUint16(6, lo32(f.fip) & 0xffff, true); DV.setUint16(8, sel(f.fip), true);
    DV.setUint16(10, lo32(f.fdp) & 0xffff, true); DV.setUint16(12, sel(f.fdp), true);
    return 14;
  }
  DV.setUint32(0, 0xffff0000 | f.fcw, true); DV.setUint32(4, 0xffff0000 | f.fsw, true); DV.setUint32(8, 0xffff0000 | tag, true);
  DV.setUint32(12, lo32(f.fip), true); DV.setUint32(16, sel(f.fip) | ((f.fop & 0x7ff) << 16), true);
  DV.setUint32(20, lo32(f.fdp), true); DV.setUint32(24, 0xffff0000 | sel(f.fdp), true);
  return 28;
}

function loadEnv(c: Cpu, d: Insn): number {
  let fcw: number, fsw: number, tag: number, ip: number, cs: number, fop: number, dp: number, ds: number, n: number;
  if (d.os === 2) {
    fcw = DV.getUint16(0, true); fsw = DV.getUint16(2, true); tag = DV.getUint16(4, true);
    ip = DV.getUint16(6, true); cs = DV.getUint16(8, true); dp = DV.getUint16(10, true); ds = DV.getUint16(12, true);
    fop = c.fpu.fop; n = 14;
  } else {
    fcw = DV.getUint16(0, true); fsw = DV.getUint16(4, true); tag = DV.getUint16(8, true);
    ip = DV.getUint32(12, true); cs = DV.getUint16(16, true); fop = DV.getUint16(18, true) & 0x7ff;
    dp = DV.getUint32(20, true); ds = DV.getUint16(24, true); n = 28;
  }
  let ftw = 0;
  for (let p = 0; p < 8; p++) if (((tag >> (2 * p)) & 3) !== 3) ftw |= 1 << p;
  fcw = (fcw & 0x1f3f) | 0x40;
  // ES and B summarise the loaded exception flags that the loaded control word leaves unmasked.
  fsw = fsw & ~0x8080;
  if (fsw & ~fcw & 0x3f) fsw |= 0x8080;
  c.fpu = { fcw, fsw, ftw, fop, fip: BigInt(cs) << 32n | BigInt(ip >>> 0), fdp: BigInt(ds) << 32n | BigInt(dp >>> 0) };
  return n;
}

/** Writes BUF[0..n) at d's memory operand after checking that every byte is writable. */
function writeBuf(c: Cpu, d: Insn, n: number): void {
  const lo = c.ea(d, n, true), hi = c.hi;
  c.probeWrite(lo, hi, n);
  for (let k = 0; k < n; k++) { const a = (lo >>> 0) + k; c.write8(a | 0, a > 0xffffffff ? (hi + 1) | 0 : hi, BUF[k]); }
}

function readBuf(c: Cpu, d: Insn, n: number): void {
  const lo = c.ea(d, n, false), hi = c.hi;
  for (let k = 0; k < n; k++) { const a = (lo >>> 0) + k; BUF[k] = c.read8(a | 0, a > 0xffffffff ? (hi + 1) | 0 : hi); }
}

/** FNSTENV: stores the environment, then masks all x87 exceptions. */
export function fnstenv(c: Cpu, d: Insn): void {
  envCheck(c, d, false);
  writeBuf(c, d, storeEnv(c, d));
  c.fpu.fcw |= 0x3f;
}

export function fldenv(c: Cpu, d: Insn): void {
  envCheck(c, d, true);
  readBuf(c, d, d.os === 2 ? 14 : 28);
  loadEnv(c, d);
}

/** FNSAVE: environment and ST0-7, then the FNINIT state. */
export function fnsave(c: Cpu, d: Insn): void {
  envCheck(c, d, false);
  const n = storeEnv(c, d);
  for (let i = 0; i < 8; i++) for (let b = 0; b < 10; b++) BUF[n + 10 * i + b] = c.fpr[16 * i + b];
  writeBuf(c, d, n + 80);
  c.fpu = { fcw: 0x037f, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n };
}

export function frstor(c: Cpu, d: Insn): void {
  envCheck(c, d, true);
  const n = d.os === 2 ? 14 : 28;
  readBuf(c, d, n + 80);
  loadEnv(c, d);
  for (let i = 0; i < 8; i++) for (let b = 0; b < 10; b++) c.fpr[16 * i + b] = BUF[n + 10 * i + b];
}
