// `vpdbg bench [IMAGE]`: runs a guest to its end and prints instructions retired, seconds
// and MIPS. The default image is the repository's benchmark guest (../shared/bench/bench.elf
// beside the checkout) when present, else the bundled example.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Machine } from '../machine/machine';
import type { CommandSpec, ParsedArgs } from './args';
import { IMAGE_OPTIONS, RUN_LIMIT_OPTIONS, machineOptions } from './options';
import { runToEnd } from './guestRun';

export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  summary: 'Runs IMAGE (default: ../shared/bench/bench.elf beside the repository, else\nexamples/demo.elf) without output and prints instructions retired, seconds and MIPS.',
  positionals: ['IMAGE?'],
  options: [...IMAGE_OPTIONS, ...RUN_LIMIT_OPTIONS],
};

export function defaultBenchImage(packageRoot: string): string {
  const bench = resolve(packageRoot, '..', 'shared', 'bench', 'bench.elf');
  return existsSync(bench) ? bench : resolve(packageRoot, 'examples', 'demo.elf');
}

export async function benchCommand(args: ParsedArgs, packageRoot: string): Promise<number> {
  const image = args.positionals[0] ?? defaultBenchImage(packageRoot);
  const serial: number[] = [];
  const setupStart = process.hrtime.bigint();
  const machine = new Machine({ ...machineOptions(image, args), serialOutput: (b) => { if (serial.length < 65536) serial.push(b); } });
  const setup = Number(process.hrtime.bigint() - setupStart) / 1e9;
  const r = await runToEnd(machine, {
    maxInstructions: args.options.get('max-instructions') as number | undefined,
    timeoutSeconds: args.options.get('timeout') as number | undefined,
  });
  const mips = r.seconds > 0 ? r.instructions / r.seconds / 1e6 : 0;
  const rows: [string, string][] = [
    ['image', image],
    ['instructions', String(r.instructions)],
    ['seconds', r.seconds.toFixed(3)],
    ['MIPS', mips.toFixed(2)],
    ['setup seconds', setup.toFixed(3)],
    ['serial lines', String(Buffer.from(serial).toString('latin1').split('\n').filter((l) => l !== '').length)],
    ['end', `${r.reason} (status ${r.status})`],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(14)}${v}\n`);
  return 0;
}
