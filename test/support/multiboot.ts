// Minimal multiboot v1 image reader for the CPU tests (the product loaders live in
// src/machine; these tests must not depend on them): finds the header in the first 8 KiB,
// then loads either the a.out-kludge addresses (flags bit 16) or the ELF32 PT_LOAD segments.

export interface LoadSegment { gpa: number; data: Uint8Array; memSize: number }
export interface MultibootImage { entry: number; segments: LoadSegment[] }

const MAGIC = 0x1badb002;

export function parseMultiboot(image: Uint8Array): MultibootImage {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  let at = -1;
  for (let off = 0; off + 12 <= Math.min(image.length, 8192); off += 4) {
    if (dv.getUint32(off, true) === MAGIC && ((dv.getUint32(off, true) + dv.getUint32(off + 4, true) + dv.getUint32(off + 8, true)) >>> 0) === 0) {
      at = off;
      break;
    }
  }
  if (at < 0) throw new Error('no multiboot v1 header in the first 8 KiB');
  const flags = dv.getUint32(at + 4, true);
  if (flags & 0x10000) {
    const [headerAddr, loadAddr, loadEnd, bssEnd, entry] = [12, 16, 20, 24, 28].map((o) => dv.getUint32(at + o, true));
    const fileStart = at - (headerAddr - loadAddr);
    if (fileStart < 0) throw new Error('multiboot a.out kludge: header_addr below load_addr');
    const size = loadEnd ? loadEnd - loadAddr : image.length - fileStart;
    const data = image.subarray(fileStart, fileStart + size);
    return { entry, segments: [{ gpa: loadAddr, data, memSize: bssEnd ? bssEnd - loadAddr : data.length }] };
  }
  if (dv.getUint32(0, false) !== 0x7f454c46 || image[4] !== 1) throw new Error('multiboot image is neither a.out-kludge nor ELF32');
  const phoff = dv.getUint32(28, true), phentsize = dv.getUint16(42, true), phnum = dv.getUint16(44, true);
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    const offset = dv.getUint32(p + 4, true), paddr = dv.getUint32(p + 12, true);
    const filesz = dv.getUint32(p + 16, true), memsz = dv.getUint32(p + 20, true);
    segments.push({ gpa: paddr, data: image.subarray(offset, offset + filesz), memSize: memsz });
  }
  return { entry: dv.getUint32(24, true), segments };
}
