// A small, bounds-checked ELF reader (ELF32 and ELF64, little-endian, x86 and x86-64):
// the header, program headers, section headers and symbol tables. Every offset read
// from the file is checked against its length, so a malformed image gives an ImageError
// rather than a host exception.

import { ImageError } from './imageError';

export const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian

export const PT_LOAD = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const EM_386 = 3;
export const EM_X86_64 = 62;
const ET_EXEC = 2;
const ET_DYN = 3;

export interface ElfProgramHeader {
  type: number; flags: number; offset: number; vaddr: number; paddr: number; filesz: number; memsz: number;
}

export interface ElfSection {
  name: string; type: number; flags: number; addr: number; offset: number; size: number; link: number; entsize: number;
}

export interface ElfSymbol {
  name: string; value: number; size: number;
  /** STT_* (low nibble of st_info): 0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION, 4 FILE. */
  type: number;
  /** STB_* (high nibble): 0 LOCAL, 1 GLOBAL, 2 WEAK. */
  bind: number;
  shndx: number;
}

export interface ElfFile {
  class: 32 | 64;
  machine: number;
  type: number;
  entry: number;
  programHeaders: ElfProgramHeader[];
  sections: ElfSection[];
  /** The bytes of a section, or undefined if it has none (NOBITS) or does not exist. */
  sectionData(name: string): Uint8Array | undefined;
}

export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/** Reads little-endian integers with bounds checks that raise ImageError naming the file. */
export class ByteReader {
  readonly view: DataView;
  constructor(readonly data: Uint8Array, readonly file: string) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  check(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || size < 0 || offset + size > this.data.length) {
      throw new ImageError(this.file, `truncated: ${what} at offset 0x${Math.max(0, offset).toString(16)} (+${size}) runs past the end of the ${this.data.length}-byte file`);
    }
  }
  u8(o: number, what = 'field'): number { this.check(o, 1, what); return this.data[o]; }
  u16(o: number, what = 'field'): number { this.check(o, 2, what); return this.view.getUint16(o, true); }
  u32(o: number, what = 'field'): number { this.check(o, 4, what); return this.view.getUint32(o, true); }
  /** A 64-bit field as a number; values above 2^53 are rejected (no guest address is that large). */
  u64(o: number, what = 'field'): number {
    this.check(o, 8, what);
    const v = this.view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError(this.file, `${what} 0x${v.toString(16)} is out of range`);
    return Number(v);
  }
  bytes(o: number, size: number, what: string): Uint8Array { this.check(o, size, what); return this.data.subarray(o, o + size); }
  cstring(o: number, max = 4096): string {
    let end = o;
    while (end < this.data.length && end - o < max && this.data[end] !== 0) end++;
    return Buffer.from(this.data.subarray(o, end)).toString('latin1');
  }
}

