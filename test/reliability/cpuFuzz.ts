// CPU fuzzer: random instruction bytes (biased towards prefixes, REX and two-byte opcodes) run
// from random register state in every mode — real, 16- and 32-bit protected, compatibility and
// 64-bit, at CPL 0 and 3 where the mode has rings. Every exit is completed the way a VMM may
// complete it (random I/O and MMIO read data, #GP or a random value for MSRs). Allowed outcomes:
// guest exits and exceptions. Findings: an InternalError exit, anything thrown out of the Cpu's
// VMM interface, or a run() that does not return within its instruction budget.
import { Cpu } from '../../src/emulator/cpu';
import { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { CpuExitReason, MemoryAccessType, Seg } from '../../src/emulator/vcpu';
import { campaign, hex, Rng, type FuzzOptions, type FuzzReport } from './fuzzKit';

export const CPU_MODES = ['real', 'prot16', 'prot32', 'compat', 'long64'] as const;
export type CpuMode = (typeof CPU_MODES)[number];

const RAM = 4 * 2 ** 20;
const CODE = 0x7000;
const GDT = 0x20000, IDT = 0x21000, TSS = 0x22000, PML4 = 0x10000;
/** Selectors of the GDT below (user ones with RPL 3). */
const SEL = { code64: 0x08, data: 0x10, code32: 0x18, code16: 0x20, data16: 0x28, ucode64: 0x33, udata: 0x3b, ucode32: 0x43, ucode16: 0x4b, tss: 0x50 };
const GDT_ENTRIES = [0n, 0x00af9b000000ffffn, 0x00cf93000000ffffn, 0x00cf9b000000ffffn, 0x00009b000000ffffn, 0x000093000000ffffn,
  0x00affb000000ffffn, 0x00cff3000000ffffn, 0x00cffb000000ffffn, 0x0000fb000000ffffn,
  0x00008b0000000067n | (BigInt(TSS & 0xffff) << 16n) | (BigInt((TSS >> 16) & 0xff) << 32n), 0n];
/** Prefixes and opcode bytes that reach the decoder's less common paths. */
const INTERESTING = [0x0f, 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x40, 0x41, 0x44, 0x48, 0x4c, 0x4f,
  0xc4, 0xc5, 0x62, 0x8f, 0xd8, 0xd9, 0xdb, 0xdd, 0xdf, 0xcd, 0xcf, 0xca, 0xea, 0x9a, 0xff, 0x8e, 0x01, 0x38, 0x3a, 0xae, 0xc7, 0xa5, 0xab];

function w64(mem: PhysicalMemory, gpa: number, v: bigint): void {
  const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); mem.write(gpa, b);
}

function randomCode(r: Rng): Uint8Array {
  const code = r.bytes(4096);
  // Bias the first instructions towards prefixes and escape bytes.
  for (let i = 0; i < 48; i++) if (r.bool(0.4)) code[i] = r.pick(INTERESTING);
  return code;
}

/** A fresh Cpu in `mode` at `cpl` with random general registers and the code page at CODE. */
function setup(r: Rng, mode: CpuMode, cpl: 0 | 3): { cpu: Cpu; memory: PhysicalMemory } {
  const memory = new PhysicalMemory();
  memory.mapRam(0, RAM, { read: true, write: true, execute: true });
  GDT_ENTRIES.forEach((e, i) => w64(memory, GDT + 8 * i, e));
  // Identity map of the first GiB (2 MiB user pages) for compatibility and 64-bit mode.
  w64(memory, PML4, BigInt(PML4 + 0x1000) | 7n);
  w64(memory, PML4 + 0x1000, BigInt(PML4 + 0x2000) | 7n);
  for (let i = 0; i < 512; i++) w64(memory, PML4 + 0x2000 + 8 * i, (BigInt(i) << 21n) | 0x87n);
  w64(memory, TSS + 4, 0x70000n); // RSP0
  // IDT gates (when exceptions are delivered rather than exiting) point into the code page.
  for (let v = 0; v < 32; v++) {
    const target = BigInt(CODE + r.int(4096));
    if (mode === 'real') { w64(memory, v * 4, target & 0xffffn); continue; }
    const lo = (target & 0xffffn) | (BigInt(mode === 'long64' || mode === 'compat' ? SEL.code64 : SEL.code32) << 16n)
      | (0x8en << 40n) | (BigInt(r.int(4) << 5) << 40n) | ((target >> 16n) << 48n);
    w64(memory, IDT + (mode === 'long64' || mode === 'compat' ? 16 : 8) * v, lo);
  }
  memory.write(CODE, randomCode(r));

  const cpu = new Cpu(memory, { vpIndex: 0 });
  const long = mode === 'compat' || mode === 'long64';
  if (mode !== 'real') {
    cpu.setGdtr({ base: BigInt(GDT), limit: GDT_ENTRIES.length * 8 - 1 });
    cpu.setIdtr({ base: BigInt(IDT), limit: long ? 32 * 16 - 1 : 32 * 8 - 1 });
    cpu.setTr({ selector: SEL.tss, base: BigInt(TSS), limit: 0x67, attributes: 0x8b });
    if (long) {
      cpu.setCr(4, 0x20n | 0x200n | 0x600n);
      cpu.setCr(3, BigInt(PML4));
      if (!cpu.setMsr(0xc0000080, 0xd01n)) throw new Error('EFER refused');
      cpu.setCr(0, 0x80000033n);
    } else cpu.setCr(0, 0x33n);
  } else cpu.setIdtr({ base: 0n, limit: 0x3ff });
  const user = cpl === 3;
  const code = {
    real: { selector: 0, attributes: 0x9b, limit: 0xffff },
    prot16: { selector: user ? SEL.ucode16 : SEL.code16, attributes: user ? 0xfb : 0x9b, limit: 0xffff },
    prot32: { selector: user ? SEL.ucode32 : SEL.code32, attributes: user ? 0xc0fb : 0xc09b, limit: 0xffffffff },
    compat: { selector: user ? SEL.ucode32 : SEL.code32, attributes: user ? 0xc0fb : 0xc09b, limit: 0xffffffff },
    long64: { selector: user ? SEL.ucode64 : SEL.code64, attributes: user ? 0xa0fb : 0xa09b, limit: 0xffffffff },
  }[mode];
  cpu.setSegment(Seg.CS, { ...code, base: 0n });
  const data = mode === 'real' ? { selector: 0, attributes: 0x93, limit: 0xffff }
    : mode === 'prot16' && !user ? { selector: SEL.data16, attributes: 0x93, limit: 0xffff }
      : { selector: user ? SEL.udata : SEL.data, attributes: user ? 0xc0f3 : 0xc093, limit: 0xffffffff };
  for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) cpu.setSegment(s, { ...data, base: 0n });
  for (let g = 0; g < 16; g++) {
    // Half the registers point into RAM, so memory operands hit both RAM and unmapped space.
    cpu.setGpr(g, r.bool(0.5) ? BigInt(r.int(RAM)) : r.bool(0.5) ? BigInt(r.u32()) : r.u64());
  }
  cpu.setGpr(4, BigInt(0x60000 + r.int(0x1000)));
  cpu.setRflags(2n | (r.bool(0.5) ? 0x200n : 0n) | (r.bool(0.2) ? 0x40000n : 0n) | (r.bool(0.1) ? 0x100n : 0n) | BigInt(r.int(2) * 0x3000 & 0x3000) | BigInt(r.u32() & 0xcd5));
  cpu.setRip(BigInt(CODE));
  // Half the cases exit on every exception; the others deliver through the IDT (double and triple faults included).
  cpu.setExceptionExitBitmap(r.bool(0.5) ? 0xffffffff : 0);
  return { cpu, memory };
}

