// What a loader produces: a plain description of how to start a guest — bytes to copy
// into guest-physical memory and the initial register state of the boot processor.
// Loaders never touch a partition, so they are tested without a CPU; machine.ts applies
// the plan through the partition API.

import type { SegmentValue, TableValue } from '../../emulator/vcpu';
import { ImageError } from './imageError';
import { describeRam, inRam, lowRamBytes, ramEnd } from '../ramLayout';

export type StartMode = 'real' | 'protected' | 'long';
export type ImageFormat = 'flat' | 'elf' | 'multiboot' | 'multiboot2';

export interface BootSegment {
  gpa: number;
  /** Bytes copied to `gpa`; memory from gpa + data.length to gpa + memSize is zeroed (ELF .bss). */
  data: Uint8Array;
  memSize: number;
  /** What the bytes are, for messages: "program header 1", "multiboot info", "page tables". */
  what: string;
}

export type GprName = 'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi' | 'rdi' | 'rbp' | 'rsp';

export interface InitialState {
  mode: StartMode;
  rip: bigint;
  rflags: bigint;
  gprs: Partial<Record<GprName, bigint>>;
  cs: SegmentValue; ds: SegmentValue; es: SegmentValue; ss: SegmentValue; fs: SegmentValue; gs: SegmentValue;
  cr0: bigint; cr3: bigint; cr4: bigint; efer: bigint;
  gdtr: TableValue; idtr: TableValue;
}

export interface BootPlan {
  file: string;
  format: ImageFormat;
  /** Guest-linear entry address (equal to the physical one: every start mode maps identity). */
  entry: bigint;
  segments: BootSegment[];
  state: InitialState;
  /** One-line facts worth showing the user ("multiboot v1 kernel, info at 0x..."). */
  notes: string[];
}

export interface LoadOptions {
  format?: 'auto' | 'flat' | 'elf' | 'multiboot';
  /** Flat images: where to load (default 0x7C00). */
  load?: number;
  /** Overrides the image's entry point. */
  entry?: number;
  /** Flat images: start mode (default real). */
  mode?: StartMode;
  /** Bytes of guest RAM, laid out by ramRanges() (the loader checks everything fits). */
  memoryBytes: number;
  /** Multiboot command line (default: the file's base name, as GRUB and QEMU pass it). */
  commandLine?: string;
}

// Segment attribute words (HV_X64_SEGMENT_REGISTER form): type | S<<4 | DPL<<5 | P<<7 | L<<13 | DB<<14 | G<<15.
const ATTR_CODE = 0x9b; // present, code, execute/read, accessed
const ATTR_DATA = 0x93; // present, data, read/write, accessed
const DB = 0x4000, G = 0x8000, L = 0x2000;

export const GDT_CODE32 = 0x08;
export const GDT_DATA = 0x10;
export const GDT_CODE64 = 0x18;
/** Null, 32-bit code, flat data, 64-bit code: the descriptors the segment registers are loaded from. */
const GDT_ENTRIES = [0n, 0x00cf9b000000ffffn, 0x00cf93000000ffffn, 0x00af9b000000ffffn];

function seg(selector: number, base: bigint, limit: number, attributes: number): SegmentValue {
  return { selector, base, limit, attributes };
}

export function realModeState(cs: number, ip: number): InitialState {
  const data = seg(0, 0n, 0xffff, ATTR_DATA);
  return {
    mode: 'real', rip: BigInt(ip), rflags: 2n, gprs: {},
    cs: seg(cs, BigInt(cs) << 4n, 0xffff, ATTR_CODE), ds: data, es: data, ss: data, fs: data, gs: data,
    cr0: 0x10n, cr3: 0n, cr4: 0n, efer: 0n,
    gdtr: { base: 0n, limit: 0xffff }, idtr: { base: 0n, limit: 0x3ff },
  };
}

