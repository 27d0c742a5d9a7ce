// Multiboot kernels (specification 0.6.96 "v1" and 2.0 "v2"), started the way GRUB and
// QEMU's -kernel start them: 32-bit flat protected mode, paging off, interrupts off,
// EAX = the boot loader magic, EBX = the physical address of the information structure
// (memory map, command line, boot loader name).

import { basename } from 'node:path';
import { BootPlan, BootSegment, LoadOptions, checkEntry, entryState, findFreeSpace, validateSegments } from './bootPlan';
import { ByteReader, isElf, parseElf } from './elf';
import { elfSegments, physicalEntry } from './elfImage';
import { ImageError } from './imageError';
import { lowRamBytes, ramRanges } from '../ramLayout';

export const MULTIBOOT1_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT1_BOOT_MAGIC = 0x2badb002;
export const MULTIBOOT2_HEADER_MAGIC = 0xe85250d6;
export const MULTIBOOT2_BOOT_MAGIC = 0x36d76289;
const V1_SEARCH = 8192;
const V2_SEARCH = 32768;
export const BOOT_LOADER_NAME = 'vpdbg';

const hex = (n: number) => `0x${n.toString(16)}`;

export interface MultibootHeader {
  version: 1 | 2;
  /** File offset of the header. */
  offset: number;
  /** v1 flags word; for v2 0. */
  flags: number;
  /** The a.out-kludge / address-tag fields, when present. */
  address?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number };
  entryAddr?: number;
}

/** The first valid multiboot header (v2 is preferred when both are present), or undefined. */
export function findMultibootHeader(data: Uint8Array, file: string): MultibootHeader | undefined {
  const r = new ByteReader(data, file);
  for (let o = 0; o + 16 <= Math.min(data.length, V2_SEARCH); o += 8) {
    if (r.u32(o) !== MULTIBOOT2_HEADER_MAGIC) continue;
    const arch = r.u32(o + 4), length = r.u32(o + 8), sum = r.u32(o + 12);
    if (((MULTIBOOT2_HEADER_MAGIC + arch + length + sum) >>> 0) !== 0) continue;
    return parseV2Header(r, o, arch, length);
  }
  for (let o = 0; o + 12 <= Math.min(data.length, V1_SEARCH); o += 4) {
    if (r.u32(o) !== MULTIBOOT1_HEADER_MAGIC) continue;
    const flags = r.u32(o + 4), sum = r.u32(o + 8);
    if (((MULTIBOOT1_HEADER_MAGIC + flags + sum) >>> 0) !== 0) continue;
    return parseV1Header(r, o, flags);
  }
  return undefined;
}

// v1 flag bits 0 (page-align modules), 1 (memory information) and 2 (video mode: we offer
// only the text console, as QEMU does) are understood; any other required bit is refused.
const V1_KNOWN_REQUIRED = 0x7;

function parseV1Header(r: ByteReader, o: number, flags: number): MultibootHeader {
  const unknown = flags & 0xffff & ~V1_KNOWN_REQUIRED;
  if (unknown) throw new ImageError(r.file, `multiboot header at ${hex(o)} requires unsupported features (flag bits ${hex(unknown)})`);
  const h: MultibootHeader = { version: 1, offset: o, flags };
  if (flags & 0x10000) {
    r.check(o, 32, 'multiboot header address fields');
    h.address = { headerAddr: r.u32(o + 12), loadAddr: r.u32(o + 16), loadEndAddr: r.u32(o + 20), bssEndAddr: r.u32(o + 24) };
    h.entryAddr = r.u32(o + 28);
  }
  return h;
}

function parseV2Header(r: ByteReader, o: number, arch: number, length: number): MultibootHeader {
  if (arch !== 0) throw new ImageError(r.file, `multiboot2 header at ${hex(o)} is for architecture ${arch}, not i386 (0)`);
  r.check(o, length, 'multiboot2 header');
  const h: MultibootHeader = { version: 2, offset: o, flags: 0 };
  let t = o + 16;
  while (t + 8 <= o + length) {
    const type = r.u16(t), tagFlags = r.u16(t + 2), size = r.u32(t + 4);
    const optional = (tagFlags & 1) !== 0;
    if (size < 8) throw new ImageError(r.file, `multiboot2 header tag at ${hex(t)} has invalid size ${size}`);
    r.check(t, size, `multiboot2 header tag ${type}`);
    if (type === 0) break;
    switch (type) {
      case 1: // information request
        for (let i = t + 8; i + 4 <= t + size; i += 4) {
          const want = r.u32(i);
          if (!V2_INFO_PROVIDED.has(want) && !V2_INFO_ABSENT_OK.has(want) && !optional) {
            throw new ImageError(r.file, `multiboot2 kernel requires information tag ${want}, which vpdbg does not provide`);
          }
        }
        break;
      case 2: h.address = { headerAddr: r.u32(t + 8), loadAddr: r.u32(t + 12), loadEndAddr: r.u32(t + 16), bssEndAddr: r.u32(t + 20) }; break;
      case 3: h.entryAddr = r.u32(t + 8); break;
      case 4: case 5: case 6: case 10: break; // console flags, framebuffer preference, module alignment, relocatable: satisfied or a preference
      default:
        if (!optional) throw new ImageError(r.file, `multiboot2 header tag ${type} (${V2_TAG_NAMES[type] ?? 'unknown'}) is required but not supported`);
    }
    t += (size + 7) & ~7;
  }
  return h;
}

