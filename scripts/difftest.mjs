// Larger differential run of the emulator against the host CPU (test/emulator/differential).
//   node scripts/build.mjs --tests && node scripts/difftest.mjs --count 20000 --seed 7 [--only add,adc] [--show 10]
// Prints how many cases ran and mismatched, the culprit instructions, and the first reports.
// Exit status: 0 all agreed, 1 mismatches, 2 cannot run here.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    only: { type: 'string' },
    show: { type: 'string', default: '10' },
  },
});
const compiled = 'out/test/emulator/differential/difftest.js';
if (!existsSync(compiled)) {
  console.error(`${compiled} not found: run \`node scripts/build.mjs --tests\` first`);
  process.exit(2);
}
const { runDifferential, culpritHistogram } = createRequire(import.meta.url)(resolve(compiled));
const seed = Number(values.seed), count = Number(values.count), show = Number(values.show);
const only = values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()) : undefined;
const started = Date.now();
const r = runDifferential({ seed, count, only });
if (typeof r === 'string') { console.error(`skipped: ${r}`); process.exit(2); }
const seconds = (Date.now() - started) / 1000;
for (const m of r.mismatches.slice(0, show)) console.log(`${m.report}\n`);
console.log(`seed ${seed}: ${r.ran} cases ran (${r.formCount} instruction forms, ${r.hostFaults} faulted on the host), ${r.mismatches.length} mismatched, ${seconds.toFixed(1)} s`);
if (r.mismatches.length) {
  console.log(`culprits: ${culpritHistogram(r.mismatches).map(([k, n]) => `${k}×${n}`).join(', ')}`);
}
process.exit(r.mismatches.length ? 1 : 0);
