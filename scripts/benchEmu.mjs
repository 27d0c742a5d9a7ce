// Emulator speed on the bench guest, per kernel: bundles a small runner with esbuild and
// runs bench.elf on the bare CPU (no partition/machine layers), timing each kernel from its
// checksum line on COM1 (the instruction count and the clock are read at every newline).
//
//   node scripts/benchEmu.mjs [path/to/bench.elf] [--interp] [--runs N]
//
// --interp disables block translation (interpreter only) for comparison. Figures are wall
// time on a shared machine: compare runs taken at the same time.
import * as esbuild from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
const interp = args.includes('--interp');
const runsIdx = args.indexOf('--runs');
const runs = runsIdx >= 0 ? Number(args[runsIdx + 1]) : 1;
const image = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs') ?? '/work/shared/bench/bench.elf');
const root = resolve(new URL('..', import.meta.url).pathname);

const entry = `
import { multibootCpu } from ${JSON.stringify(join(root, 'test/emulator/multibootHarness.ts'))};
import { CpuExitReason } from ${JSON.stringify(join(root, 'src/emulator/vcpu.ts'))};
import { steadyJitTiering } from ${JSON.stringify(join(root, 'src/emulator/jit/hostTiering.ts'))};
steadyJitTiering(); // as the CLI and the adapter do
const KERNELS = ['alu', 'sieve', 'fib', 'copy'];
const cpu = multibootCpu(${JSON.stringify(image)});
if (${interp}) cpu.jitThreshold = -1;
const marks = [];
let line = '';
const t0 = process.hrtime.bigint();
let start = -1;
for (;;) {
  const reason = cpu.run(1e7);
  if (reason === CpuExitReason.BudgetExhausted) continue;
  if (reason !== CpuExitReason.IoPort) { console.error('stopped: reason ' + reason + ' ' + cpu.exit.message); process.exit(1); }
  const io = cpu.exit.io;
  const now = process.hrtime.bigint();
  if (start < 0) start = 0;
  if (io.isWrite && io.port === 0x3f8) {
    const ch = String.fromCharCode(io.value & 0xff);
    if (ch === '\\n') { marks.push({ t: Number(now - t0) / 1e9, n: cpu.instructionCount, line }); line = ''; } else line += ch;
    cpu.completeIo(); continue;
  }
  if (!io.isWrite && io.port === 0x3fd) { cpu.completeIo(0x60); continue; }
  if (io.isWrite && io.port === 0xf4) { cpu.completeIo(); break; }
  cpu.completeIo(io.isWrite ? undefined : 0xff);
}
const total = Number(process.hrtime.bigint() - t0) / 1e9;
let pt = 0, pn = 0;
const rows = marks.map((m, i) => { const r = { kernel: KERNELS[i] ?? 'k' + i, checksum: m.line, minstr: (m.n - pn) / 1e6, seconds: m.t - pt }; pt = m.t; pn = m.n; return r; });
console.log(JSON.stringify({ rows, total, instructions: cpu.instructionCount }));
`;

const dir = mkdtempSync(join(tmpdir(), 'vpdbg-bench-'));
const src = join(dir, 'entry.ts');
writeFileSync(src, entry);
const out = join(dir, 'bench.js');
await esbuild.build({ entryPoints: [src], bundle: true, platform: 'node', target: 'node20', outfile: out, logLevel: 'warning' });

console.log(`bench: ${image} (${interp ? 'interpreter only' : 'translated blocks'}), node ${process.version}`);
console.log('kernel   checksum           M instr   seconds      MIPS');
for (let r = 0; r < runs; r++) {
  const res = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8', maxBuffer: 1 << 20 }));
  for (const row of res.rows) {
    console.log(`${row.kernel.padEnd(8)} ${row.checksum.padEnd(18)} ${row.minstr.toFixed(2).padStart(8)} ${row.seconds.toFixed(3).padStart(9)} ${(row.minstr / row.seconds).toFixed(1).padStart(9)}`);
  }
  console.log(`${'total'.padEnd(8)} ${''.padEnd(18)} ${(res.instructions / 1e6).toFixed(2).padStart(8)} ${res.total.toFixed(3).padStart(9)} ${(res.instructions / 1e6 / res.total).toFixed(1).padStart(9)}`);
}
