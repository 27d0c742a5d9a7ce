// V8 settings for processes that run translated blocks (the CLI and the debug adapter).
//
// A translated self-loop (jit/translator.ts) runs a million guest instructions per call, so
// V8 optimizes it by on-stack replacement. With OSR compiled concurrently, the loop is
// entered at whatever iteration the background compile finishes, and about one run in three
// ended up in code ~30% slower (bench.elf's alu kernel: 430 against 600 MIPS, bimodal across
// identical runs). Compiling OSR code on the main thread costs a few milliseconds once and
// makes every run take the fast tier.
import { setFlagsFromString } from 'node:v8';

let applied = false;

/** Call once at process start, before any guest runs. */
export function steadyJitTiering(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--no-concurrent-osr');
}
