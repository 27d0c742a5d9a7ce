// Command specifications shared by `run`, `regs` and `bench`: the image options map onto
// MachineOptions.
import type { OptionSpec } from './args';
import type { ParsedArgs } from './args';
import type { MachineOptions } from '../machine/machine';
import type { StartMode } from '../machine/loaders/bootPlan';

export const IMAGE_OPTIONS: readonly OptionSpec[] = [
  { name: 'format', kind: 'string', choices: ['auto', 'flat', 'elf', 'multiboot'], help: 'image format (default auto: by content)' },
  { name: 'load', kind: 'address', valueName: 'ADDR', help: 'flat images: load address (default 0x7C00)' },
  { name: 'entry', kind: 'address', valueName: 'ADDR', help: 'entry point (default: the image\'s)' },
  { name: 'mode', kind: 'string', choices: ['real', 'protected', 'long'], help: 'flat images: start mode (default real)' },
  { name: 'memory', kind: 'size', valueName: 'SIZE', help: 'guest RAM, e.g. 128M or 64G, at most 1023G (default 128M; sparse)' },
  { name: 'processors', kind: 'integer', valueName: 'N', help: 'virtual processors (default 1)' },
  { name: 'cmdline', kind: 'string', valueName: 'TEXT', help: 'multiboot command line (default: the image file name)' },
];

export const RUN_LIMIT_OPTIONS: readonly OptionSpec[] = [
  { name: 'max-instructions', kind: 'integer', valueName: 'N', help: 'stop after N instructions (summed over processors)' },
  { name: 'timeout', kind: 'seconds', valueName: 'SECONDS', help: 'stop after this much wall-clock time' },
];

export function machineOptions(image: string, args: ParsedArgs): MachineOptions {
  const o = args.options;
  return {
    image,
    format: o.get('format') as MachineOptions['format'],
    load: o.get('load') as number | undefined,
    entry: o.get('entry') as number | undefined,
    mode: o.get('mode') as StartMode | undefined,
    memoryBytes: o.get('memory') as number | undefined,
    processors: o.get('processors') as number | undefined,
    commandLine: o.get('cmdline') as string | undefined,
  };
}
