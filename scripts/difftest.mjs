// Larger differential run of the emulator against the host CPU (test/emulator/differential).
//   node scripts/build.mjs --tests && node scripts/difftest.mjs --count 20000 --seed 7 [--only add,adc] [--sse] [--show 10]
// (--sse mixes SSE/SSE2 forms into the default integer selection; --only may name SSE mnemonics
// too, and `--only sse` selects all of them; --bits 32 runs the cases in compatibility mode.)
// Prints how many cases ran and mismatched, the culprit instructions, and the first reports.
// `--bench [file]` instead runs ../shared/bench/bench.elf (231 M instructions, too long for
// `npm test`) through the CPU-only guest runner and checks its 4 checksum lines.
// Exit status: 0 all agreed, 1 mismatches, 2 cannot run here.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    only: { type: 'string' },
    show: { type: 'string', default: '10' },
    bench: { type: 'boolean', default: false },
    sse: { type: 'boolean', default: false },
    bits: { type: 'string', default: '64' },
  },
  allowPositionals: true,
});
const compiled = 'out/test/emulator/differential/difftest.js';
if (!existsSync(compiled)) {
  console.error(`${compiled} not found: run \`node scripts/build.mjs --tests\` first`);
  process.exit(2);
}
if (values.bench) {
  const file = positionals[0] ?? '../shared/bench/bench.elf';
  const { runMultibootGuest } = createRequire(import.meta.url)(resolve('out/test/support/guestRunner.js'));
  const expected = file.endsWith('bench-tiny.elf')
    ? 'c00ce196f47148b8\n00000000000000a8\n0000000000000037\n2b002b002c012602\n'
    : 'eac2cd841121bd7d\n000000000001ff18\n000000000002ff42\n4d039cfd5db6074c\n';
  const r = runMultibootGuest(readFileSync(file), { maxInstructions: 400_000_000 });
  process.stdout.write(r.serial);
  console.log(`${file}: stop ${r.stop}, exit code 0x${(r.exitCode ?? 0).toString(16)}, ${r.instructions} instructions in ${r.seconds.toFixed(2)} s (${(r.instructions / r.seconds / 1e6).toFixed(1)} MIPS)`);
  const ok = r.serial === expected && r.exitCode === 0x10;
  console.log(ok ? 'output matches the expected 4 lines' : 'OUTPUT DIFFERS from the expected 4 lines');
  process.exit(ok ? 0 : 1);
}
const { runDifferential, culpritHistogram } = createRequire(import.meta.url)(resolve(compiled));
const { SSE_MNEMONICS } = createRequire(import.meta.url)(resolve('out/test/emulator/differential/generator.js'));
const seed = Number(values.seed), count = Number(values.count), show = Number(values.show);
// `--only sse` names every SSE/SSE2 mnemonic the generator knows.
const only = values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()).flatMap((m) => (m === 'sse' ? [...SSE_MNEMONICS] : [m])) : undefined;
const started = Date.now();
const r = runDifferential({ seed, count, only, sse: values.sse, bits: values.bits === '32' ? 32 : 64 });
if (typeof r === 'string') { console.error(`skipped: ${r}`); process.exit(2); }
const seconds = (Date.now() - started) / 1000;
for (const m of r.mismatches.slice(0, show)) console.log(`${m.report}\n`);
console.log(`seed ${seed}: ${r.ran} cases ran (${r.formCount} instruction forms, ${r.hostFaults} faulted on the host), ${r.mismatches.length} mismatched, ${seconds.toFixed(1)} s`);
if (r.mismatches.length) {
  console.log(`culprits: ${culpritHistogram(r.mismatches).map(([k, n]) => `${k}×${n}`).join(', ')}`);
}
process.exit(r.mismatches.length ? 1 : 0);
