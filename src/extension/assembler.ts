// Assembles a NASM source into something the adapter can load: an ELF with DWARF line
// tables (nasm -f elf32/elf64 -g -F dwarf, then GNU ld at 1 MiB) or, for sources with `org`
// (boot sectors, flat images), nasm's flat bin output. No vscode here.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { planAssembly, type AssemblyPlan } from './guestKind';

export interface AssembleResult {
  output: string;
  plan: AssemblyPlan;
}

export class ToolMissingError extends Error {
  constructor(readonly tool: string, readonly installHint: string) {
    super(`${tool} was not found. Install it with \`${installHint}\` (or set "vpdbg.nasmPath"), then press F5 again.`);
  }
}

export class AssemblyError extends Error {}

/** Where an ELF image is linked: 1 MiB, above the real-mode area, like multiboot kernels. */
export const ELF_LINK_ADDRESS = 0x100000;

// The multiboot header must sit in the first 8 KiB, so .multiboot goes first. Without a
// global _start, ld warns and enters at the start of .text, which is what a guest wants.
const linkerScript = `ENTRY(_start)
SECTIONS {
  . = 0x${ELF_LINK_ADDRESS.toString(16)};
  .text : { *(.multiboot*) *(.text*) }
  .rodata : { *(.rodata*) }
  .data : { *(.data*) }
  .bss : { *(.bss*) *(COMMON) }
}
`;

function run(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

const notFound = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

export async function assemble(source: string, outDir: string, nasm = 'nasm', ld = 'ld'): Promise<AssembleResult> {
  const text = readFileSync(source, 'utf8');
  const plan = planAssembly(text);
  // One build directory per source path, so two sources named boot.asm do not collide.
  const dir = join(outDir, createHash('sha1').update(source).digest('hex').slice(0, 12));
  mkdirSync(dir, { recursive: true });
  const stem = basename(source, extname(source));
  const cwd = join(source, '..');
  const nasmRun = async (args: string[]) => {
    try {
      await run(nasm, args, cwd);
    } catch (e) {
      if (notFound(e)) throw new ToolMissingError('nasm', 'sudo apt install nasm');
      throw new AssemblyError(`nasm failed:\n${(e as { stderr?: string }).stderr || (e as Error).message}`);
    }
  };
  if (plan.nasmFormat === 'bin') {
    const output = join(dir, `${stem}.bin`);
    await nasmRun(['-f', 'bin', '-o', output, source]);
    return { output, plan };
  }
  const object = join(dir, `${stem}.o`);
  const output = join(dir, `${stem}.elf`);
  await nasmRun(['-f', plan.nasmFormat, '-g', '-F', 'dwarf', '-o', object, source]);
  const emulation = plan.nasmFormat === 'elf32' ? 'elf_i386' : 'elf_x86_64';
  const script = join(dir, 'link.ld');
  writeFileSync(script, linkerScript);
  try {
    await run(ld, ['-m', emulation, '--no-warn-rwx-segments', '-T', script, '-o', output, object], cwd);
  } catch (e) {
    if (notFound(e)) throw new ToolMissingError('ld (GNU binutils)', 'sudo apt install binutils');
    throw new AssemblyError(`ld failed:\n${(e as { stderr?: string }).stderr || (e as Error).message}`);
  }
  return { output, plan };
}

/** `nasm -v`'s first line, or a ToolMissingError naming the install step. */
export function nasmVersion(nasm = 'nasm'): Promise<string> {
  return run(nasm, ['-v'], process.cwd()).then(
    ({ stdout }) => stdout.split('\n')[0].trim(),
    (e) => { throw notFound(e) ? new ToolMissingError('nasm', 'sudo apt install nasm') : e; },
  );
}
