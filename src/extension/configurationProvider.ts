// F5 without launch.json, and turning an assembly source into a loadable image. The logic
// is here without vscode; debugSetup.ts registers it as a DebugConfigurationProvider.
import { existsSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import type { Host } from './seam';
import { classifyImage, isAssemblySource, readImageHead } from './guestKind';
import { assemble as realAssemble, AssemblyError, ToolMissingError, type AssembleResult } from './assembler';

export interface LaunchConfiguration {
  type?: string;
  request?: string;
  name?: string;
  program?: string;
  cwd?: string;
  noDebug?: boolean;
  [key: string]: unknown;
}

export type Assembler = (source: string, outDir: string, nasm: string) => Promise<AssembleResult>;

const imageExtensions = new Set(['.elf', '.bin', '.img', '.mb', '.kernel']);

/** True if F5 on this file can start a session without launch.json. */
export function isDebuggableFile(path: string, languageId?: string): boolean {
  if (isAssemblySource(path, languageId)) return true;
  const ext = /\.[^./\\]*$/.exec(path)?.[0]?.toLowerCase() ?? '';
  if (imageExtensions.has(ext)) return true;
  // Anything else (`kernel`, `vmlinux`, `a.out`) by content: an ELF, multiboot kernel or boot sector.
  try {
    const { head, size } = readImageHead(path);
    const isElf = head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
    return isElf || classifyImage(head, size) !== 'flat';
  } catch {
    return false;
  }
}

export function configurationForFile(path: string, noDebug = false): LaunchConfiguration {
  return { type: 'vpdbg', request: 'launch', name: `${noDebug ? 'Run' : 'Debug'} ${basename(path)}`, program: path, stopOnEntry: !noDebug, ...(noDebug ? { noDebug: true } : {}) };
}

/** resolveDebugConfiguration: fill in an empty configuration (F5 without launch.json). */
export async function resolveConfiguration(config: LaunchConfiguration, host: Host): Promise<LaunchConfiguration | undefined> {
  if (!config.type && !config.request && !config.name) {
    const file = host.activeFile();
    if (!file || !isDebuggableFile(file.path, file.languageId)) {
      await host.showError('vpdbg: open a guest image (ELF, multiboot kernel, boot sector, flat binary) or an assembly source, then press F5 — or add a launch configuration.');
      return undefined;
    }
    return configurationForFile(file.path);
  }
  if (!config.program) {
    await host.showError('vpdbg: the launch configuration needs "program" — the guest image or assembly source to run.');
    return undefined;
  }
  return config;
}

/**
 * resolveDebugConfigurationWithSubstitutedVariables: an assembly `program` is assembled and
 * replaced by the image, with the format/mode/loadAddress the source implies (explicit
 * fields in launch.json win).
 */
export async function prepareProgram(config: LaunchConfiguration, host: Host, assembler: Assembler = realAssemble, folder?: string): Promise<LaunchConfiguration | undefined> {
  // Relative paths resolve like the adapter resolves them: against cwd, else the workspace folder.
  const base = config.cwd ? resolve(folder ?? process.cwd(), config.cwd) : folder ?? (host.activeFile() ? resolve(host.activeFile()!.path, '..') : process.cwd());
  const program = isAbsolute(config.program!) ? config.program! : resolve(base, config.program!);
  if (!existsSync(program)) {
    await host.showError(`vpdbg: program not found: ${program}`);
    return undefined;
  }
  if (!isAssemblySource(program)) {
    if (!config.format || config.format === 'auto') {
      try {
        const { head, size } = readImageHead(program);
        if (classifyImage(head, size) === 'bootSector') return { loadAddress: '0x7c00', mode: 'real', ...config, program, format: 'flat' };
      } catch { /* the adapter reports unreadable images */ }
    }
    return { ...config, program };
  }
  try {
    const { output, plan } = await assembler(program, host.storageDir(), host.setting('nasmPath', 'nasm'));
    // ELF and multiboot images carry their own start state; only a flat image needs the
    // mode and address the source declares (`bits`, `org`).
    const implied: LaunchConfiguration = { format: plan.format };
    if (plan.format === 'flat') implied.mode = plan.mode;
    if (plan.loadAddress !== undefined) implied.loadAddress = `0x${plan.loadAddress.toString(16)}`;
    return { ...implied, ...config, program: output };
  } catch (e) {
    if (e instanceof ToolMissingError) {
      const choice = await host.showError(`vpdbg: cannot debug ${basename(program)}: ${e.message}`, 'How to install');
      if (choice && host.openUrl) await host.openUrl('https://www.nasm.us/');
    } else if (e instanceof AssemblyError) {
      await host.showError(`vpdbg: ${basename(program)} did not assemble. ${e.message}`);
    } else {
      await host.showError(`vpdbg: ${(e as Error).message}`);
    }
    return undefined;
  }
}
