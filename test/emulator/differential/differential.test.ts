// Differential test: generated user-mode x86-64 sequences on the host CPU vs the emulator.
// Fixed seed; a larger run is `node scripts/difftest.mjs --count N --seed S`.
// Skipped (with the reason) where no C compiler or no x86-64 Linux host is available.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { culpritHistogram, runDifferential, type DiffSummary } from './difftest';

const SEED = 20261122;
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

// Known CPU bugs found by this test (remove the todo once the family passes).
const SHIFT_BUG = 'CPU: a 32-bit shift/rotate whose masked count is 0 (e.g. 41 c1 c9 00 ror r9d,0; c1 e0 20 shl eax,20h) keeps bits 63:32 instead of zeroing them';
const XCHG_BUG = 'CPU: 49 90 (xchg r8,rax) executes as NOP';
const MOVX_BUG = 'CPU: movzx/movsx r16, AH..BH (66 0f b6 d4 movzx dx,ah) read the wrong byte register';

/** Families get their own seeded run so a broken area shows up by name. todo: known-failing today. */
const families: { name: string; only: string[]; count: number; todo?: string }[] = [
  { name: 'ALU (add/adc/sub/sbb/cmp/and/or/xor/test/neg/not/inc/dec)', count: 300,
    only: ['add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor', 'test', 'neg', 'not', 'inc', 'dec'] },
  { name: 'shifts and rotates (shl/sal/shr/sar/rol/ror/rcl/rcr/shld/shrd)', count: 300, todo: SHIFT_BUG,
    only: ['shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd'] },
  { name: 'mul/imul (all forms)/div/idiv (incl. #DE)', count: 300, only: ['mul', 'imul', 'div', 'idiv'] },
  { name: 'bit operations (bt*/bsf/bsr/lzcnt/tzcnt/popcnt/bswap/movbe)', count: 300,
    only: ['bt', 'bts', 'btr', 'btc', 'bsf', 'bsr', 'lzcnt', 'tzcnt', 'popcnt', 'bswap', 'movbe'] },
  { name: 'exchange (cmpxchg/xadd/xchg, locked)', count: 200, only: ['cmpxchg', 'xadd', 'xchg', 'add', 'sub'], todo: XCHG_BUG },
  { name: 'conditional (cmovcc/setcc/lahf/sahf)', count: 200, only: [...CC.flatMap((c) => [`cmov${c}`, `set${c}`]), 'lahf', 'sahf', 'cmp'] },
  { name: 'moves and extensions (mov/movsx/movzx/movsxd/cbw..cqo/lea)', count: 300,
    only: ['mov', 'movsx', 'movzx', 'movsxd', 'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo', 'lea'], todo: MOVX_BUG },
  { name: 'mixed sequences of everything', count: 2000, only: [], todo: `${SHIFT_BUG}; ${XCHG_BUG}; ${MOVX_BUG}` },
];

function explain(s: DiffSummary): string {
  const hist = culpritHistogram(s.mismatches).map(([k, n]) => `${k}×${n}`).join(', ');
  return `${s.mismatches.length} of ${s.ran} cases mismatched (culprits: ${hist})\n\n${s.mismatches.slice(0, 6).map((m) => m.report).join('\n\n')}`;
}

families.forEach((f, i) => {
  test(`differential vs host CPU: ${f.name}`, { todo: f.todo }, (t) => {
    const result = runDifferential({ seed: SEED + i, count: f.count, only: f.only.length ? f.only : undefined });
    if (typeof result === 'string') { t.skip(result); return; }
    assert.equal(result.ran, f.count);
    assert.equal(result.mismatches.length, 0, explain(result));
  });
});
