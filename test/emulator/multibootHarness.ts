// Test harness: loads a multiboot (v1) ELF32 kernel into PhysicalMemory, puts a Cpu in
// the multiboot entry state and services its port I/O (COM1 output, line status, and the
// isa-debug-exit port 0xF4) the way a VMM would, through completeIo().

import { readFileSync } from 'node:fs';
import { Cpu } from '../../src/emulator/cpu';
import { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { CpuExitReason, Seg } from '../../src/emulator/vcpu';

export interface GuestRun {
  serial: string;
  exitCode: number | undefined;
  reason: CpuExitReason;
  cpu: Cpu;
  /** Instructions retired from the entry point to the end of the run. */
  instructions: number;
  seconds: number;
}

/** Loads the PT_LOAD segments of an ELF32 image; returns the entry point. */
export function loadElf32(mem: PhysicalMemory, image: Uint8Array): number {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (v.getUint32(0, false) !== 0x7f454c46 || image[4] !== 1) throw new Error('not an ELF32 image');
  const phoff = v.getUint32(0x1c, true), phentsize = v.getUint16(0x2a, true), phnum = v.getUint16(0x2c, true);
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (v.getUint32(p, true) !== 1) continue;
    const offset = v.getUint32(p + 4, true), paddr = v.getUint32(p + 12, true);
    const filesz = v.getUint32(p + 16, true), memsz = v.getUint32(p + 20, true);
    const seg = new Uint8Array(memsz);
    seg.set(image.subarray(offset, offset + filesz));
    if (!mem.write(paddr, seg)) throw new Error(`segment at 0x${paddr.toString(16)} is outside RAM`);
  }
  return v.getUint32(0x18, true);
}

const FLAT_CODE = { base: 0n, limit: 0xffffffff, selector: 0x10, attributes: 0xc09b };
const FLAT_DATA = { base: 0n, limit: 0xffffffff, selector: 0x18, attributes: 0xc093 };

/** Multiboot entry state: 32-bit protected mode, flat segments, paging off, EAX = 0x2BADB002. */
export function multibootCpu(path: string, ramBytes = 64 * 1024 * 1024): Cpu {
  const mem = new PhysicalMemory();
  mem.mapRam(0, ramBytes, { read: true, write: true, execute: true });
  const entry = loadElf32(mem, readFileSync(path));
  const cpu = new Cpu(mem, { vpIndex: 0 });
  cpu.setCr(0, 0x11n);
  cpu.setSegment(Seg.CS, FLAT_CODE);
  for (const s of [Seg.DS, Seg.ES, Seg.SS, Seg.FS, Seg.GS]) cpu.setSegment(s, FLAT_DATA);
  cpu.setGpr(0, 0x2badb002n);
  cpu.setGpr(3, 0x9000n); // multiboot info pointer (unused by the bench)
  cpu.setRip(BigInt(entry));
  cpu.setRflags(2n);
  return cpu;
}

/** Runs until the guest writes port 0xF4, halts, or something else stops it. */
export function runGuest(cpu: Cpu, maxInstructions = 2e9, slice = 1e7): GuestRun {
  let serial = '';
  let exitCode: number | undefined;
  const start = cpu.instructionCount;
  const t0 = process.hrtime.bigint();
  let reason: CpuExitReason = CpuExitReason.BudgetExhausted;
  while (cpu.instructionCount - start < maxInstructions) {
    reason = cpu.run(slice);
    if (reason === CpuExitReason.BudgetExhausted) continue;
    if (reason === CpuExitReason.IoPort) {
      const io = cpu.exit.io;
      if (io.isWrite && io.port === 0x3f8) { serial += String.fromCharCode(io.value & 0xff); cpu.completeIo(); continue; }
      if (!io.isWrite && io.port === 0x3fd) { cpu.completeIo(0x60); continue; }
      if (io.isWrite && io.port === 0xf4) { exitCode = ((io.value & 0xff) << 1) | 1; cpu.completeIo(); break; }
      cpu.completeIo(io.isWrite ? undefined : 0xff);
      continue;
    }
    break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { serial, exitCode, reason, cpu, instructions: cpu.instructionCount - start, seconds };
}