/** Budget of one case (instructions) and of one run() call. */
const CASE_BUDGET = 3000, SLICE = 700;

function runCase(seed: number, mode: CpuMode, cpl: 0 | 3): string {
  const r = new Rng(seed);
  const { cpu } = setup(r, mode, cpl);
  const where = `${mode} cpl${cpl} seed ${seed}`;
  for (let calls = 0; calls < 64; calls++) {
    if (cpu.instructionCount >= CASE_BUDGET) return 'budget';
    const before = cpu.instructionCount;
    let reason: CpuExitReason;
    try {
      reason = cpu.run(SLICE);
    } catch (e) {
      throw new Error(`${where}: run() threw: ${(e as Error).stack ?? String(e)}`);
    }
    if (cpu.instructionCount - before > SLICE) throw new Error(`${where}: run(${SLICE}) retired ${cpu.instructionCount - before}`);
    const x = cpu.exit;
    try {
      switch (reason) {
        case CpuExitReason.InternalError:
          throw new Error(`${where}: InternalError: ${x.message.split('\n')[0]} (bytes ${hex(x.instructionBytes.subarray(0, x.instructionLength))})`);
        case CpuExitReason.BudgetExhausted: break;
        case CpuExitReason.IoPort: if (x.io.isWrite) cpu.completeIo(); else cpu.completeIo(r.u32()); break;
        case CpuExitReason.MsrAccess: if (r.bool(0.5)) cpu.injectException(13, 0); else cpu.completeMsr(x.msr.isWrite ? undefined : r.u64()); break;
        case CpuExitReason.Cpuid: cpu.completeCpuid(x.cpuid.defaultEax, x.cpuid.defaultEbx, x.cpuid.defaultEcx, x.cpuid.defaultEdx); break;
        case CpuExitReason.MemoryAccess:
          if (x.memory.accessType === MemoryAccessType.Execute) return 'fetch from unmapped';
          if (x.memory.accessType === MemoryAccessType.Write) cpu.completeMemoryAccess(); else cpu.completeMemoryAccess(r.bytes(x.memory.size));
          break;
        case CpuExitReason.Hypercall: cpu.skipInstruction(); break;
        case CpuExitReason.Exception:
          if (r.bool(0.3)) cpu.injectException(x.exception.vector, x.exception.hasErrorCode ? x.exception.errorCode : undefined);
          else return `#${x.exception.vector}`;
          break;
        default: return CpuExitReason[reason] ?? `reason ${reason}`;
      }
    } catch (e) {
      if ((e as Error).message.startsWith(where)) throw e;
      throw new Error(`${where}: completing ${CpuExitReason[reason]} threw: ${(e as Error).stack ?? String(e)}`);
    }
  }
  return 'many exits';
}

/** Every mode and ring in turn; the report's notes count the outcomes (exception vectors, exit reasons). */
export function fuzzCpu(opts: FuzzOptions): FuzzReport {
  const combos: [CpuMode, 0 | 3][] = CPU_MODES.flatMap((m) => (m === 'real' ? [[m, 0]] : [[m, 0], [m, 3]]) as [CpuMode, 0 | 3][]);
  let i = 0;
  return campaign('cpu', opts, (seed) => {
    const [mode, cpl] = combos[i++ % combos.length];
    return runCase(seed, mode, cpl);
  });
}

/** Replays one case (for a finding's seed): the mode cycles, so try each. */
export function replayCpuCase(seed: number, mode: CpuMode, cpl: 0 | 3): string { return runCase(seed, mode, cpl); }
