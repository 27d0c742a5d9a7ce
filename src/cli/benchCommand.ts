// `vpdbg bench [IMAGE]`: runs a guest to its end and prints instructions retired, wall and
// CPU seconds and MIPS, split at every line the guest prints on COM1 (the bench guest
// prints one per kernel). --breakpoints and --exit-filters measure what idle debugger
// features cost; --memory-probe measures host memory of a large sparse partition instead.
// The default image is the repository's benchmark guest (../shared/bench/bench.elf beside
// the checkout) when present, else the bundled example.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Machine } from '../machine/machine';
import { UsageError, type CommandSpec, type ParsedArgs } from './args';
import { IMAGE_OPTIONS, RUN_LIMIT_OPTIONS, machineOptions } from './options';
import { LineClock, benchRun, type BenchRunResult } from './benchRun';
import { memoryProbe } from './benchMemory';

export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  summary: 'Runs IMAGE (default: ../shared/bench/bench.elf beside the repository, else\n'
    + 'examples/demo.elf) without output and prints instructions retired, seconds and MIPS,\n'
    + 'in total and per line the guest prints on COM1. The whole benchmark (latency, memory,\n'
    + 'QEMU/unicorn comparison) is `npm run bench`.',
  positionals: ['IMAGE?'],
  options: [
    ...IMAGE_OPTIONS, ...RUN_LIMIT_OPTIONS,
    { name: 'breakpoints', kind: 'integer', valueName: 'N', help: 'set N instruction breakpoints (at --breakpoint-base + 16*i; choose addresses the guest does not execute)' },
    { name: 'breakpoint-base', kind: 'address', valueName: 'ADDR', help: 'linear address of the first of --breakpoints (default 0x7fff00000000)' },
    { name: 'exit-filters', kind: 'flag', help: 'report every exit reason (all exception vectors too) and test each against a condition that never holds, as conditional exit breakpoints do' },
    { name: 'io-filter-port', kind: 'address', valueName: 'PORT', help: 'as --exit-filters, but I/O exits only for accesses to PORT (an I/O filter with the condition PortNumber == PORT); the other ports stay in-process' },
    { name: 'memory-probe', kind: 'flag', help: 'instead of IMAGE: a partition with --memory of RAM (default 64G); host RSS after launch and after the guest touches --touch-pages pages' },
    { name: 'touch-pages', kind: 'integer', valueName: 'N', help: 'memory probe: pages the guest writes, spread over RAM above 4 GiB (default 4096)' },
    { name: 'touch-stride', kind: 'size', valueName: 'SIZE', help: 'memory probe: distance between touched pages (default: spread evenly)' },
    { name: 'json', kind: 'flag', help: 'print the figures as one JSON object' },
  ],
};

const DEFAULT_BREAKPOINT_BASE = 0x7fff00000000;

export function defaultBenchImage(packageRoot: string): string {
  const bench = resolve(packageRoot, '..', 'shared', 'bench', 'bench.elf');
  return existsSync(bench) ? bench : resolve(packageRoot, 'examples', 'demo.elf');
}

const mips = (instructions: number, seconds: number) => (seconds > 0 ? instructions / seconds / 1e6 : 0);

export async function benchCommand(args: ParsedArgs, packageRoot: string): Promise<number> {
  const o = args.options;
  const json = o.has('json');
  if (o.has('memory-probe')) {
    const r = memoryProbe((o.get('memory') as number | undefined) ?? 64 * 2 ** 30, (o.get('touch-pages') as number | undefined) ?? 4096, o.get('touch-stride') as number | undefined);
    if (json) { process.stdout.write(JSON.stringify(r) + '\n'); return 0; }
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    printRows([
      ['guest RAM', `${r.memoryBytes / 2 ** 30} GiB`],
      ['RSS before', mb(r.rssBaseBytes)],
      ['RSS launched', mb(r.rssLaunchBytes)],
      ['touched pages', `${r.touchedPages}, ${r.strideBytes / 1024} KiB apart`],
      ['RSS touched', mb(r.rssTouchedBytes)],
      ['per page', `${(r.growthPerPageBytes / 1024).toFixed(2)} KiB`],
      ['guest resident', mb(r.residentGuestBytes)],
      ['end', r.end],
    ]);
    return 0;
  }

  const image = args.positionals[0] ?? defaultBenchImage(packageRoot);
  const clock = new LineClock();
  const setupStart = process.hrtime.bigint();
  const machine = new Machine({ ...machineOptions(image, args), serialOutput: clock.byte });
  const breakpoints = (o.get('breakpoints') as number | undefined) ?? 0;
  if (breakpoints > 0) {
    const base = (o.get('breakpoint-base') as number | undefined) ?? DEFAULT_BREAKPOINT_BASE;
    const addrs = Array.from({ length: breakpoints }, (_, i) => BigInt(base) + 16n * BigInt(i));
    for (let vp = 0; vp < machine.processorCount; vp++) machine.partition.setInstructionBreakpoints(vp, addrs);
  }
  const setup = Number(process.hrtime.bigint() - setupStart) / 1e9;
  const ioFilterPort = o.get('io-filter-port') as number | undefined;
  if (ioFilterPort !== undefined && ioFilterPort > 0xffff) throw new UsageError(`--io-filter-port: 0x${ioFilterPort.toString(16)} is not a port (0-0xFFFF)`);
  const exitFilters = o.has('exit-filters') || ioFilterPort !== undefined;
  const r = benchRun(machine, clock, {
    maxInstructions: o.get('max-instructions') as number | undefined,
    timeoutSeconds: o.get('timeout') as number | undefined,
    exitFilters,
    ioFilterPort,
  });
  const lines = splitLines(r);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  if (json) {
    process.stdout.write(JSON.stringify({ image, setupSeconds: setup, breakpoints, exitFilters, ioFilterPort, ...r, marks: undefined, lines, peakRssBytes }) + '\n');
    return 0;
  }
  printRows([
    ['image', image],
    ['instructions', String(r.instructions)],
    ['seconds', r.seconds.toFixed(3)],
    ['cpu seconds', r.cpuSeconds.toFixed(3)],
    ['MIPS', mips(r.instructions, r.seconds).toFixed(2)],
    ['setup seconds', setup.toFixed(3)],
    ['peak RSS', `${(peakRssBytes / 2 ** 20).toFixed(1)} MiB`],
    ['end', `${r.end}${r.status === undefined ? '' : ` (status ${r.status})`}`],
  ]);
  if (lines.length) {
    process.stdout.write(`\n${'line'.padEnd(20)}${'M instr'.padStart(10)}${'seconds'.padStart(10)}${'MIPS'.padStart(10)}\n`);
    for (const l of lines) {
      process.stdout.write(`${l.line.slice(0, 19).padEnd(20)}${(l.instructions / 1e6).toFixed(2).padStart(10)}${l.seconds.toFixed(3).padStart(10)}${mips(l.instructions, l.seconds).toFixed(1).padStart(10)}\n`);
    }
  }
  return 0;
}

export interface BenchLine { line: string; instructions: number; seconds: number; cpuSeconds: number }

/** Instructions and time between consecutive COM1 lines (the first from the start of the run). */
function splitLines(r: BenchRunResult): BenchLine[] {
  let n = 0, s = 0, c = 0;
  return r.marks.map((m) => {
    const l = { line: m.line, instructions: m.instructions - n, seconds: m.seconds - s, cpuSeconds: m.cpuSeconds - c };
    n = m.instructions; s = m.seconds; c = m.cpuSeconds;
    return l;
  });
}

function printRows(rows: [string, string][]): void {
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(16)}${v}\n`);
}
