// Test kit: a Cpu on flat RAM in a chosen mode, with a GDT, an IDT whose handlers HLT, and
// (for long mode) identity page tables; code bytes are placed at CODE and run to HLT.

import { Cpu } from '../../src/emulator/cpu';
import { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { CpuExitReason, Seg } from '../../src/emulator/vcpu';

export const CODE = 0x1000;
export const STACK_TOP = 0x80000;
export const PML4 = 0x10000, PDPT = 0x11000, PD = 0x12000, PT = 0x13000;
export const GDT = 0x20000, IDT = 0x21000, TSS = 0x22000;
/** Exception handlers: vector v's handler is a HLT at HANDLERS + v * 16. */
export const HANDLERS = 0x30000;
/** Linear region mapped with 4 KiB pages through PT (0x800000-0x9FFFFF) for paging tests. */
export const SMALL_PAGES = 0x800000;

export const SEL = { code64: 0x08, data: 0x10, code32: 0x18, udata: 0x23, ucode64: 0x2b, tss: 0x30 };

export type Mode = 'real' | 'prot32' | 'long64';

export function w32(mem: PhysicalMemory, gpa: number, v: number): void {
  const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); mem.write(gpa, b);
}
export function w64(mem: PhysicalMemory, gpa: number, v: bigint): void {
  const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); mem.write(gpa, b);
}
export function r64(mem: PhysicalMemory, gpa: number): bigint {
  const b = new Uint8Array(8); mem.read(gpa, b); return new DataView(b.buffer).getBigUint64(0, true);
}

export function makeCpu(mode: Mode, code: number[] | Uint8Array): Cpu {
  const mem = new PhysicalMemory();
  mem.mapRam(0, 16 * 1024 * 1024, { read: true, write: true, execute: true });
  mem.write(CODE, Uint8Array.from(code));
  const cpu = new Cpu(mem, { vpIndex: 0 });
  // GDT: null, 64-bit code, data, 32-bit code, user data, user 64-bit code, TSS (16 bytes).
  const gdt = [0n, 0x00af9a000000ffffn, 0x00cf92000000ffffn, 0x00cf9a000000ffffn, 0x00cff2000000ffffn, 0x00affa000000ffffn];
  gdt.forEach((d, i) => w64(mem, GDT + i * 8, d));
  const tssDesc = 0x0000890000000067n | (BigInt(TSS & 0xffff) << 16n) | (BigInt((TSS >>> 16) & 0xff) << 32n);
  w64(mem, GDT + 0x30, tssDesc); w64(mem, GDT + 0x38, 0n);
  w64(mem, TSS + 4, 0x70000n); // RSP0
  w64(mem, TSS + 0x24, 0x60000n); // IST1
  for (let v = 0; v < 32; v++) mem.write(HANDLERS + v * 16, Uint8Array.of(0xf4, 0xeb, 0xfd));
  cpu.setGdtr({ base: BigInt(GDT), limit: 0x3f });
  if (mode === 'real') {
    cpu.setSegment(Seg.CS, { base: 0n, limit: 0xffff, selector: 0, attributes: 0x9b });
    for (const s of [Seg.DS, Seg.ES, Seg.SS, Seg.FS, Seg.GS]) cpu.setSegment(s, { base: 0n, limit: 0xffff, selector: 0, attributes: 0x93 });
    cpu.setIdtr({ base: 0n, limit: 0x3ff });
    for (let v = 0; v < 32; v++) w32(mem, v * 4, ((HANDLERS >> 4) << 16) | (v * 16));
    cpu.setGpr(4, 0x7000n);
  } else {
    if (mode === 'long64') {
      w64(mem, PML4, BigInt(PDPT | 7)); w64(mem, PDPT, BigInt(PD | 7));
      for (let i = 0; i < 8; i++) w64(mem, PD + i * 8, BigInt(i * 0x200000 + 0x87));
      w64(mem, PD + 4 * 8, BigInt(PT | 7));
      for (let i = 0; i < 512; i++) w64(mem, PT + i * 8, BigInt(SMALL_PAGES + i * 4096 + 7));
      cpu.setCr(4, 0x20n);
      cpu.setMsr(0xc0000080, 0x900n);
      cpu.setCr(3, BigInt(PML4));
      cpu.setCr(0, 0x80010011n);
      cpu.setSegment(Seg.CS, { base: 0n, limit: 0xffffffff, selector: SEL.code64, attributes: 0xa09b });
      for (let v = 0; v < 32; v++) {
        const h = HANDLERS + v * 16;
        w64(mem, IDT + v * 16, BigInt((h & 0xffff) | (SEL.code64 << 16)) | (BigInt(((h >>> 16) << 16) | 0x8e00) << 32n));
        w64(mem, IDT + v * 16 + 8, 0n);
      }
      cpu.setIdtr({ base: BigInt(IDT), limit: 32 * 16 - 1 });
      cpu.setTr({ base: BigInt(TSS), limit: 0x67, selector: SEL.tss, attributes: 0x8b });
    } else {
      cpu.setCr(0, 0x11n);
      cpu.setSegment(Seg.CS, { base: 0n, limit: 0xffffffff, selector: SEL.code32, attributes: 0xc09b });
      for (let v = 0; v < 32; v++) {
        const h = HANDLERS + v * 16;
        w64(mem, IDT + v * 8, BigInt((h & 0xffff) | (SEL.code32 << 16)) | (BigInt(((h >>> 16) << 16) | 0x8e00) << 32n));
      }
      cpu.setIdtr({ base: BigInt(IDT), limit: 32 * 8 - 1 });
    }
    for (const s of [Seg.DS, Seg.ES, Seg.SS, Seg.FS, Seg.GS]) cpu.setSegment(s, { base: 0n, limit: 0xffffffff, selector: SEL.data, attributes: 0xc093 });
    cpu.setGpr(4, BigInt(STACK_TOP));
  }
  cpu.setRip(BigInt(CODE));
  cpu.setRflags(2n);
  return cpu;
}

/** Runs to the next exit other than a budget slice; fails on runaway code. */
export function runToExit(cpu: Cpu, max = 1e6): CpuExitReason {
  const r = cpu.run(max);
  if (r === CpuExitReason.BudgetExhausted) throw new Error('guest did not exit');
  return r;
}

/** Runs code to HLT and returns the CPU; throws if it stops for another reason. */
export function runCode(mode: Mode, code: number[], setup?: (cpu: Cpu) => void): Cpu {
  const cpu = makeCpu(mode, [...code, 0xf4]);
  setup?.(cpu);
  const r = runToExit(cpu);
  if (r !== CpuExitReason.Halt) throw new Error(`stopped with reason ${r} at ${cpu.getRip().toString(16)}: ${cpu.exit.message}`);
  return cpu;
}

export const FLAGS = { CF: 1n, PF: 4n, AF: 0x10n, ZF: 0x40n, SF: 0x80n, TF: 0x100n, IF: 0x200n, DF: 0x400n, OF: 0x800n };
/** The six arithmetic flags of RFLAGS. */
export function arith(cpu: Cpu): bigint { return cpu.getRflags() & 0x8d5n; }