const V2_TAG_NAMES: Record<number, string> = { 7: 'EFI boot services', 8: 'EFI i386 entry', 9: 'EFI amd64 entry' };
/** Information tags the v2 info structure carries: command line, loader name, basic memory, memory map. */
const V2_INFO_PROVIDED = new Set([1, 2, 4, 6]);
/** Tags whose absence is itself the answer: modules (3) — there are none. */
const V2_INFO_ABSENT_OK = new Set([3]);

/**
 * The PC memory map reported to the kernel: conventional memory, the BIOS holes, RAM from
 * 1 MiB to the 32-bit MMIO hole, then RAM above 4 GiB (see ramLayout.ts).
 */
export function memoryMap(memoryBytes: number): { base: number; length: number; type: number }[] {
  const [low, ...high] = ramRanges(memoryBytes);
  const map = [{ base: 0, length: Math.min(low.size, 0x9fc00), type: 1 }];
  if (low.size > 0x9fc00) map.push({ base: 0x9fc00, length: 0x400, type: 2 }, { base: 0xf0000, length: 0x10000, type: 2 });
  if (low.size > 0x100000) map.push({ base: 0x100000, length: low.size - 0x100000, type: 1 });
  for (const r of high) map.push({ base: r.base, length: r.size, type: 1 });
  return map;
}

/** mem_lower and mem_upper in KiB: conventional memory, and RAM from 1 MiB to the first hole. */
function basicMemory(memoryBytes: number): [number, number] {
  const low = lowRamBytes(memoryBytes);
  return [Math.min(low, 0x9fc00) >>> 10, Math.max(0, low - 0x100000) >>> 10];
}

function cstr(s: string): Uint8Array { return Buffer.from(s + '\0', 'latin1'); }

export function multibootInfoV1(at: number, memoryBytes: number, commandLine: string): Uint8Array {
  const fixed = 120;
  const map = memoryMap(memoryBytes);
  const cmd = cstr(commandLine), name = cstr(BOOT_LOADER_NAME);
  const out = new Uint8Array(fixed + map.length * 24 + cmd.length + name.length);
  const v = new DataView(out.buffer);
  const mmapAt = fixed, cmdAt = mmapAt + map.length * 24, nameAt = cmdAt + cmd.length;
  // flags: mem_* (0), cmdline (2), mods (3, zero modules), mmap (6), boot_loader_name (9)
  v.setUint32(0, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9), true);
  const [lower, upper] = basicMemory(memoryBytes);
  v.setUint32(4, lower, true);
  v.setUint32(8, upper, true);
  v.setUint32(16, at + cmdAt, true);
  v.setUint32(20, 0, true);
  v.setUint32(24, at + fixed, true);
  v.setUint32(44, map.length * 24, true);
  v.setUint32(48, at + mmapAt, true);
  v.setUint32(64, at + nameAt, true);
  map.forEach((e, i) => {
    const o = mmapAt + i * 24;
    v.setUint32(o, 20, true); // size of the entry, not counting this field
    v.setBigUint64(o + 4, BigInt(e.base), true);
    v.setBigUint64(o + 12, BigInt(e.length), true);
    v.setUint32(o + 20, e.type, true);
  });
  out.set(cmd, cmdAt);
  out.set(name, nameAt);
  return out;
}

export function multibootInfoV2(memoryBytes: number, commandLine: string): Uint8Array {
  const tags: Uint8Array[] = [];
  const tag = (type: number, payload: Uint8Array) => {
    const t = new Uint8Array((8 + payload.length + 7) & ~7);
    const v = new DataView(t.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, 8 + payload.length, true);
    t.set(payload, 8);
    tags.push(t);
  };
  tag(1, cstr(commandLine));
  tag(2, cstr(BOOT_LOADER_NAME));
  const mem = new DataView(new ArrayBuffer(8));
  const [lower, upper] = basicMemory(memoryBytes);
  mem.setUint32(0, lower, true);
  mem.setUint32(4, upper, true);
  tag(4, new Uint8Array(mem.buffer));
  const map = memoryMap(memoryBytes);
  const mm = new DataView(new ArrayBuffer(8 + map.length * 24));
  mm.setUint32(0, 24, true); // entry_size
  mm.setUint32(4, 0, true); // entry_version
  map.forEach((e, i) => {
    mm.setBigUint64(8 + i * 24, BigInt(e.base), true);
    mm.setBigUint64(16 + i * 24, BigInt(e.length), true);
    mm.setUint32(24 + i * 24, e.type, true);
  });
  tag(6, new Uint8Array(mm.buffer));
  tag(0, new Uint8Array(0));
  const total = 8 + tags.reduce((n, t) => n + t.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, total, true);
  let o = 8;
  for (const t of tags) { out.set(t, o); o += t.length; }
  return out;
}

