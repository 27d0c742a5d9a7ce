// Builds small ELF32/ELF64 executables in memory for loader tests (no toolchain needed).

export interface TestSegment { paddr: number; vaddr?: number; data: Uint8Array; memsz?: number }

export function buildElf(cls: 32 | 64, entry: number, segments: TestSegment[], machine = cls === 64 ? 62 : 3): Uint8Array {
  const ehsize = cls === 64 ? 64 : 52;
  const phentsize = cls === 64 ? 56 : 32;
  const phoff = ehsize;
  let dataOff = phoff + phentsize * segments.length;
  // Segment data 16-byte aligned in the file, as linkers place it (multiboot2 headers need 8).
  const offsets = segments.map((s) => { dataOff = (dataOff + 15) & ~15; const o = dataOff; dataOff += s.data.length; return o; });
  const out = new Uint8Array(dataOff);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, cls === 64 ? 2 : 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true);
  if (cls === 64) {
    v.setBigUint64(24, BigInt(entry), true);
    v.setBigUint64(32, BigInt(phoff), true);
    v.setUint16(52, ehsize, true);
    v.setUint16(54, phentsize, true);
    v.setUint16(56, segments.length, true);
  } else {
    v.setUint32(24, entry, true);
    v.setUint32(28, phoff, true);
    v.setUint16(40, ehsize, true);
    v.setUint16(42, phentsize, true);
    v.setUint16(44, segments.length, true);
  }
  segments.forEach((s, i) => {
    const o = phoff + i * phentsize;
    const memsz = s.memsz ?? s.data.length;
    if (cls === 64) {
      v.setUint32(o, 1, true); v.setUint32(o + 4, 5, true);
      v.setBigUint64(o + 8, BigInt(offsets[i]), true);
      v.setBigUint64(o + 16, BigInt(s.vaddr ?? s.paddr), true);
      v.setBigUint64(o + 24, BigInt(s.paddr), true);
      v.setBigUint64(o + 32, BigInt(s.data.length), true);
      v.setBigUint64(o + 40, BigInt(memsz), true);
    } else {
      v.setUint32(o, 1, true);
      v.setUint32(o + 4, offsets[i], true);
      v.setUint32(o + 8, s.vaddr ?? s.paddr, true);
      v.setUint32(o + 12, s.paddr, true);
      v.setUint32(o + 16, s.data.length, true);
      v.setUint32(o + 20, memsz, true);
      v.setUint32(o + 24, 5, true);
    }
    out.set(s.data, offsets[i]);
  });
  return out;
}

/** A multiboot v1 header (optionally with the a.out address fields). */
export function multiboot1Header(flags: number, address?: number[]): Uint8Array {
  const words = [0x1badb002, flags, (-(0x1badb002 + flags)) >>> 0, ...(address ?? [])];
  const out = new Uint8Array(words.length * 4);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return out;
}

/** A multiboot2 header with the given tags ([type, flags, payload words]); the end tag is added. */
export function multiboot2Header(tags: [number, number, number[]][]): Uint8Array {
  const body: number[] = [];
  for (const [type, flags, payload] of tags) {
    const size = 8 + payload.length * 4;
    body.push(type | (flags << 16), size, ...payload);
    if (size % 8) body.push(0);
  }
  body.push(0, 8);
  const length = 16 + body.length * 4;
  const words = [0xe85250d6, 0, length, (-(0xe85250d6 + length)) >>> 0, ...body];
  const out = new Uint8Array(words.length * 4);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return out;
}
