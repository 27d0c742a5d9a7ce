// Helpers for the SSE/x87 tests: a long-mode CPU (cpuKit) with CR4.OSFXSR/OSXMMEXCPT set,
// float <-> bit-pattern conversions, and the exception vector a run ended in.

import { makeCpu, runToExit, HANDLERS } from './cpuKit';
import type { Cpu } from '../../src/emulator/cpu';
import { CpuExitReason } from '../../src/emulator/vcpu';

export const DATA = 0x5000;
/** mov rsi, DATA (so [rsi] addresses the data area). */
export const LEA_DATA = [0x48, 0xc7, 0xc6, DATA & 0xff, DATA >> 8, 0, 0];

const buf = new ArrayBuffer(16);
const dv = new DataView(buf);

export function f32bits(v: number): number { dv.setFloat32(0, v, true); return dv.getUint32(0, true); }
export function bitsf32(b: number): number { dv.setUint32(0, b >>> 0, true); return dv.getFloat32(0, true); }
export function f64bits(v: number): bigint { dv.setFloat64(0, v, true); return dv.getBigUint64(0, true); }
export function bitsf64(b: bigint): number { dv.setBigUint64(0, BigInt.asUintN(64, b), true); return dv.getFloat64(0, true); }

/** An XMM value [low, high] from four 32-bit lanes (lane 0 lowest). */
export function lanes32(a: number, b: number, c: number, d: number): [bigint, bigint] {
  return [BigInt(b >>> 0) << 32n | BigInt(a >>> 0), BigInt(d >>> 0) << 32n | BigInt(c >>> 0)];
}
export function ps(a: number, b: number, c: number, d: number): [bigint, bigint] { return lanes32(f32bits(a), f32bits(b), f32bits(c), f32bits(d)); }
export function pd(a: number, b: number): [bigint, bigint] { return [f64bits(a), f64bits(b)]; }

/** The four 32-bit lanes of an XMM register. */
export function getLanes32(cpu: Cpu, reg: number): number[] {
  const [lo, hi] = cpu.getXmm(reg);
  return [Number(lo & 0xffffffffn), Number(lo >> 32n), Number(hi & 0xffffffffn), Number(hi >> 32n)];
}
export function getPs(cpu: Cpu, reg: number): number[] { return getLanes32(cpu, reg).map(bitsf32); }
export function getPd(cpu: Cpu, reg: number): number[] { const [lo, hi] = cpu.getXmm(reg); return [bitsf64(lo), bitsf64(hi)]; }

export interface SseSetup {
  xmm?: Record<number, [bigint, bigint]>;
  mxcsr?: number;
  gpr?: Record<number, bigint>;
  cr0?: bigint;
  cr4?: bigint;
  data?: Uint8Array;
}

/** Long-mode CPU with CR4.OSFXSR | CR4.OSXMMEXCPT (unless overridden), running `code` then HLT. */
export function sseCpu(code: number[], s: SseSetup = {}): Cpu {
  const cpu = makeCpu('long64', [...LEA_DATA, ...code, 0xf4]);
  cpu.setCr(4, s.cr4 ?? 0x620n);
  if (s.cr0 !== undefined) cpu.setCr(0, s.cr0);
  for (const [r, v] of Object.entries(s.xmm ?? {})) cpu.setXmm(Number(r), v[0], v[1]);
  for (const [r, v] of Object.entries(s.gpr ?? {})) cpu.setGpr(Number(r), v);
  if (s.mxcsr !== undefined) cpu.setMxcsr(s.mxcsr);
  if (s.data) cpu.mem.write(DATA, s.data);
  return cpu;
}

/** Runs to HLT; returns the exception vector taken (-1 when the code's own HLT was reached). */
export function run(cpu: Cpu): number {
  const r = runToExit(cpu);
  if (r !== CpuExitReason.Halt) throw new Error(`stopped with reason ${r}: ${cpu.exit.message}`);
  const rip = Number(cpu.getRip()) - 1;
  return rip >= HANDLERS && rip < HANDLERS + 32 * 16 ? (rip - HANDLERS) / 16 : -1;
}

/** Runs `code` with the setup; throws if an exception was taken. */
export function sse(code: number[], s: SseSetup = {}): Cpu {
  const cpu = sseCpu(code, s);
  const v = run(cpu);
  if (v >= 0) throw new Error(`exception ${v} at ${cpu.getRip().toString(16)}`);
  return cpu;
}

export function readData(cpu: Cpu, off: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  cpu.mem.read(DATA + off, b);
  return b;
}
