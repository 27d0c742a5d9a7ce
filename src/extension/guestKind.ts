// What a file is, from its content: a guest image the adapter loads directly, or an
// assembly source that has to be assembled first (and how).
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { extname } from 'node:path';
import { parseNasmNumber } from '../languageServer/nasmNumber';

export { parseNasmNumber };

export type ImageKind = 'elf' | 'multiboot' | 'bootSector' | 'flat';

// NASM sources only: `.s` is GNU as (AT&T syntax), which nasm cannot assemble.
export const assemblyExtensions = new Set(['.asm', '.nasm', '.inc']);

const MULTIBOOT_MAGIC = 0x1badb002;
const MULTIBOOT_SEARCH = 8192;

/** Classify an image by its first bytes (and total size). */
export function classifyImage(head: Uint8Array, size: number): ImageKind {
  if (head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
    return hasMultibootHeader(head) ? 'multiboot' : 'elf';
  }
  if (hasMultibootHeader(head)) return 'multiboot';
  if (size === 512 && head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) return 'bootSector';
  return 'flat';
}

/** Multiboot v1: magic, flags, checksum (sum 0 mod 2^32), 4-byte aligned in the first 8 KiB. */
function hasMultibootHeader(head: Uint8Array): boolean {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const end = Math.min(head.length, MULTIBOOT_SEARCH) - 12;
  for (let i = 0; i <= end; i += 4) {
    if (view.getUint32(i, true) !== MULTIBOOT_MAGIC) continue;
    if (((MULTIBOOT_MAGIC + view.getUint32(i + 4, true) + view.getUint32(i + 8, true)) >>> 0) === 0) return true;
  }
  return false;
}

export function readImageHead(path: string): { head: Uint8Array; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, MULTIBOOT_SEARCH));
    readSync(fd, head, 0, head.length, 0);
    return { head, size };
  } finally {
    closeSync(fd);
  }
}

export function isAssemblySource(path: string, languageId?: string): boolean {
  return languageId === 'x64asm' || assemblyExtensions.has(extname(path).toLowerCase());
}

/** How nasm should assemble a source, decided from what the source says about itself. */
export interface AssemblyPlan {
  /** nasm -f value. */
  nasmFormat: 'bin' | 'elf32' | 'elf64';
  /** Launch configuration fields implied by the source. */
  format: 'flat' | 'elf' | 'multiboot';
  mode: 'real' | 'protected' | 'long';
  loadAddress?: number;
}

const stripComment = (line: string) => line.replace(/;.*$/, '');

export function planAssembly(source: string): AssemblyPlan {
  const lines = source.split(/\r?\n/).map(stripComment);
  const find = (re: RegExp) => { for (const l of lines) { const m = re.exec(l); if (m) return m; } return undefined; };
  const org = find(/^\s*\[?\s*org\s+([^\]\s]+)/i);
  const bits = find(/^\s*\[?\s*bits\s+(16|32|64)\b/i);
  const bitsValue = bits ? Number(bits[1]) : undefined;
  const multiboot = /\b(?:0x1badb002|1badb002h|0x1BADB002)\b/i.test(source);
  const modeOf = (b: number | undefined, fallback: AssemblyPlan['mode']): AssemblyPlan['mode'] =>
    b === 16 ? 'real' : b === 32 ? 'protected' : b === 64 ? 'long' : fallback;
  // `org` exists only in nasm's bin format: a boot sector or another flat image.
  if (org) return { nasmFormat: 'bin', format: 'flat', mode: modeOf(bitsValue, 'real'), loadAddress: parseNasmNumber(org[1]) };
  if (multiboot) return { nasmFormat: 'elf32', format: 'multiboot', mode: 'protected' };
  if (bitsValue === 16) return { nasmFormat: 'bin', format: 'flat', mode: 'real', loadAddress: 0x7c00 };
  if (bitsValue === 32) return { nasmFormat: 'elf32', format: 'elf', mode: 'protected' };
  return { nasmFormat: 'elf64', format: 'elf', mode: 'long' };
}
