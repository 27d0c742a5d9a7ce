// Differential test of the block translator (src/emulator/jit): random 64-bit and flat 32-bit
// programs (jitProgram.ts) run with translation on and off in the same random run(N) slices
// must agree after every slice on the exit, count, RIP, GPRs, RFLAGS, exception and memory
// (jitLockstep.ts). A fixed seed set runs here; `npm run fuzz -- --only jit` runs many more.
// Replay one seed with its disassembly: VPDBG_JIT_SEED=<seed> node scripts/test.mjs jitDiff
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseSeed } from '../reliability/fuzzKit';
import { disassemble, generateJitProgram } from './jitProgram';
import { JitMismatch, runJitDiff } from './jitLockstep';
import { makeCpu, PT, SMALL_PAGES, w64 } from './cpuKit';
import { CpuExitReason, MemoryAccessType } from '../../src/emulator/vcpu';

const replay = process.env.VPDBG_JIT_SEED;
const SEEDS = replay !== undefined ? [Number(replay) >>> 0] : Array.from({ length: 64 }, (_, i) => caseSeed(20261122, i));

test(`translated code matches the interpreter on ${SEEDS.length} random programs, slice by slice`, { timeout: 120_000 }, () => {
  if (replay !== undefined) console.log(disassemble(generateJitProgram(SEEDS[0])));
  const outcomes: Record<string, number> = {};
  const totals = { loops: 0, calls: 0, smc: 0, crossPageBranches: 0, straddling: 0, interrupts: 0, mmio: 0, stops: 0, protectedMode: 0, userMode: 0 };
  let instructions = 0, slices = 0;
  for (const seed of SEEDS) {
    const p = generateJitProgram(seed);
    const r = runJitDiff(p);
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    instructions += r.instructions; slices += r.slices; totals.interrupts += r.interrupts; totals.mmio += r.mmio; totals.stops += r.stops; totals.protectedMode += p.bits === 32 ? 1 : 0; totals.userMode += p.user ? 1 : 0;
    for (const k of ['loops', 'calls', 'smc', 'crossPageBranches', 'straddling'] as const) totals[k] += p.stats[k];
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

/** `prefix; mov rbx, M; <rmw> qword [rbx]...; hlt` with M an MMIO page; returns each run()'s exit and RFLAGS. */
function mmioRmw(jit: boolean, prefix: number[], rmw: number[], readValue: number): string[] {
  const m = SMALL_PAGES + 0x5000;
  const c = makeCpu('long64', [...prefix, 0x48, 0xbb, ...Array.from({ length: 8 }, (_, i) => Math.floor(m / 2 ** (8 * i)) & 0xff), ...rmw, 0xf4]);
  w64(c.mem, PT + 5 * 8, 0x2000000n | 7n); // linear M -> a GPA above RAM
  c.jitThreshold = jit ? 0 : -1;
  const log: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = c.run(1e6);
    log.push(`${CpuExitReason[r]} ${r === CpuExitReason.MemoryAccess ? (c.exit.memory.accessType === MemoryAccessType.Write ? 'write ' : 'read ') : ''}rflags ${c.getRflags().toString(16)}`);
    if (r !== CpuExitReason.MemoryAccess) break;
    c.completeMemoryAccess(c.exit.memory.accessType === MemoryAccessType.Write ? undefined : Uint8Array.of(readValue, 0, 0, 0, 0, 0, 0, 0));
  }
  return log;
}

// Regression tests for the bugs this differential test found (fixed in a2c7a54).
// The interpreter's ALU handlers set the lazy flags before the write-back, so at an MMIO write
// exit of ADD [mmio] RFLAGS showed the unretired ADD's flags (translated code: the flags before it).
test('at the MMIO write exit of ADD [mmio], 1 both sides show the pre-instruction RFLAGS', () => {
  const xorEaxEax = [0x31, 0xc0], addQword1 = [0x48, 0x83, 0x03, 0x01];
  const jit = mmioRmw(true, xorEaxEax, addQword1, 6), interp = mmioRmw(false, xorEaxEax, addQword1, 6);
  assert.deepEqual(interp, jit);
  assert.deepEqual(interp.slice(0, 2), ['MemoryAccess read rflags 46', 'MemoryAccess write rflags 46'], 'one 8-byte read, then the write with ZF|PF of XOR: the ADD has not retired');
});

// Same root cause, on both sides: an RMW that reads CF (ADC/SBB/RCL/RCR [mmio]) re-executed
// after its write completed took the CF its own first attempt produced. STC; ADC [mmio], 0
// with 6 read writes 7 and must retire with the flags of 6+0+1 (not of 6+0+0, PF set).
test('ADC [mmio] retires with the flags of the value it wrote', () => {
  for (const jit of [true, false]) {
    const log = mmioRmw(jit, [0xf9 /* stc */], [0x48, 0x83, 0x13, 0x00 /* adc qword [rbx], 0 */], 6);
    assert.equal(log[log.length - 1], 'Halt rflags 2', `${jit ? 'jit' : 'interpreter'}: ${log.join(' | ')}`);
  }
});

/** Runs `code` (at cpuKit's CODE) to HLT with a read watchpoint on 0x4000, collecting each stop. */
function watchedRun(jit: boolean, code: number[], setup?: (c: ReturnType<typeof makeCpu>) => void): string[] {
  const c = makeCpu('long64', code);
  c.jitThreshold = jit ? 0 : -1;
  c.mem.write(0x4000, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x40));
  setup?.(c);
  c.setWatchpoints([{ address: 0x4000n, size: 4, read: true, write: false, physical: false }]);
  const out: string[] = [];
  for (let i = 0; i < 12; i++) {
    const r = c.run(1e6);
    out.push(`${CpuExitReason[r]} at ${c.instructionCount} rip +${(c.getRip() - 0x1000n).toString(16)} rflags ${c.getRflags().toString(16)}`);
    if (r !== CpuExitReason.Watchpoint) break;
  }
  return out;
}

// Translated code treated the flags of an instruction with a memory operand as dead when a later
// instruction of the block overwrites them, but a watchpoint on that operand stops right after
// it: the stop showed the flags from before it.
test('a watchpoint stop after CMP [rsi], edi shows its flags', () => {
  // mov esi, 0x4000 / cmp [rsi], edi / xor eax, eax / hlt   (edi = 3)
  const code = [0xbe, 0x00, 0x40, 0x00, 0x00, 0x39, 0x3e, 0x31, 0xc0, 0xf4];
  const setup = (c: ReturnType<typeof makeCpu>): void => c.setGpr(7, 3n);
  assert.deepEqual(watchedRun(true, code, setup), watchedRun(false, code, setup));
});

// In a page region, the break check after a memory access left through exitAt(k + 1), which
// chained into the region's block at the next instruction when one starts there (here X, a
// jump target), so the watchpoint stop was skipped.
test('a watchpoint inside a region stops right after the watched read every time', () => {
  // 0: mov ecx,6 / 5: mov esi,0x4000 / a: L: mov eax,[rsi] / c: X: add ebx,1 / f: dec ecx / 11: jz E
  // 13: test cl,1 / 16: jnz X / 18: jmp L / 1a: E: hlt
  const code = [0xb9, 6, 0, 0, 0, 0xbe, 0, 0x40, 0, 0, 0x8b, 0x06, 0x83, 0xc3, 0x01, 0xff, 0xc9, 0x74, 0x07, 0xf6, 0xc1, 0x01, 0x75, 0xf4, 0xeb, 0xf0, 0xf4];
  const jit = watchedRun(true, code);
  assert.deepEqual(jit, watchedRun(false, code));
  assert.equal(jit.filter((s) => s.startsWith('Watchpoint')).length, 3, 'a stop after each of the 3 reads (odd counts enter at X)');
});
