// `npm run bench`: the performance figures of issue 8 for this machine, measured with the
// production bundles in dist/ (build first: `node scripts/build.mjs`), printed as a table
// with one row per figure, fixed labels and order, and the target beside each.
// Misses never fail the run; it exits non-zero only if something crashed.
//
//   node scripts/bench.mjs [--quick] [--json]
//
// --quick: bench-tiny.elf instead of bench.elf, one round, few latency samples, no
// QEMU/unicorn (a smoke test of the harness; the figures mean little).
//
// After the bench.elf sections, section bench32: the same four kernels in 32-bit protected
// mode with paging off (test/fixtures/guests/bench32.elf, source test/guests/bench32.asm),
// per-kernel MIPS and QEMU TCG on the same image; --quick runs bench32-tiny.elf.
//
// Then section serial: a kernel logging 1 MiB over COM1, polling the line status register
// before each byte (test/fixtures/guests/perf-serial.bin, source test/guests/perf-serial.asm):
// two port accesses per byte, served in-process, and again with every access an exit (the
// debugger's I/O exit filter on), and with every exit filter on but the I/O filter's condition
// naming a port the guest never uses (PortNumber == 0x80: only that port is reported, the UART
// stays in-process); --quick runs perf-serial-tiny.bin (4 KiB).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureDap } from './benchDap.mjs';
import { measureQemu, measureUnicorn } from './benchRefs.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const benchDir = resolve(root, '..', 'shared', 'bench');
const fullImage = resolve(benchDir, 'bench.elf');
const tinyImage = resolve(benchDir, 'bench-tiny.elf');
const image = quick ? tinyImage : fullImage;
const KERNELS = ['alu', 'sieve', 'fib', 'copy'];
const guests32 = resolve(root, 'test', 'fixtures', 'guests');
const full32 = resolve(guests32, 'bench32.elf');
const tiny32 = resolve(guests32, 'bench32-tiny.elf');
const image32 = quick ? tiny32 : full32;
const imageSerial = resolve(guests32, quick ? 'perf-serial-tiny.bin' : 'perf-serial.bin');
const SERIAL_LINES = quick ? 64 : 16384;
/** Breakpoints of the overhead run: in the hot code's 4 KiB page, past the image's last byte (never executed). */
const BREAKPOINTS = 100;
const BREAKPOINT_BASE = '0x100250';

if (!existsSync(image)) {
  process.stderr.write(`bench: ${image} not found (the shared bench guests live in ../shared/bench beside the repository)\n`);
  process.exit(1);
}

const cfg = quick
  ? { rounds: 1, sessions: 1, samples: 5, pauses: 1, activations: 1, touchPages: 1024, refRuns: 0 }
  : { rounds: 5, sessions: 3, samples: 30, pauses: 5, activations: 5, touchPages: 4096, refRuns: 3 };

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const p90 = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)] : NaN; };