function addressSegments(data: Uint8Array, file: string, h: MultibootHeader): BootSegment[] {
  const a = h.address!;
  const { headerAddr, loadAddr, bssEndAddr } = a;
  if (headerAddr < loadAddr) throw new ImageError(file, `multiboot header_addr ${hex(headerAddr)} is below load_addr ${hex(loadAddr)}`);
  const fileStart = h.offset - (headerAddr - loadAddr);
  if (fileStart < 0) throw new ImageError(file, `multiboot load_addr ${hex(loadAddr)} lies before the start of the file`);
  const loadEndAddr = a.loadEndAddr === 0 ? loadAddr + (data.length - fileStart) : a.loadEndAddr;
  if (loadEndAddr < loadAddr) throw new ImageError(file, `multiboot load_end_addr ${hex(loadEndAddr)} is below load_addr ${hex(loadAddr)}`);
  const fileSize = loadEndAddr - loadAddr;
  if (fileStart + fileSize > data.length) {
    throw new ImageError(file, `truncated: multiboot load range needs ${fileSize} bytes from offset ${hex(fileStart)} but the file has ${data.length}`);
  }
  const memEnd = bssEndAddr === 0 ? loadEndAddr : bssEndAddr;
  if (memEnd < loadEndAddr) throw new ImageError(file, `multiboot bss_end_addr ${hex(memEnd)} is below load_end_addr ${hex(loadEndAddr)}`);
  return [{ gpa: loadAddr, data: data.subarray(fileStart, fileStart + fileSize), memSize: memEnd - loadAddr, what: 'multiboot load range' }];
}

export function loadMultiboot(data: Uint8Array, file: string, options: LoadOptions, header?: MultibootHeader): BootPlan {
  const h = header ?? findMultibootHeader(data, file);
  if (!h) throw new ImageError(file, 'no multiboot header (magic 0x1BADB002 or 0xE85250D6 with a valid checksum) in the first 32 KiB');
  if (options.mode) throw new ImageError(file, '--mode applies to flat images only (multiboot kernels start in 32-bit protected mode)');
  let segments: BootSegment[];
  let entry: number;
  if (h.address) {
    segments = addressSegments(data, file, h);
    if (h.entryAddr === undefined) throw new ImageError(file, 'multiboot2 address tag without an entry address tag');
    entry = h.entryAddr;
  } else if (isElf(data)) {
    const elf = parseElf(data, file);
    segments = elfSegments(elf, data, file);
    entry = h.entryAddr ?? physicalEntry(elf, elf.entry);
  } else {
    throw new ImageError(file, `multiboot v${h.version} header has no load addresses and the file is not ELF`);
  }
  if (options.entry !== undefined) entry = options.entry;
  const mem = options.memoryBytes;
  validateSegments(file, segments, mem);
  checkEntry(file, entry, segments, mem, options.entry === undefined);
  const state = entryState(file, 'protected', entry, segments, mem);
  const commandLine = options.commandLine ?? basename(file);
  const infoSize = h.version === 1 ? multibootInfoV1(0, mem, commandLine).length : multibootInfoV2(mem, commandLine).length;
  const infoAt = findFreeSpace(file, segments, infoSize, 8, 0x1000, lowRamBytes(mem), 'multiboot information structure');
  const info = h.version === 1 ? multibootInfoV1(infoAt, mem, commandLine) : multibootInfoV2(mem, commandLine);
  segments.push({ gpa: infoAt, data: info, memSize: info.length, what: 'multiboot information structure' });
  validateSegments(file, segments, mem);
  state.gprs.rax = BigInt(h.version === 1 ? MULTIBOOT1_BOOT_MAGIC : MULTIBOOT2_BOOT_MAGIC);
  state.gprs.rbx = BigInt(infoAt);
  return {
    file, format: h.version === 1 ? 'multiboot' : 'multiboot2', entry: BigInt(entry), segments, state,
    notes: [`multiboot v${h.version} kernel, entry ${hex(entry)}, information structure at ${hex(infoAt)}`],
  };
}
