// Differential test of the block translator (src/emulator/jit): random 64-bit programs
// (jitProgram.ts) run with translation on and off in the same random run(N) slices must agree
// after every slice on the exit, count, RIP, GPRs, RFLAGS, exception and memory
// (jitLockstep.ts). A fixed seed set runs here; `npm run fuzz -- --only jit` runs many more.
// Replay one seed with its disassembly: VPDBG_JIT_SEED=<seed> node scripts/test.mjs jitDiff
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseSeed } from '../reliability/fuzzKit';
import { disassemble, generateJitProgram } from './jitProgram';
import { JitMismatch, runJitDiff } from './jitLockstep';

const replay = process.env.VPDBG_JIT_SEED;
const SEEDS = replay !== undefined ? [Number(replay) >>> 0] : Array.from({ length: 64 }, (_, i) => caseSeed(20261122, i));

test(`translated code matches the interpreter on ${SEEDS.length} random programs, slice by slice`, { timeout: 120_000 }, () => {
  if (replay !== undefined) console.log(disassemble(generateJitProgram(SEEDS[0])));
  const outcomes: Record<string, number> = {};
  const totals = { loops: 0, calls: 0, smc: 0, crossPageBranches: 0, straddling: 0 };
  let instructions = 0, slices = 0;
  for (const seed of SEEDS) {
    const p = generateJitProgram(seed);
    const r = runJitDiff(p);
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    instructions += r.instructions; slices += r.slices;
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += p.stats[k];
  }
  console.log(`jitDiff: ${SEEDS.length} programs, ${instructions} instructions in ${slices} slices; outcomes ${JSON.stringify(outcomes)}; ${JSON.stringify(totals)}`);
  if (replay !== undefined) return;
  // The fixed set must exercise what the translator chains and what must stay precise.
  assert.ok(outcomes.Halt >= SEEDS.length / 2, 'most programs run to their HLT');
  const vectors = Object.keys(outcomes).filter((k) => k.startsWith('#'));
  assert.ok(outcomes['#14'] > 0 && vectors.length >= 3, `exception exits are compared (${vectors.join(' ')})`);
  for (const [k, v] of Object.entries(totals)) assert.ok(v > SEEDS.length / 10, `${k}: ${v}`);
});

test('the generator is deterministic and its programs stay inside their code pages', () => {
  for (const seed of [1, 2, 3]) {
    const a = generateJitProgram(seed), b = generateJitProgram(seed);
    assert.deepEqual(a.code, b.code);
    assert.deepEqual(a.gprs, b.gprs);
    assert.equal(disassemble(a), disassemble(b));
    for (const s of a.segments) assert.ok(s.start + s.length <= 0x200000 + a.codePages * 0x1000, s.name);
  }
});

test('a difference is reported with the seed, the field and the disassembly', () => {
  const p = generateJitProgram(7);
  assert.throws(() => runJitDiff(p, { perturb: (jit) => jit.setRflags(jit.getRflags() ^ 1n) }), (e: unknown) => {
    assert.ok(e instanceof JitMismatch);
    assert.match(e.message, /seed 7 \(jitThreshold \d\)/);
    assert.match(e.message, /rflags: jit 0x[0-9a-f]+, interpreter 0x[0-9a-f]+/);
    assert.match(e.message, /VPDBG_JIT_SEED=7/);
    assert.match(e.message, /segment main/);
    return true;
  });
  // Exits are compared too: a jit side stopped by a breakpoint differs in its exit reason.
  assert.throws(() => runJitDiff(p, { perturb: (jit) => jit.setInstructionBreakpoints([jit.getRip()]) }), /exit reason: jit Breakpoint/);
});