export function parseElf(data: Uint8Array, file: string): ElfFile {
  const r = new ByteReader(data, file);
  if (!isElf(data)) throw new ImageError(file, 'not an ELF file (no \\x7fELF magic)');
  r.check(0, 52, 'ELF header');
  const cls = r.u8(4);
  if (cls !== 1 && cls !== 2) throw new ImageError(file, `unknown ELF class ${cls}`);
  if (r.u8(5) !== 1) throw new ImageError(file, 'big-endian ELF files are not x86 images');
  const is64 = cls === 2;
  r.check(0, is64 ? 64 : 52, 'ELF header');
  const type = r.u16(16);
  const machine = r.u16(18);
  if (machine !== EM_386 && machine !== EM_X86_64) throw new ImageError(file, `ELF machine ${machine} is not x86 (3) or x86-64 (62)`);
  if (type !== ET_EXEC && type !== ET_DYN) throw new ImageError(file, `ELF type ${type} is not an executable (relocatable objects must be linked first)`);
  const addr = (o: number, what: string) => (is64 ? r.u64(o, what) : r.u32(o, what));
  const entry = addr(24, 'e_entry');
  const phoff = addr(is64 ? 32 : 28, 'e_phoff');
  const shoff = addr(is64 ? 40 : 32, 'e_shoff');
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  const shnum = r.u16(is64 ? 60 : 48);
  const shstrndx = r.u16(is64 ? 62 : 50);

  const programHeaders: ElfProgramHeader[] = [];
  if (phnum > 0) {
    if (phentsize < (is64 ? 56 : 32)) throw new ImageError(file, `program header entry size ${phentsize} is too small`);
    r.check(phoff, phnum * phentsize, 'program header table');
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      const what = `program header ${i}`;
      programHeaders.push(is64
        ? { type: r.u32(o), flags: r.u32(o + 4), offset: r.u64(o + 8, what), vaddr: r.u64(o + 16, what), paddr: r.u64(o + 24, what), filesz: r.u64(o + 32, what), memsz: r.u64(o + 40, what) }
        : { type: r.u32(o), offset: r.u32(o + 4), vaddr: r.u32(o + 8), paddr: r.u32(o + 12), filesz: r.u32(o + 16), memsz: r.u32(o + 20), flags: r.u32(o + 24) });
    }
  }

  const sections: ElfSection[] = [];
  if (shnum > 0 && shoff !== 0) {
    if (shentsize < (is64 ? 64 : 40)) throw new ImageError(file, `section header entry size ${shentsize} is too small`);
    r.check(shoff, shnum * shentsize, 'section header table');
    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      const what = `section header ${i}`;
      raw.push(is64
        ? { nameOff: r.u32(o), type: r.u32(o + 4), flags: r.u64(o + 8, what), addr: r.u64(o + 16, what), offset: r.u64(o + 24, what), size: r.u64(o + 32, what), link: r.u32(o + 40), entsize: r.u64(o + 56, what) }
        : { nameOff: r.u32(o), type: r.u32(o + 4), flags: r.u32(o + 8), addr: r.u32(o + 12), offset: r.u32(o + 16), size: r.u32(o + 20), link: r.u32(o + 24), entsize: r.u32(o + 36) });
    }
    const strtab = shstrndx < raw.length && raw[shstrndx].type !== SHT_NOBITS ? raw[shstrndx] : undefined;
    if (strtab) r.check(strtab.offset, strtab.size, 'section name table');
    for (const s of raw) {
      const name = strtab && s.nameOff < strtab.size ? r.cstring(strtab.offset + s.nameOff, strtab.size - s.nameOff) : '';
      sections.push({ name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size, link: s.link, entsize: s.entsize });
    }
  }

  return {
    class: is64 ? 64 : 32, machine, type, entry, programHeaders, sections,
    sectionData(name: string) {
      const s = sections.find((x) => x.name === name);
      if (!s || s.type === SHT_NOBITS) return undefined;
      return r.bytes(s.offset, s.size, `section ${name}`);
    },
  };
}

/** Symbols of SHT_SYMTAB (and SHT_DYNSYM) sections, with names resolved. */
export function readElfSymbols(data: Uint8Array, file: string, elf: ElfFile): ElfSymbol[] {
  const r = new ByteReader(data, file);
  const out: ElfSymbol[] = [];
  const is64 = elf.class === 64;
  const entsize = is64 ? 24 : 16;
  for (const sec of elf.sections) {
    if (sec.type !== SHT_SYMTAB && sec.type !== SHT_DYNSYM) continue;
    const strsec = elf.sections[sec.link];
    if (!strsec || strsec.type !== SHT_STRTAB) continue;
    r.check(sec.offset, sec.size, `section ${sec.name}`);
    r.check(strsec.offset, strsec.size, `section ${strsec.name}`);
    const count = Math.floor(sec.size / entsize);
    for (let i = 1; i < count; i++) {
      const o = sec.offset + i * entsize;
      const nameOff = r.u32(o);
      const info = is64 ? r.u8(o + 4) : r.u8(o + 12);
      const shndx = is64 ? r.u16(o + 6) : r.u16(o + 14);
      const value = is64 ? r.u64(o + 8, 'st_value') : r.u32(o + 4);
      const size = is64 ? r.u64(o + 16, 'st_size') : r.u32(o + 8);
      const name = nameOff < strsec.size ? r.cstring(strsec.offset + nameOff, strsec.size - nameOff) : '';
      out.push({ name, value, size, type: info & 0xf, bind: info >> 4, shndx });
    }
  }
  return out;
}
