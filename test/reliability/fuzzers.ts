// The in-process fuzzers, by name (scripts/fuzz.mjs runs each for a time budget; fuzz.test.ts
// runs each with a fixed seed). The DAP fuzz runs in test/debugAdapter/dapFuzz.test.ts.
import { fuzzCpu } from './cpuFuzz';
import { fuzzLoaders } from './loaderFuzz';
import { fuzzHypercalls } from './hypercallFuzz';
import { fuzzExpressions } from './expressionFuzz';
import { fuzzJit } from './jitFuzz';
import type { FuzzOptions, FuzzReport } from './fuzzKit';

export const FUZZERS: Record<string, (opts: FuzzOptions) => FuzzReport> = {
  cpu: fuzzCpu,
  loaders: fuzzLoaders,
  hypercalls: fuzzHypercalls,
  expressions: fuzzExpressions,
  jit: fuzzJit,
};
