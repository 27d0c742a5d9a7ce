// `npm run bench`'s harness in --quick mode: the table has every figure's row, in order,
// with a number (or a skip reason) in each — the shape other commits' tables are compared
// by. No timing is asserted. Needs the production bundles (scripts/build.mjs builds dist/
// before the tests) and the shared bench guests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const tiny = '../shared/bench/bench-tiny.elf';
const skip = !existsSync(tiny) ? `${tiny} not present (the shared bench directory is beside the repository)`
  : !existsSync('dist/debugAdapter.js') ? 'dist/ not built (node scripts/build.mjs)' : false;

const KERNELS = ['alu', 'sieve', 'fib', 'copy'];
const LABELS: [string, string][] = [
  ['emulation', 'instructions retired'],
  ...KERNELS.flatMap((k): [string, string][] => [['emulation', `${k} MIPS (cpu time)`], ['emulation', `${k} MIPS (wall time)`]]),
  ['emulation', 'total MIPS (cpu time)'], ['emulation', 'total MIPS (wall time)'],
  ['emulation', 'guest seconds (cpu time)'], ['emulation', 'guest seconds (wall time)'], ['emulation', 'peak RSS of the bench run'],
  ['overhead', '100 breakpoints + all exit filters, cpu time ratio'], ['overhead', '100 breakpoints + all exit filters, wall time ratio'],
  ['overhead', 'exits the filters saw (none matched)'],
  ['latency', 'launch to stopped on entry (adapter spawn incl.)'], ['latency', 'stepIn round trip median'], ['latency', 'stepIn round trip p90'],
  ['latency', 'scopes+variables, all register groups, median'], ['latency', 'scopes+variables, all register groups, p90'],
  ['latency', 'register groups expanded'], ['latency', 'pause of a spinning guest median'],
  ['memory', 'RSS after launch, 64 GiB partition'], ['memory', 'RSS before the partition (runtime + bundle)'],
  ['memory', 'pages touched by the guest (spread over 60 GiB)'], ['memory', 'RSS growth per touched page'], ['memory', 'RSS growth per touched page (consecutive pages)'],
  ['startup', 'extension activation (load + activate) median'], ['startup', 'extension bundle load median'], ['startup', 'activate() median'],
  ['reference', 'QEMU TCG guest seconds (cpu time)'], ['reference', 'QEMU TCG guest seconds (wall time)'], ['reference', 'QEMU TCG MIPS (cpu time)'],
  ['reference', 'vpdbg / QEMU speed (cpu time)'], ['reference', 'unicorn guest seconds (cpu time)'], ['reference', 'unicorn guest seconds (wall time)'],
  ['reference', 'unicorn MIPS (cpu time)'], ['reference', 'vpdbg / unicorn speed (cpu time)'],
  ['bench32', 'bench32 instructions retired'],
  ...KERNELS.flatMap((k): [string, string][] => [['bench32', `bench32 ${k} MIPS (cpu time)`], ['bench32', `bench32 ${k} MIPS (wall time)`]]),
  ['bench32', 'bench32 total MIPS (cpu time)'], ['bench32', 'bench32 total MIPS (wall time)'],
  ['bench32', 'bench32 guest seconds (cpu time)'], ['bench32', 'bench32 guest seconds (wall time)'],
  ['bench32', 'bench32 QEMU TCG guest seconds (cpu time)'], ['bench32', 'bench32 QEMU TCG guest seconds (wall time)'],
  ['bench32', 'bench32 QEMU TCG MIPS (cpu time)'], ['bench32', 'bench32 vpdbg / QEMU speed (cpu time)'],
  ['serial', 'COM1 output, LSR polled per byte (cpu time)'], ['serial', 'COM1 output, LSR polled per byte (wall time)'],
  ['serial', 'port accesses served per second (cpu time)'],
  ['serial', 'COM1 output, every access an exit (I/O filter on)'], ['serial', 'exits per second, every access an exit (cpu time)'],
  ['serial', 'COM1 output, I/O filter on another port (cpu time)'], ['serial', 'I/O filter on another port / no filter, cpu time ratio'],
];
/** Rows --quick leaves empty: the reference engines (QEMU, unicorn) are not run. */
const notQuick = (section: string, label: string) => section === 'reference' || label.includes('QEMU');

function harness(extra: string[]): string {
  const r = spawnSync(process.execPath, ['scripts/bench.mjs', '--quick', ...extra], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('bench --quick --json: every row, in order, with a finite number or a skip note', { skip }, () => {
  const out = JSON.parse(harness(['--json'])) as { host: Record<string, unknown>; rows: { section: string; label: string; value: number | null; unit: string; target: string; note?: string }[] };
  assert.deepEqual(out.rows.map((r) => [r.section, r.label]), LABELS);
  for (const r of out.rows) {
    if (notQuick(r.section, r.label)) { assert.equal(r.value, null); assert.equal(r.note, 'skipped: --quick'); continue; }
    assert.ok(typeof r.value === 'number' && Number.isFinite(r.value) && r.value >= 0, `${r.label}: ${r.value}`);
  }
  const row = (label: string) => out.rows.find((r) => r.label === label)!;
  assert.equal(row('register groups expanded').unit, 'groups');
  assert.ok(row('register groups expanded').value! >= 5, 'every register group is expanded');
  assert.equal(row('pages touched by the guest (spread over 60 GiB)').value, 1024);
  // bench-tiny prints four lines; every exit the filters saw was completed without a match.
  assert.ok(row('exits the filters saw (none matched)').value! >= 4);
  assert.equal(row('stepIn round trip median').target, '<= 2');
  assert.deepEqual(Object.keys(out.host).sort(), ['commit', 'cpu', 'image', 'image32', 'imageSerial', 'loadAverage', 'node', 'quick', 'references']);
});

test('bench --quick: an aligned text table, one row per figure, values parse', { skip }, () => {
  const lines = harness([]).trimEnd().split('\n');
  const header = lines.findIndex((l) => /^section +figure +value +unit +target$/.test(l));
  assert.ok(header > 0, 'a header row under the host lines');
  assert.match(lines[0], /^vpdbg \S+ bench \(\S+\) node v\d+.* load average [\d.]+ [\d.]+ [\d.]+$/);
  const rows = lines.slice(header + 1);
  assert.equal(rows.length, LABELS.length);
  const valueEnd = lines[header].indexOf('value') + 'value'.length;
  rows.forEach((line, i) => {
    const [section, label] = LABELS[i];
    assert.ok(line.startsWith(section.padEnd(11) + label), line);
    const value = line.slice(valueEnd - 10, valueEnd).trim();
    if (notQuick(section, label)) assert.equal(value, '-');
    else assert.ok(Number.isFinite(Number(value)), `${label}: ${value}`);
  });
});

test('the overhead run\'s breakpoints are live: one on an executed address ends vpdbg bench there', { skip }, () => {
  // 0x1000B4 is the alu loop of the bench guests (bench.asm's long_entry.alu).
  const r = spawnSync(process.execPath, ['dist/cli.js', 'bench', tiny, '--json', '--breakpoints', '1', '--breakpoint-base', '0x1000b4', '--exit-filters'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { end: string; lines: unknown[]; breakpoints: number; exitFilters: boolean };
  assert.equal(out.end, 'VpdbgBreakpoint hit at RIP 0x1000b4');
  assert.deepEqual([out.lines.length, out.breakpoints, out.exitFilters], [0, 1, true]);
});
