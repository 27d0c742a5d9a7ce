// Runs differential cases in the emulator: one long-mode Cpu at CPL 3 (like the host side, a
// Linux process: RFLAGS.IF=1, CR0.AM=1), reused for every case (as a debugger reuses one VP
// while it rewrites memory), code at CODE_ADDRESS followed by HLT, every exception vector set
// to exit before delivery so faults are compared, not handled. The HLT's #GP(0) at CPL 3 is
// the end marker.

import { CpuExitReason, Seg } from '../../../src/emulator/vcpu';
import { createLongModeCpu, type LongModeSetup } from '../../support/longModeCpu';
import { CODE_ADDRESS, SCRATCH_ADDRESS, SCRATCH_SIZE, type DiffCase } from './generator';

export interface EmuResult {
  reason: CpuExitReason;
  /** Exception vector for Exception exits. */
  vector: number;
  rip: bigint;
  gprs: bigint[];
  rflags: bigint;
  mxcsr: number;
  xmm: Uint8Array;
  memory: Uint8Array;
  /** Exception message when run() threw, or exit.message. */
  error?: string;
}

export class EmuRunner {
  private readonly setup: LongModeSetup = createLongModeCpu({ user: true });

  constructor() {
    this.setup.cpu.setExceptionExitBitmap(0xffffffff);
  }

  run(c: DiffCase): EmuResult {
    const { cpu, memory } = this.setup;
    const code = new Uint8Array(c.code.length + 1);
    code.set(c.code);
    code[c.code.length] = 0xf4; // HLT: its #GP at CPL 3 marks the end of the sequence
    memory.write(CODE_ADDRESS, code);
    memory.write(SCRATCH_ADDRESS, c.memory);
    for (let i = 0; i < 16; i++) cpu.setGpr(i, c.gprs[i]);
    cpu.setRflags(c.rflags | 0x200n);
    const xv = new DataView(c.xmm.buffer, c.xmm.byteOffset, 256);
    for (let i = 0; i < 16; i++) cpu.setXmm(i, xv.getBigUint64(i * 16, true), xv.getBigUint64(i * 16 + 8, true));
    cpu.setMxcsr(c.mxcsr);
    cpu.setSegment(Seg.CS, c.bits === 64
      ? { selector: 0x33, base: 0n, limit: 0xffffffff, attributes: 0xa0fb }
      : { selector: 0x23, base: 0n, limit: 0xffffffff, attributes: 0xc0fb });
    cpu.setRip(BigInt(CODE_ADDRESS));
    if (cpu.getPendingEvent()) cpu.clearPendingException();
    const result: EmuResult = {
      reason: CpuExitReason.InternalError, vector: -1, rip: 0n, gprs: [], rflags: 0n, mxcsr: 0, xmm: new Uint8Array(256), memory: new Uint8Array(SCRATCH_SIZE),
    };
    try {
      result.reason = cpu.run(c.steps.length + 64 * 9); // REP iterations count one each
      if (result.reason === CpuExitReason.Exception) {
        result.vector = cpu.exit.exception.vector;
        cpu.clearPendingException();
        if (result.vector === 13 && cpu.getRip() === BigInt(CODE_ADDRESS + c.code.length)) result.reason = CpuExitReason.Halt;
      } else if (result.reason !== CpuExitReason.Halt) {
        result.error = cpu.exit.message;
      }
    } catch (e) {
      result.error = `run() threw: ${(e as Error).stack ?? e}`;
    }
    result.rip = cpu.getRip();
    result.gprs = Array.from({ length: 16 }, (_, i) => cpu.getGpr(i));
    result.rflags = cpu.getRflags();
    result.mxcsr = cpu.getMxcsr();
    const out = new DataView(result.xmm.buffer);
    for (let i = 0; i < 16; i++) {
      const [lo, hi] = cpu.getXmm(i);
      out.setBigUint64(i * 16, lo, true);
      out.setBigUint64(i * 16 + 8, hi, true);
    }
    memory.read(SCRATCH_ADDRESS, result.memory);
    return result;
  }
}
