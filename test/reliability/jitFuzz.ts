// Translator fuzzer: random 64-bit and flat 32-bit programs (test/emulator/jitProgram.ts) run
// with block translation on and off in the same random run(N) slices, with MMIO exits, an
// interrupt and debugger stops (test/emulator/jitLockstep.ts). A finding is any difference after
// a slice (exit, count, RIP, GPRs, RFLAGS, exception, memory) or an InternalError; replay it
// with VPDBG_JIT_SEED=<seed> node scripts/test.mjs jitDiff.
import { generateJitProgram } from '../emulator/jitProgram';
import { JitMismatch, runJitDiff } from '../emulator/jitLockstep';
import { campaign, type FuzzOptions, type FuzzReport } from './fuzzKit';

export function fuzzJit(opts: FuzzOptions): FuzzReport {
  return campaign('jit', opts, (seed) => {
    try {
      return runJitDiff(generateJitProgram(seed)).outcome;
    } catch (e) {
      // The report keeps a few lines: the seed, the slice and the differing fields (the replay prints the rest).
      if (e instanceof JitMismatch) throw new Error(e.message.split('\n').slice(0, 4).join(' | '));
      throw e;
    }
  });
}
