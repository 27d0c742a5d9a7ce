// ELF executables: PT_LOAD program headers are copied to their physical addresses
// (p_paddr), the rest of p_memsz is zeroed. ELF64 starts in long mode with identity
// paging, ELF32 in flat 32-bit protected mode; the loader builds the GDT and page tables.

import { BootPlan, BootSegment, LoadOptions, checkEntry, entryState, findFreeSpace, validateSegments } from './bootPlan';
import { ElfFile, PT_LOAD, parseElf } from './elf';
import { ImageError } from './imageError';
import { lowRamBytes } from '../ramLayout';

const BOOT_STACK_BYTES = 0x10000;
const hex = (n: number) => `0x${n.toString(16)}`;

export function elfSegments(elf: ElfFile, data: Uint8Array, file: string): BootSegment[] {
  const out: BootSegment[] = [];
  elf.programHeaders.forEach((ph, i) => {
    if (ph.type !== PT_LOAD || ph.memsz === 0) return;
    const what = `program header ${i} (PT_LOAD at ${hex(ph.paddr)})`;
    if (ph.filesz > ph.memsz) throw new ImageError(file, `${what}: file size ${ph.filesz} exceeds memory size ${ph.memsz}`);
    if (ph.offset + ph.filesz > data.length) {
      throw new ImageError(file, `truncated: ${what} needs bytes ${hex(ph.offset)}-${hex(ph.offset + ph.filesz)} but the file has ${data.length}`);
    }
    out.push({ gpa: ph.paddr, data: data.subarray(ph.offset, ph.offset + ph.filesz), memSize: ph.memsz, what });
  });
  if (out.length === 0) throw new ImageError(file, 'the ELF file has no loadable (PT_LOAD) segments');
  return out;
}

/**
 * The physical address of an ELF entry point. Segments are loaded at p_paddr, so an entry
 * inside a segment's virtual range is moved by that segment's (p_paddr - p_vaddr), as GRUB
 * does for kernels linked to run higher in the address space than they are loaded.
 */
export function physicalEntry(elf: ElfFile, entry: number): number {
  for (const ph of elf.programHeaders) {
    if (ph.type === PT_LOAD && entry >= ph.vaddr && entry < ph.vaddr + ph.memsz) return entry - ph.vaddr + ph.paddr;
  }
  return entry;
}

export function loadElf(data: Uint8Array, file: string, options: LoadOptions): BootPlan {
  const elf = parseElf(data, file);
  if (options.mode) throw new ImageError(file, `--mode applies to flat images only (an ELF${elf.class} image starts in ${elf.class === 64 ? 'long' : 'protected'} mode)`);
  const segments = elfSegments(elf, data, file);
  validateSegments(file, segments, options.memoryBytes);
  const entry = options.entry ?? physicalEntry(elf, elf.entry);
  checkEntry(file, entry, segments, options.memoryBytes, options.entry === undefined);
  const mode = elf.class === 64 ? 'long' : 'protected';
  const state = entryState(file, mode, entry, segments, options.memoryBytes);
  // A plain ELF entry (unlike multiboot) gets a stack, so a `_start` written in C can run.
  const stackAt = findFreeSpace(file, segments, BOOT_STACK_BYTES, 4096, 0x1000, lowRamBytes(options.memoryBytes), 'boot stack');
  segments.push({ gpa: stackAt, data: new Uint8Array(0), memSize: BOOT_STACK_BYTES, what: 'boot stack' });
  state.gprs.rsp = BigInt(stackAt + BOOT_STACK_BYTES);
  validateSegments(file, segments, options.memoryBytes);
  return {
    file, format: 'elf', entry: BigInt(entry), segments, state,
    notes: [`ELF${elf.class} executable, entry ${hex(entry)}, ${mode} mode`],
  };
}
