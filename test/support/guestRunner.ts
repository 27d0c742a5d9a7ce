// A minimal VMM over Cpu + PhysicalMemory for guest-level CPU tests: loads a multiboot v1
// image, sets the multiboot entry state through the Cpu's setters, and services the exits a
// test guest produces (COM1 output, LSR polling, isa-debug-exit on port 0xF4, CPUID with the
// CPU model's defaults, #GP for MSRs the CPU does not implement). It deliberately does not use
// src/machine, so these tests isolate the CPU.

import { Cpu } from '../../src/emulator/cpu';
import { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { CpuExitReason, Seg } from '../../src/emulator/vcpu';
import { parseMultiboot } from './multiboot';

export interface GuestRunOptions {
  /** Instruction limit (the run stops with stop = 'instruction limit'). Default 50 M. */
  maxInstructions?: number;
  memoryBytes?: number;
}

export interface GuestRunResult {
  serial: string;
  /** Value written to port 0xF4 (QEMU's isa-debug-exit makes the process exit with value*2+1). */
  exitCode?: number;
  /** Why the run ended: 'debug-exit', 'halt', 'triple fault', 'instruction limit', or the exit reason and message. */
  stop: string;
  instructions: number;
  /** Seconds spent in cpu.run(). */
  seconds: number;
}

const MBI_ADDRESS = 0x9000;
const COM1 = 0x3f8;

export function runMultibootGuest(image: Uint8Array, opts: GuestRunOptions = {}): GuestRunResult {
  const memoryBytes = opts.memoryBytes ?? 128 * 1024 * 1024;
  const maxInstructions = opts.maxInstructions ?? 50_000_000;
  const memory = new PhysicalMemory();
  memory.mapRam(0, memoryBytes, { read: true, write: true, execute: true });
  const mb = parseMultiboot(image);
  for (const s of mb.segments) {
    if (!memory.write(s.gpa, s.data)) throw new Error(`segment at 0x${s.gpa.toString(16)} outside RAM`);
    if (s.memSize > s.data.length) memory.write(s.gpa + s.data.length, new Uint8Array(s.memSize - s.data.length));
  }
  // Multiboot information: flags bit 0 (mem_lower/mem_upper in KiB).
  const mbi = new DataView(new ArrayBuffer(16));
  mbi.setUint32(0, 1, true);
  mbi.setUint32(4, 639, true);
  mbi.setUint32(8, (memoryBytes - 0x100000) / 1024, true);
  memory.write(MBI_ADDRESS, new Uint8Array(mbi.buffer));

  const cpu = new Cpu(memory, { vpIndex: 0 });
  cpu.setCr(0, 0x11n); // PE | ET, paging off
  cpu.setSegment(Seg.CS, { selector: 0x10, base: 0n, limit: 0xffffffff, attributes: 0xc09b });
  for (const s of [Seg.DS, Seg.ES, Seg.SS, Seg.FS, Seg.GS]) cpu.setSegment(s, { selector: 0x18, base: 0n, limit: 0xffffffff, attributes: 0xc093 });
  cpu.setRflags(2n);
  cpu.setRip(BigInt(mb.entry));
  cpu.setGpr(0, 0x2badb002n);
  cpu.setGpr(3, BigInt(MBI_ADDRESS));

  let serial = '';
  let exitCode: number | undefined;
  let stop = '';
  const started = process.hrtime.bigint();
  while (!stop) {
    const remaining = maxInstructions - cpu.instructionCount;
    if (remaining <= 0) { stop = 'instruction limit'; break; }
    const reason = cpu.run(Math.min(remaining, 1_000_000));
    const exit = cpu.exit;
    switch (reason) {
      case CpuExitReason.BudgetExhausted: break;
      case CpuExitReason.IoPort: {
        const { port, isWrite, value } = exit.io;
        if (isWrite) {
          if (port === COM1) serial += String.fromCharCode(value & 0xff);
          if (port === 0xf4) { exitCode = value & 0xff; stop = 'debug-exit'; }
          cpu.completeIo();
        } else {
          // LSR: transmitter empty; other COM1 registers read 0; unclaimed ports float high.
          cpu.completeIo(port === COM1 + 5 ? 0x60 : port >= COM1 && port <= COM1 + 7 ? 0 : 0xffffffff);
        }
        break;
      }
      case CpuExitReason.Cpuid: {
        const c = exit.cpuid;
        cpu.completeCpuid(c.defaultEax, c.defaultEbx, c.defaultEcx, c.defaultEdx);
        break;
      }
      case CpuExitReason.MsrAccess: cpu.injectException(13, 0); break;
      case CpuExitReason.Halt: stop = 'halt'; break;
      case CpuExitReason.TripleFault: stop = 'triple fault'; break;
      default: stop = `${CpuExitReason[reason]}: ${exit.message} (rip 0x${cpu.getRip().toString(16)})`;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { serial, exitCode, stop, instructions: cpu.instructionCount, seconds };
}