function node(args, nodeFlags = []) {
  const r = spawnSync(process.execPath, [...nodeFlags, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

// ---- rows ------------------------------------------------------------------------------
/** Every row the table has, in order: [section, label, unit, target]. Values are filled in below. */
const ROWS = [
  ['emulation', 'instructions retired', 'M', ''],
  ...KERNELS.flatMap((k) => [
    ['emulation', `${k} MIPS (cpu time)`, 'MIPS', ''],
    ['emulation', `${k} MIPS (wall time)`, 'MIPS', ''],
  ]),
  ['emulation', 'total MIPS (cpu time)', 'MIPS', '>= 350, path to >= 1000'],
  ['emulation', 'total MIPS (wall time)', 'MIPS', '>= 350, path to >= 1000'],
  ['emulation', 'guest seconds (cpu time)', 's', ''],
  ['emulation', 'guest seconds (wall time)', 's', ''],
  ['emulation', 'peak RSS of the bench run', 'MiB', ''],
  ['overhead', `${BREAKPOINTS} breakpoints + all exit filters, cpu time ratio`, 'x', '<= 1.05'],
  ['overhead', `${BREAKPOINTS} breakpoints + all exit filters, wall time ratio`, 'x', '<= 1.05'],
  ['overhead', 'exits the filters saw (none matched)', 'exits', ''],
  ['latency', 'launch to stopped on entry (adapter spawn incl.)', 'ms', '<= 300'],
  ['latency', 'stepIn round trip median', 'ms', '<= 2'],
  ['latency', 'stepIn round trip p90', 'ms', ''],
  ['latency', 'scopes+variables, all register groups, median', 'ms', '<= 5'],
  ['latency', 'scopes+variables, all register groups, p90', 'ms', ''],
  ['latency', 'register groups expanded', 'groups', ''],
  ['latency', 'pause of a spinning guest median', 'ms', '<= 100'],
  ['memory', 'RSS after launch, 64 GiB partition', 'MiB', '< 150'],
  ['memory', 'RSS before the partition (runtime + bundle)', 'MiB', ''],
  ['memory', 'pages touched by the guest (spread over 60 GiB)', 'pages', ''],
  ['memory', 'RSS growth per touched page', 'KiB', 'grows only with touched pages'],
  ['memory', 'RSS growth per touched page (consecutive pages)', 'KiB', ''],
  ['startup', 'extension activation (load + activate) median', 'ms', '< 50'],
  ['startup', 'extension bundle load median', 'ms', ''],
  ['startup', 'activate() median', 'ms', ''],
  ['reference', 'QEMU TCG guest seconds (cpu time)', 's', ''],
  ['reference', 'QEMU TCG guest seconds (wall time)', 's', ''],
  ['reference', 'QEMU TCG MIPS (cpu time)', 'MIPS', ''],
  ['reference', 'vpdbg / QEMU speed (cpu time)', 'x', ''],
  ['reference', 'unicorn guest seconds (cpu time)', 's', ''],
  ['reference', 'unicorn guest seconds (wall time)', 's', ''],
  ['reference', 'unicorn MIPS (cpu time)', 'MIPS', ''],
  ['reference', 'vpdbg / unicorn speed (cpu time)', 'x', '>= 1'],
  ['bench32', 'bench32 instructions retired', 'M', ''],
  ...KERNELS.flatMap((k) => [
    ['bench32', `bench32 ${k} MIPS (cpu time)`, 'MIPS', ''],
    ['bench32', `bench32 ${k} MIPS (wall time)`, 'MIPS', ''],
  ]),
  ['bench32', 'bench32 total MIPS (cpu time)', 'MIPS', ''],
  ['bench32', 'bench32 total MIPS (wall time)', 'MIPS', ''],
  ['bench32', 'bench32 guest seconds (cpu time)', 's', ''],
  ['bench32', 'bench32 guest seconds (wall time)', 's', ''],
  ['bench32', 'bench32 QEMU TCG guest seconds (cpu time)', 's', ''],
  ['bench32', 'bench32 QEMU TCG guest seconds (wall time)', 's', ''],
  ['bench32', 'bench32 QEMU TCG MIPS (cpu time)', 'MIPS', ''],
  ['bench32', 'bench32 vpdbg / QEMU speed (cpu time)', 'x', ''],
  ['serial', 'COM1 output, LSR polled per byte (cpu time)', 'KiB/s', ''],
  ['serial', 'COM1 output, LSR polled per byte (wall time)', 'KiB/s', ''],
  ['serial', 'port accesses served per second (cpu time)', 'acc/s', ''],
  ['serial', 'COM1 output, every access an exit (I/O filter on)', 'KiB/s', ''],
  ['serial', 'exits per second, every access an exit (cpu time)', 'exits/s', ''],
  ['serial', 'COM1 output, I/O filter on another port (cpu time)', 'KiB/s', ''],
  ['serial', 'I/O filter on another port / no filter, cpu time ratio', 'x', '<= 1.05'],
];
const values = new Map();
const notes = new Map();
const set = (label, value) => values.set(label, value);

// ---- 1 and 2: emulation, plain and with idle breakpoints/filters (alternating rounds) ------
const plainRuns = [], loadedRuns = [];
for (let r = 0; r < cfg.rounds; r++) {
  plainRuns.push(node(['dist/cli.js', 'bench', image, '--json']));
  loadedRuns.push(node(['dist/cli.js', 'bench', image, '--json', '--breakpoints', String(BREAKPOINTS), '--breakpoint-base', BREAKPOINT_BASE, '--exit-filters']));
}
for (const run of [...plainRuns, ...loadedRuns]) {
  if (run.status !== 33 || run.lines.length !== 4) throw new Error(`bench run ended wrong: ${run.end} (${run.lines.length} lines)`);
}
const bestOf = (runs) => runs.reduce((a, b) => (b.cpuSeconds < a.cpuSeconds ? b : a));
const plain = bestOf(plainRuns);
const loaded = bestOf(loadedRuns);
const mips = (n, s) => n / s / 1e6;
set('instructions retired', plain.instructions / 1e6);
plain.lines.forEach((l, i) => {
  set(`${KERNELS[i]} MIPS (cpu time)`, mips(l.instructions, l.cpuSeconds));
  set(`${KERNELS[i]} MIPS (wall time)`, mips(l.instructions, l.seconds));
});
set('total MIPS (cpu time)', mips(plain.instructions, plain.cpuSeconds));
set('total MIPS (wall time)', mips(plain.instructions, plain.seconds));
set('guest seconds (cpu time)', plain.cpuSeconds);
set('guest seconds (wall time)', plain.seconds);
set('peak RSS of the bench run', Math.max(...plainRuns.map((p) => p.peakRssBytes)) / 2 ** 20);
set(`${BREAKPOINTS} breakpoints + all exit filters, cpu time ratio`, loaded.cpuSeconds / plain.cpuSeconds);
set(`${BREAKPOINTS} breakpoints + all exit filters, wall time ratio`, Math.min(...loadedRuns.map((x) => x.seconds)) / Math.min(...plainRuns.map((x) => x.seconds)));
set('exits the filters saw (none matched)', loaded.reportedExits);

// ---- 3: debugger latency -----------------------------------------------------------------
const dap = await measureDap({ root, sessions: cfg.sessions, samples: cfg.samples, pauses: cfg.pauses });
set('launch to stopped on entry (adapter spawn incl.)', median(dap.launch));
set('stepIn round trip median', median(dap.stepIn));
set('stepIn round trip p90', p90(dap.stepIn));
set('scopes+variables, all register groups, median', median(dap.view));
set('scopes+variables, all register groups, p90', p90(dap.view));
set('register groups expanded', dap.groups);
set('pause of a spinning guest median', median(dap.pause));

// ---- 4: memory ---------------------------------------------------------------------------
const mem = node(['dist/cli.js', 'bench', '--memory-probe', '--memory', '64G', '--touch-pages', String(cfg.touchPages), '--json'], ['--expose-gc']);
if (mem.end !== 'halted') throw new Error(`memory probe guest ended with ${mem.end}`);
set('RSS after launch, 64 GiB partition', mem.rssLaunchBytes / 2 ** 20);
set('RSS before the partition (runtime + bundle)', mem.rssBaseBytes / 2 ** 20);
set('pages touched by the guest (spread over 60 GiB)', mem.touchedPages);
set('RSS growth per touched page', mem.growthPerPageBytes / 1024);
const dense = node(['dist/cli.js', 'bench', '--memory-probe', '--memory', '64G', '--touch-pages', String(cfg.touchPages), '--touch-stride', '4096', '--json'], ['--expose-gc']);
if (dense.end !== 'halted') throw new Error(`memory probe guest ended with ${dense.end}`);
set('RSS growth per touched page (consecutive pages)', dense.growthPerPageBytes / 1024);

// ---- 5: startup --------------------------------------------------------------------------
const acts = Array.from({ length: cfg.activations }, () => node(['scripts/benchActivation.mjs', root]));
set('extension activation (load + activate) median', median(acts.map((a) => a.loadMs + a.activateMs)));
set('extension bundle load median', median(acts.map((a) => a.loadMs)));
set('activate() median', median(acts.map((a) => a.activateMs)));

// ---- 6: reference engines ----------------------------------------------------------------
const versions = [];
if (quick) {
  notes.set('QEMU', 'skipped: --quick');
  notes.set('unicorn', 'skipped: --quick');
} else {
  // One block of rows per reference engine, under the same labels every run.
  const reference = (note, label, r) => {
    if (r.skipped) { notes.set(note, r.skipped); return; }
    versions.push(r.version);
    set(`${label} guest seconds (cpu time)`, r.cpu);
    set(`${label} guest seconds (wall time)`, r.wall);
    set(`${label} MIPS (cpu time)`, mips(plain.instructions, r.cpu));
    set(`vpdbg / ${note} speed (cpu time)`, r.cpu / plain.cpuSeconds);
  };
  reference('QEMU', 'QEMU TCG', measureQemu({ image: fullImage, tiny: tinyImage, runs: cfg.refRuns }));
  reference('unicorn', 'unicorn', measureUnicorn({ image: fullImage, runs: cfg.refRuns }));
}

// ---- 7: bench32, the kernels in 32-bit protected mode (paging off) ---------------------------
// Its checksums must match the recorded ones: MIPS of a wrong execution mean nothing, so a
// mismatch leaves the rows empty with the reason and makes the run exit non-zero.
const rows32 = ROWS.filter(([section]) => section === 'bench32').map(([, label]) => label);
const expected32 = readFileSync(image32.replace(/\.elf$/, '.expected'), 'utf8').trimEnd().split('\n');
const runs32 = Array.from({ length: cfg.rounds }, () => node(['dist/cli.js', 'bench', image32, '--json']));
const wrong32 = runs32.find((r) => r.status !== 33 || r.lines.map((l) => l.line).join('\n') !== expected32.join('\n'));
if (wrong32) {
  const why = `wrong run: ${wrong32.end}, lines ${wrong32.lines.map((l) => l.line).join(' ') || 'none'} (expected ${expected32.join(' ')})`;
  for (const label of rows32) notes.set(label, why);
  process.exitCode = 1;
} else {
  const best32 = bestOf(runs32);
  set('bench32 instructions retired', best32.instructions / 1e6);
  best32.lines.forEach((l, i) => {
    set(`bench32 ${KERNELS[i]} MIPS (cpu time)`, mips(l.instructions, l.cpuSeconds));
    set(`bench32 ${KERNELS[i]} MIPS (wall time)`, mips(l.instructions, l.seconds));
  });
  set('bench32 total MIPS (cpu time)', mips(best32.instructions, best32.cpuSeconds));
  set('bench32 total MIPS (wall time)', mips(best32.instructions, best32.seconds));
  set('bench32 guest seconds (cpu time)', best32.cpuSeconds);
  set('bench32 guest seconds (wall time)', best32.seconds);
  const qemuRows = rows32.filter((label) => label.includes('QEMU'));
  if (quick) {
    for (const label of qemuRows) notes.set(label, 'skipped: --quick');
  } else {
    const q = measureQemu({ image: full32, tiny: tiny32, runs: cfg.refRuns });
    if (q.skipped) {
      for (const label of qemuRows) notes.set(label, q.skipped);
    } else {
      set('bench32 QEMU TCG guest seconds (cpu time)', q.cpu);
      set('bench32 QEMU TCG guest seconds (wall time)', q.wall);
      set('bench32 QEMU TCG MIPS (cpu time)', mips(best32.instructions, q.cpu));
      set('bench32 vpdbg / QEMU speed (cpu time)', q.cpu / best32.cpuSeconds);
    }
  }
}

// ---- 8: serial, a kernel logging over COM1 (two port accesses per byte) -----------------------
// The run must print the guest's exact text: a figure of a wrong run means nothing.
const serialLine = (k) => k.toString(16).padStart(8, '0') + ' ' + Array.from({ length: 54 }, (_, j) => String.fromCharCode(65 + ((k + j) % 26))).join('');
const serialRuns = (extra, rounds) => Array.from({ length: rounds }, () => node(['dist/cli.js', 'bench', imageSerial, '--json', ...extra]));
const serialWrong = (r) => r.status !== 1 || r.lines.length !== SERIAL_LINES || r.lines.some((l, k) => l.line !== serialLine(k));
const serialBytes = SERIAL_LINES * 64;
const kibps = (s) => serialBytes / 1024 / s;
const inProcess = serialRuns([], cfg.rounds);
const exitPath = serialRuns(['--exit-filters'], quick ? 1 : 2);
const otherPort = serialRuns(['--io-filter-port', '0x80'], cfg.rounds);
const wrongSerial = [...inProcess, ...exitPath, ...otherPort].find(serialWrong);
if (wrongSerial) {
  const why = `wrong run: ${wrongSerial.end}, ${wrongSerial.lines.length} lines`;
  for (const [section, label] of ROWS) if (section === 'serial') notes.set(label, why);
  process.exitCode = 1;
} else {
  const best = bestOf(inProcess), bestExits = bestOf(exitPath);
  set('COM1 output, LSR polled per byte (cpu time)', kibps(best.cpuSeconds));
  set('COM1 output, LSR polled per byte (wall time)', kibps(Math.min(...inProcess.map((r) => r.seconds))));
  set('port accesses served per second (cpu time)', (2 * serialBytes + 1) / best.cpuSeconds);
  set('COM1 output, every access an exit (I/O filter on)', kibps(bestExits.cpuSeconds));
  set('exits per second, every access an exit (cpu time)', bestExits.reportedExits / bestExits.cpuSeconds);
  set('COM1 output, I/O filter on another port (cpu time)', kibps(bestOf(otherPort).cpuSeconds));
  set('I/O filter on another port / no filter, cpu time ratio', bestOf(otherPort).cpuSeconds / best.cpuSeconds);
}

// ---- output ------------------------------------------------------------------------------
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown';
const host = {
  commit,
  node: process.version,
  cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
  image: image.replace(`${resolve(root, '..')}/`, '../'),
  image32: image32.replace(`${root}/`, ''),
  imageSerial: imageSerial.replace(`${root}/`, ''),
  quick,
  references: versions,
};
const digits = (unit) => (unit === 'x' ? 3 : unit === 'M' || unit === 'MIPS' || unit === 'MiB' || unit === 'KiB' ? 1 : unit === 's' ? 3 : unit === 'ms' ? 2 : 0);
const rows = ROWS.map(([section, label, unit, target]) => {
  const v = values.get(label);
  return { section, label, value: v === undefined ? null : Number(v.toFixed(digits(unit))), unit, target, note: v === undefined ? notes.get(label) ?? notes.get(/QEMU|unicorn/.exec(label)?.[0]) ?? 'not measured' : undefined };
});

if (json) {
  process.stdout.write(JSON.stringify({ host, rows }, null, 1) + '\n');
} else {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
  const out = [];
  out.push(`vpdbg ${pkg.version} bench (${commit}) node ${process.version}, ${host.cpu}, load average ${host.loadAverage.join(' ')}`);
  out.push(`guest ${host.image}; instructions counted by vpdbg from the multiboot entry, each REP iteration one; MIPS = instructions / seconds`);
  out.push(`bench32 guest ${host.image32}: the same kernels in 32-bit protected mode, paging off`);
  out.push(`serial guest ${host.imageSerial}: ${serialBytes / 1024} KiB to COM1, LSR polled before each byte (two port accesses per byte)`);
  if (versions.length) out.push(`references: ${versions.join('; ')}`);
  out.push('');
  const w = Math.max(...rows.map((r) => r.label.length));
  out.push(`${'section'.padEnd(10)} ${'figure'.padEnd(w)} ${'value'.padStart(10)} ${'unit'.padEnd(6)} target`);
  for (const r of rows) {
    const value = r.value === null ? '-' : r.value.toFixed(digits(r.unit));
    const tail = r.value === null ? `(${r.note})` : r.target ? `(target ${r.target})` : '';
    out.push(`${r.section.padEnd(10)} ${r.label.padEnd(w)} ${value.padStart(10)} ${r.unit.padEnd(6)} ${tail}`.trimEnd());
  }
  process.stdout.write(out.join('\n') + '\n');
}
