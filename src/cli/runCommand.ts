// `vpdbg run IMAGE`: boots the image and streams COM1 to stdout until the guest ends.
import { DEVICE_NAMES, Machine } from '../machine/machine';
import { UsageError, type CommandSpec, type ParsedArgs } from './args';
import { IMAGE_OPTIONS, RUN_LIMIT_OPTIONS, machineOptions } from './options';
import { runToEnd } from './guestRun';
import { ExitStatus } from './exitStatus';
import { exitContextText } from './exitText';

export const RUN_SPEC: CommandSpec = {
  name: 'run',
  summary: 'Boots IMAGE and runs it to the end. COM1 output goes to stdout; the exit status is\n(value << 1) | 1 for a write to port 0xF4, 0 when every processor halted with\ninterrupts disabled, and 6/8/10/12/14 for crash, instruction limit, timeout, reset\nand emulator errors (see README).',
  positionals: ['IMAGE'],
  options: [
    ...IMAGE_OPTIONS, ...RUN_LIMIT_OPTIONS,
    { name: 'trace-exits', kind: 'flag', help: 'print one decoded line per exit on stderr' },
    { name: 'trace-skip', kind: 'string', valueName: 'DEVICES', help: 'with --trace-exits: leave out exits these devices handled (comma-separated, e.g. com1,pit)' },
    { name: 'success-value', kind: 'integer', valueName: 'V', help: 'exit with status 0 when the guest writes V to port 0xF4 (for scripts)' },
  ],
};

export async function runCommand(args: ParsedArgs): Promise<number> {
  const skip = traceSkip(args);
  const out: number[] = [];
  const flush = () => { if (out.length) { process.stdout.write(Buffer.from(out)); out.length = 0; } };
  const machine = new Machine({
    ...machineOptions(args.positionals[0], args),
    serialOutput: (b) => { out.push(b); if (b === 10 || out.length >= 4096) flush(); },
  });
  // stdin feeds COM1's receiver (a terminal line by line, as typed).
  const stdin = process.stdin;
  const feed = (d: Buffer) => machine.uart.feed(d);
  stdin.on('data', feed);
  stdin.on('error', () => {});
  try {
    const r = await runToEnd(machine, {
      maxInstructions: args.options.get('max-instructions') as number | undefined,
      timeoutSeconds: args.options.get('timeout') as number | undefined,
      trace: args.options.has('trace-exits') ? (line) => { flush(); process.stderr.write(line + '\n'); } : undefined,
      traceSkip: skip,
      onChunk: flush,
    });
    flush();
    const success = args.options.get('success-value') as number | undefined;
    if (success !== undefined && r.exit?.IoPortAccess?.PortNumber === 0xf4 && r.status === (((success << 1) | 1) >>> 0)) r.status = 0;
    const normal = r.status === ExitStatus.Halted || (r.status & 1) === 1;
    if (!normal || args.options.has('trace-exits')) {
      process.stderr.write(`vpdbg: ${r.reason} (exit status ${r.status}, ${r.instructions} instructions)\n`);
      if (!normal && r.exit) process.stderr.write(exitContextText(r.exit) + '\n');
    }
    return r.status;
  } finally {
    flush();
    stdin.off('data', feed);
    // Release stdin so the process can exit (a terminal is only paused, to leave it usable).
    if (stdin.isTTY) stdin.pause(); else stdin.destroy();
  }
}

function traceSkip(args: ParsedArgs): Set<string> {
  const names = String(args.options.get('trace-skip') ?? '').split(',').filter(Boolean);
  const unknown = names.find((n) => !(DEVICE_NAMES as readonly string[]).includes(n));
  if (unknown) throw new UsageError(`--trace-skip: unknown device ${unknown} (devices: ${DEVICE_NAMES.join(', ')})`);
  return new Set(names);
}