/** Flat 32-bit protected mode, paging off (the multiboot machine state). */
export function protectedModeState(entry: number, gdtBase: number): InitialState {
  const data = seg(GDT_DATA, 0n, 0xffffffff, ATTR_DATA | DB | G);
  return {
    mode: 'protected', rip: BigInt(entry), rflags: 2n, gprs: {},
    cs: seg(GDT_CODE32, 0n, 0xffffffff, ATTR_CODE | DB | G), ds: data, es: data, ss: data, fs: data, gs: data,
    cr0: 0x11n, cr3: 0n, cr4: 0n, efer: 0n,
    gdtr: { base: BigInt(gdtBase), limit: GDT_ENTRIES.length * 8 - 1 }, idtr: { base: 0n, limit: 0 },
  };
}

/**
 * 64-bit long mode with identity paging. SSE is enabled (CR4.OSFXSR/OSXMMEXCPT, CR0.MP) so
 * compiler-generated code that uses XMM registers runs as it would under a loader like GRUB.
 */
export function longModeState(entry: bigint, gdtBase: number, cr3: number): InitialState {
  const data = seg(GDT_DATA, 0n, 0xffffffff, ATTR_DATA | DB | G);
  return {
    mode: 'long', rip: entry, rflags: 2n, gprs: {},
    cs: seg(GDT_CODE64, 0n, 0xffffffff, ATTR_CODE | L | G), ds: data, es: data, ss: data, fs: data, gs: data,
    cr0: 0x80000033n, cr3: BigInt(cr3), cr4: 0x620n, efer: 0x500n,
    gdtr: { base: BigInt(gdtBase), limit: GDT_ENTRIES.length * 8 - 1 }, idtr: { base: 0n, limit: 0 },
  };
}

export function gdtBytes(): Uint8Array {
  const out = new Uint8Array(GDT_ENTRIES.length * 8);
  const v = new DataView(out.buffer);
  GDT_ENTRIES.forEach((d, i) => v.setBigUint64(i * 8, d, true));
  return out;
}

/**
 * Identity page tables at `base` covering the first 4 GiB (2 MiB pages, so the local APIC page
 * at 0xFEE00000 and the rest of the MMIO hole are reachable) and every RAM byte above 4 GiB
 * (1 GiB pages, CPUID PDPE1GB), up to `topBytes` rounded up to 1 GiB.
 * Layout: PML4, one PDPT per 512 GiB, four PDs for the first 4 GiB.
 */
export function identityPageTables(base: number, topBytes: number): Uint8Array {
  const gib = 2 ** 30;
  const gibs = Math.max(4, Math.ceil(topBytes / gib));
  const pdpts = Math.ceil(gibs / 512);
  if (pdpts > 512) throw new RangeError(`identity paging cannot cover 0x${topBytes.toString(16)} (beyond 256 TiB)`);
  const pdAt = 0x1000 + pdpts * 0x1000;
  const out = new Uint8Array(pdAt + 4 * 0x1000);
  const v = new DataView(out.buffer);
  for (let i = 0; i < pdpts; i++) v.setBigUint64(i * 8, BigInt(base + 0x1000 + i * 0x1000) | 3n, true); // PML4[i] -> PDPT i
  for (let g = 0; g < gibs; g++) {
    const pdpte = 0x1000 + g * 8; // PDPTs are contiguous, so GiB g is entry g of the run
    if (g < 4) {
      v.setBigUint64(pdpte, BigInt(base + pdAt + g * 0x1000) | 3n, true);
      for (let j = 0; j < 512; j++) v.setBigUint64(pdAt + g * 0x1000 + j * 8, (BigInt(g) << 30n) | (BigInt(j) << 21n) | 0x83n, true); // present, writable, 2 MiB
    } else {
      v.setBigUint64(pdpte, (BigInt(g) << 30n) | 0x83n, true); // present, writable, 1 GiB
    }
  }
  return out;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** Checks every segment lies in RAM and none overlap; returns them sorted by address. */
export function validateSegments(file: string, segments: BootSegment[], memoryBytes: number): BootSegment[] {
  const sorted = [...segments].sort((a, b) => a.gpa - b.gpa);
  let total = 0;
  for (const s of sorted) total += s.memSize;
  if (total > memoryBytes) {
    throw new ImageError(file, `image needs ${total} bytes of memory but the machine has only ${memoryBytes} bytes of RAM (use --memory)`);
  }
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i];
    if (s.gpa < 0 || !inRam(memoryBytes, s.gpa, s.memSize)) {
      throw new ImageError(file, `${s.what} at ${hex(s.gpa)}-${hex(s.gpa + s.memSize)} is outside guest RAM (${describeRam(memoryBytes)}; use --memory)`);
    }
    const next = sorted[i + 1];
    if (next && next.gpa < s.gpa + s.memSize) {
      throw new ImageError(file, `${s.what} (${hex(s.gpa)}-${hex(s.gpa + s.memSize)}) overlaps ${next.what} (${hex(next.gpa)}-${hex(next.gpa + next.memSize)})`);
    }
  }
  return sorted;
}

