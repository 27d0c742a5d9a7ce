#!/usr/bin/env node
// The `vpdbg` command: run, regs, bench. Bad arguments print the usage and exit with 2;
// images that cannot be loaded exit with 4 (see exitStatus.ts).
import { dirname } from 'node:path';
import { ImageError } from '../machine/loaders/imageError';
import { MachineConfigError } from '../machine/machine';
import { parseArgs, usage, UsageError, type CommandSpec, type ParsedArgs } from './args';
import { ExitStatus } from './exitStatus';
import { steadyJitTiering } from '../emulator/jit/hostTiering';
import { RUN_SPEC, runCommand } from './runCommand';
import { REGS_SPEC, regsCommand } from './regsCommand';
import { BENCH_SPEC, benchCommand } from './benchCommand';

const PROGRAM = 'vpdbg';
/** dist/cli.js lives one level below the package root. */
const PACKAGE_ROOT = dirname(__dirname);

const COMMANDS: Record<string, [CommandSpec, (a: ParsedArgs) => Promise<number>]> = {
  run: [RUN_SPEC, runCommand],
  regs: [REGS_SPEC, regsCommand],
  bench: [BENCH_SPEC, (a) => benchCommand(a, PACKAGE_ROOT)],
};

function topUsage(): string {
  return [
    `usage: ${PROGRAM} <command> [arguments]`,
    '',
    'commands:',
    '  run IMAGE      boot IMAGE, stream COM1 to stdout, exit with the guest\'s status',
    '  regs IMAGE     print every register of VP 0 (GetVpRegisters)',
    '  bench [IMAGE]  run a benchmark guest and print instructions, seconds and MIPS',
    '',
    `Run '${PROGRAM} <command> --help' for a command's options.`,
    '',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(topUsage());
    return name === undefined ? ExitStatus.Usage : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`${PROGRAM}: unknown command '${name}'\n\n${topUsage()}`);
    return ExitStatus.Usage;
  }
  const [spec, handler] = cmd;
  let args: ParsedArgs;
  try {
    args = parseArgs(spec, rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${PROGRAM} ${name}: ${e.message}\n\n${usage(PROGRAM, spec)}`);
    return ExitStatus.Usage;
  }
  if (args.help) { process.stdout.write(usage(PROGRAM, spec)); return 0; }
  try {
    return await handler(args);
  } catch (e) {
    if (e instanceof ImageError) { process.stderr.write(`${PROGRAM}: ${e.message}\n`); return ExitStatus.ImageError; }
    if (e instanceof MachineConfigError || e instanceof UsageError) { process.stderr.write(`${PROGRAM} ${name}: ${e.message}\n\n${usage(PROGRAM, spec)}`); return ExitStatus.Usage; }
    throw e;
  }
}

if (require.main === module) {
  steadyJitTiering();
  // A reader that goes away (`vpdbg run x | head`) ends the command quietly, as SIGPIPE ends
  // other Unix tools (status 128 + 13), instead of an unhandled EPIPE error with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (status) => { process.exitCode = status; },
    (e: unknown) => {
      process.stderr.write(`${PROGRAM}: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exitCode = ExitStatus.EmulatorError;
    },
  );
}
