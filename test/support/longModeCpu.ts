// A Cpu already in 64-bit long mode (CPL 0 or 3, flat segments, identity paging of the first
// GiB with 2 MiB pages), set up directly through the VirtualCpu setters — the state a
// kernel has after its own long-mode switch. Used by tests that run bare instruction
// sequences without writing a boot path.

import { Cpu } from '../../src/emulator/cpu';
import { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { Seg } from '../../src/emulator/vcpu';

export const PML4_ADDRESS = 0x1000;
const GDT_ADDRESS = 0x4000;
export const EFER = 0xc0000080;
export const CR0_PE = 1n, CR0_MP = 2n, CR0_ET = 0x10n, CR0_NE = 0x20n, CR0_WP = 0x10000n, CR0_AM = 0x40000n, CR0_PG = 0x80000000n;
export const CR4_PAE = 0x20n, CR4_OSFXSR = 0x200n, CR4_OSXMMEXCPT = 0x400n;
export const EFER_SCE = 1n, EFER_LME = 0x100n, EFER_LMA = 0x400n, EFER_NXE = 0x800n;

export interface LongModeSetup { cpu: Cpu; memory: PhysicalMemory }
export interface LongModeOptions {
  /** Top of RAM (sparse). Default 0x10100000. */
  ramTop?: number;
  /** Run at CPL 3 (CS 0x33, SS/DS/ES 0x2B, RFLAGS.IF=1, CR0.AM=1), the state a Linux user process sees. */
  user?: boolean;
}

function put64(memory: PhysicalMemory, gpa: number, value: bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, value, true);
  memory.write(gpa, b);
}

/** RAM from 0 to `ramTop` (sparse), identity-mapped (user, writable, executable) up to 1 GiB. */
export function createLongModeCpu(opts: LongModeOptions = {}): LongModeSetup {
  const ramTop = opts.ramTop ?? 0x10100000;
  const memory = new PhysicalMemory();
  memory.mapRam(0, ramTop, { read: true, write: true, execute: true });
  put64(memory, PML4_ADDRESS, 0x2000n | 7n);
  put64(memory, 0x2000, 0x3000n | 7n);
  for (let i = 0; i < 512; i++) put64(memory, 0x3000 + 8 * i, (BigInt(i) << 21n) | 0x87n);
  // GDT: null, 64-bit code (0x08), data (0x10), then Linux's user selectors: 32-bit code
  // (0x23), data (0x2B), 64-bit code (0x33) — present so far transfers and IRET work.
  put64(memory, GDT_ADDRESS, 0n);
  put64(memory, GDT_ADDRESS + 8, 0x00af9b000000ffffn);
  put64(memory, GDT_ADDRESS + 16, 0x00cf93000000ffffn);
  put64(memory, GDT_ADDRESS + 24, 0n);
  put64(memory, GDT_ADDRESS + 32, 0x00cffb000000ffffn);
  put64(memory, GDT_ADDRESS + 40, 0x00cff3000000ffffn);
  put64(memory, GDT_ADDRESS + 48, 0x00affb000000ffffn);
  const cpu = new Cpu(memory, { vpIndex: 0 });
  enterLongMode(cpu, opts.user ?? false);
  return { cpu, memory };
}

export function enterLongMode(cpu: Cpu, user = false): void {
  cpu.setGdtr({ base: BigInt(GDT_ADDRESS), limit: 55 });
  cpu.setIdtr({ base: 0n, limit: 0 });
  cpu.setCr(4, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
  cpu.setCr(3, BigInt(PML4_ADDRESS));
  if (!cpu.setMsr(EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) throw new Error('Cpu refused EFER = LME|LMA|NXE|SCE');
  cpu.setCr(0, CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG | (user ? CR0_AM : 0n));
  cpu.setSegment(Seg.CS, user
    ? { selector: 0x33, base: 0n, limit: 0xffffffff, attributes: 0xa0fb }
    : { selector: 0x08, base: 0n, limit: 0xffffffff, attributes: 0xa09b });
  for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) {
    cpu.setSegment(s, user
      ? { selector: 0x2b, base: 0n, limit: 0xffffffff, attributes: 0xc0f3 }
      : { selector: 0x10, base: 0n, limit: 0xffffffff, attributes: 0xc093 });
  }
  cpu.setRflags(user ? 0x202n : 2n);
}