export function checkEntry(file: string, entry: number, segments: BootSegment[], memoryBytes: number, requireInSegment: boolean): void {
  if (entry < 0 || !inRam(memoryBytes, entry, 1)) throw new ImageError(file, `entry point ${hex(entry)} is outside guest RAM (${describeRam(memoryBytes)})`);
  if (requireInSegment && !segments.some((s) => entry >= s.gpa && entry < s.gpa + s.memSize)) {
    throw new ImageError(file, `entry point ${hex(entry)} is outside every loaded segment`);
  }
}

/**
 * Finds room for a loader-built structure: the lowest `align`-aligned address at or above
 * `from` where `size` bytes overlap no segment and lie below `limit` (the top of low RAM, so
 * 32-bit code can reach them).
 */
export function findFreeSpace(file: string, segments: BootSegment[], size: number, align: number, from: number, limit: number, what: string): number {
  let at = Math.ceil(from / align) * align;
  const sorted = [...segments].sort((a, b) => a.gpa - b.gpa);
  for (const s of sorted) {
    if (at + size <= s.gpa) break;
    if (at < s.gpa + s.memSize) at = Math.ceil((s.gpa + s.memSize) / align) * align;
  }
  if (at + size > limit) throw new ImageError(file, `no room in guest RAM for the ${what} (${size} bytes; use --memory)`);
  return at;
}

/** Lowest address the loader places its own structures at (keeps the real-mode IVT and BDA free). */
const STRUCTURES_FROM = 0x1000;

/**
 * The register state for entering at `entry` in `mode`, adding to `segments` the GDT (and, for
 * long mode, the identity page tables) it needs, placed in free RAM.
 */
export function entryState(file: string, mode: StartMode, entry: number, segments: BootSegment[], memoryBytes: number): InitialState {
  if (mode === 'real') {
    if (entry >= 0x100000) throw new ImageError(file, `entry point ${hex(entry)} is not reachable in real mode (must be below 0x100000)`);
    const cs = entry < 0x10000 ? 0 : (entry >> 4) & 0xf000;
    return realModeState(cs, entry - cs * 16);
  }
  const gdt = gdtBytes();
  const low = lowRamBytes(memoryBytes);
  const gdtAt = findFreeSpace(file, segments, gdt.length, 16, STRUCTURES_FROM, low, 'boot GDT');
  segments.push({ gpa: gdtAt, data: gdt, memSize: gdt.length, what: 'boot GDT' });
  if (mode === 'protected') {
    if (entry > 0xffffffff) throw new ImageError(file, `entry point ${hex(entry)} is not reachable in 32-bit protected mode`);
    const high = segments.find((s) => s.gpa + s.memSize > 2 ** 32);
    if (high) throw new ImageError(file, `${high.what} at ${hex(high.gpa)} is above 4 GiB, out of reach of a kernel entered in 32-bit protected mode`);
    return protectedModeState(entry, gdtAt);
  }
  const top = ramEnd(memoryBytes);
  const size = identityPageTables(0, top).length;
  const at = findFreeSpace(file, segments, size, 4096, STRUCTURES_FROM, low, 'identity page tables');
  const tables = identityPageTables(at, top);
  segments.push({ gpa: at, data: tables, memSize: tables.length, what: 'identity page tables' });
  return longModeState(BigInt(entry), gdtAt, at);
}
