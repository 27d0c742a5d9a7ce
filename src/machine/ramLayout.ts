// Where guest RAM goes in the guest-physical address space, the way QEMU's pc machine lays it
// out: RAM fills the space from 0 up; a machine too large to fit below the 32-bit MMIO hole
// keeps 3 GiB there and the rest from 4 GiB up. The hole (0xC0000000-0xFFFFFFFF: local APIC,
// I/O APIC, firmware) stays unmapped so guest accesses to it become MemoryAccess exits.

export const PAGE_BYTES = 4096;
export const MIN_RAM_BYTES = 2 ** 20;
/** Largest supported guest RAM (sparse: only touched pages cost host memory). */
export const MAX_RAM_BYTES = 2 ** 40;
/** Machines with at least this much RAM split it around the hole (QEMU's pc lowmem). */
export const SPLIT_FROM_BYTES = 0xe0000000;
/** RAM kept below 4 GiB when split ("below_4g_mem_size"). */
export const LOW_RAM_SPLIT_BYTES = 0xc0000000;
export const HIGH_RAM_BASE = 2 ** 32;

export interface RamRange { base: number; size: number }

/** The RAM ranges of a machine with `memoryBytes` of RAM: [low] or [low, above 4 GiB]. */
export function ramRanges(memoryBytes: number): RamRange[] {
  if (memoryBytes < SPLIT_FROM_BYTES) return [{ base: 0, size: memoryBytes }];
  return [{ base: 0, size: LOW_RAM_SPLIT_BYTES }, { base: HIGH_RAM_BASE, size: memoryBytes - LOW_RAM_SPLIT_BYTES }];
}

/** Bytes of RAM below the hole (the first range). */
export function lowRamBytes(memoryBytes: number): number { return ramRanges(memoryBytes)[0].size; }

/** Bytes of RAM from 4 GiB up. */
export function highRamBytes(memoryBytes: number): number { return ramRanges(memoryBytes)[1]?.size ?? 0; }

/** One past the highest RAM address. */
export function ramEnd(memoryBytes: number): number {
  const r = ramRanges(memoryBytes).at(-1)!;
  return r.base + r.size;
}

/** Whether [gpa, gpa + size) lies inside one RAM range. */
export function inRam(memoryBytes: number, gpa: number, size: number): boolean {
  return ramRanges(memoryBytes).some((r) => gpa >= r.base && gpa + size <= r.base + r.size);
}

/** "0x0-0x8000000" or "0x0-0xc0000000 and 0x100000000-0x1040000000", for messages. */
export function describeRam(memoryBytes: number): string {
  return ramRanges(memoryBytes).map((r) => `0x${r.base.toString(16)}-0x${(r.base + r.size).toString(16)}`).join(' and ');
}
