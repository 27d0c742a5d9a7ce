// Fixed-seed runs of the fuzzers (the long campaigns are `npm run fuzz`): each must end with
// zero findings; a finding prints its seed for replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZERS } from './fuzzers';
import type { FuzzReport } from './fuzzKit';

function check(r: FuzzReport): void {
  console.log(`${r.name}: ${r.cases} cases, ${r.findings.length} findings; outcomes ${JSON.stringify(r.notes)}`);
  assert.deepEqual(r.findings, []);
}

// jit: test/emulator/jitDiff.test.ts runs its own fixed seed set; a few cases here check the wiring.
const CASES: Record<string, number> = { cpu: 200, loaders: 300, hypercalls: 300, expressions: 1500, jit: 10 };

for (const [name, fuzz] of Object.entries(FUZZERS)) {
  test(`fuzz ${name} (fixed seed, ${CASES[name]} cases): no finding`, { timeout: 120_000 }, () => {
    check(fuzz({ seed: 20261122, cases: CASES[name] }));
  });
}
