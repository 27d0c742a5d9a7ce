// Sparse guest-physical memory shared by all VPs of a partition.
//
// GPAs are split into 4 KiB pages reached through a three-level directory of plain arrays
// (pfn bits 39:20, 19:10, 9:0), so a 64 GiB map costs a few small arrays plus the pages the
// guest touches. The CPU caches GuestPage objects in its soft TLB and only comes here on a
// TLB miss; each page also carries the code-tracking state the block cache relies on.

import type { GpaPermissions, GuestPhysicalMemory } from './vcpu';

export const PAGE_SIZE = 4096;
const CHUNK = 1024; // pages per leaf directory

/** One mapped range, as created by mapRam/mapRom. */
export interface Region {
  /** Mapped range [gpa, gpa + size) (what is left of it after partial unmaps). */
  gpa: number;
  size: number;
  /** GPA of data[0] for ROM regions. */
  origin: number;
  permissions: GpaPermissions;
  rom: boolean;
  /** Initial contents of a ROM region (pages are copied out of it lazily). */
  data?: Uint8Array;
}

/** A resident 4 KiB page of guest memory. */
export class GuestPage {
  readonly bytes = new Uint8Array(PAGE_SIZE);
  /** The same bytes for little-endian 16/32-bit loads and stores (one machine access each once optimized). */
  readonly view = new DataView(this.bytes.buffer);
  /** Decoded blocks starting in this page, by offset; null when no code was decoded here. */
  blocks: (object | undefined)[] | null = null;
  /** Translated regions compiled from this page's blocks since its code last changed (blockCache.ts). */
  regionCompiles = 0;
  /**
   * Which 64-byte chunks hold bytes of decoded instructions (bit i of lo/hi: chunk i / i - 32).
   * A store elsewhere in the page (a stack or data beside the code) leaves the code cached.
   */
  codeChunksLo = 0;
  codeChunksHi = 0;

  /** Records that bytes [start, end) were decoded into a cached block. */
  markCodeBytes(start: number, end: number): void {
    for (let i = start >> 6, last = (end - 1) >> 6; i <= last; i++) {
      if (i < 32) this.codeChunksLo |= 1 << i; else this.codeChunksHi |= 1 << (i - 32);
    }
  }

  /** Whether a store to bytes [o, o + size) of this page touches decoded code. */
  storeHitsCode(o: number, size: number): boolean {
    if (this.blocks === null) return false;
    for (let i = o >> 6, last = Math.min(o + size - 1, 4095) >> 6; i <= last; i++) {
      if (i < 32 ? (this.codeChunksLo >>> i) & 1 : (this.codeChunksHi >>> (i - 32)) & 1) return true;
    }
    return false;
  }
  /** Bumped every time cached code in this page is invalidated. */
  codeGen = 0;
  constructor(readonly pfn: number, readonly region: Region) {}
}

interface Leaf { pages: (GuestPage | undefined)[] }

/** Callbacks a CPU registers to hear about changes that invalidate its TLB or code caches. */
export interface MemoryListener {
  /** A page became a code page: write-TLB entries for it must go (writes must take the slow path). */
  onCodePage(page: GuestPage): void;
  /** Mappings changed: every cached translation to a GuestPage must go. */
  onRemap(): void;
}

export class PhysicalMemory implements GuestPhysicalMemory {
  private readonly top: (((Leaf | undefined)[]) | undefined)[] = [];
  /** Mapped regions sorted by GPA (few; searched only on TLB misses and cold copies). */
  private readonly regions: Region[] = [];
  private resident = 0;
  private readonly listeners: MemoryListener[] = [];

  addListener(l: MemoryListener): void { this.listeners.push(l); }
  removeListener(l: MemoryListener): void {
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  mapRam(gpa: number, size: number, permissions: GpaPermissions): void {
    this.addRegion({ gpa, size, origin: gpa, permissions: { ...permissions }, rom: false });
  }

  mapRom(gpa: number, data: Uint8Array, permissions?: GpaPermissions): void {
    const size = Math.ceil(data.length / PAGE_SIZE) * PAGE_SIZE;
    this.addRegion({ gpa, size, origin: gpa, permissions: permissions ? { ...permissions } : { read: true, write: false, execute: true }, rom: true, data: data.slice() });
  }

  unmap(gpa: number, size: number): void {
    checkRange(gpa, size);
    const end = gpa + size;
    const kept: Region[] = [];
    for (const r of this.regions) {
      const rEnd = r.gpa + r.size;
      if (rEnd <= gpa || r.gpa >= end) { kept.push(r); continue; }
      // Drop the resident pages of the overlap, keep the remainders as regions.
      for (let a = Math.max(r.gpa, gpa); a < Math.min(rEnd, end); a += PAGE_SIZE) {
        const pfn = a / PAGE_SIZE;
        const leaf = this.leaf(pfn, false);
        const p = leaf?.pages[pfn % CHUNK];
        if (p) { this.resident -= PAGE_SIZE; p.codeGen++; leaf!.pages[pfn % CHUNK] = undefined; }
      }
      if (r.gpa < gpa) kept.push({ ...r, size: gpa - r.gpa });
      if (rEnd > end) kept.push({ ...r, gpa: end, size: rEnd - end });
    }
    this.regions.length = 0;
    this.regions.push(...kept.sort((a, b) => a.gpa - b.gpa));
    for (const l of this.listeners) l.onRemap();
  }

  lookup(gpa: number): { gpa: number; size: number; permissions: GpaPermissions; rom: boolean } | undefined {
    if (!(gpa >= 0 && gpa < 2 ** 52)) return undefined;
    const r = this.regionOf(Math.floor(gpa / PAGE_SIZE));
    return r ? { gpa: r.gpa, size: r.size, permissions: { ...r.permissions }, rom: r.rom } : undefined;
  }

  /** Region covering page `pfn`, or undefined. */
  regionOf(pfn: number): Region | undefined {
    const gpa = pfn * PAGE_SIZE;
    const rs = this.regions;
    let lo = 0, hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid];
      if (gpa < r.gpa) hi = mid - 1;
      else if (gpa >= r.gpa + r.size) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Resident page for `pfn`, allocating it on first touch; undefined if unmapped. */
  page(pfn: number): GuestPage | undefined {
    const p = this.leaf(pfn, false)?.pages[pfn % CHUNK];
    if (p) return p;
    const r = this.regionOf(pfn);
    if (!r) return undefined;
    const leaf = this.leaf(pfn, true)!;
    const i = pfn % CHUNK;
    const np = new GuestPage(pfn, r);
    if (r.data) {
      const off = pfn * PAGE_SIZE - r.origin;
      if (off < r.data.length) np.bytes.set(r.data.subarray(off, Math.min(off + PAGE_SIZE, r.data.length)));
    }
    leaf.pages[i] = np;
    this.resident += PAGE_SIZE;
    return np;
  }

  /** Resident page for `pfn` without allocating. */
  peekPage(pfn: number): GuestPage | undefined {
    return this.leaf(pfn, false)?.pages[pfn % CHUNK];
  }

  /** Marks `page` as holding decoded code; CPUs then route writes to it through their slow path. */
  markCode(page: GuestPage): void {
    if (page.blocks) return;
    page.blocks = [];
    for (const l of this.listeners) l.onCodePage(page);
  }

  /** Drops the decoded code of `page` (called by a CPU's write slow path). */
  invalidateCode(page: GuestPage): void {
    page.blocks = null;
    page.regionCompiles = 0;
    page.codeChunksLo = 0; page.codeChunksHi = 0;
    page.codeGen++;
  }

  read(gpa: number, dst: Uint8Array): boolean {
    return this.copy(gpa, dst, false);
  }

  write(gpa: number, src: Uint8Array): boolean {
    return this.copy(gpa, src, true);
  }

  residentBytes(): number { return this.resident; }

  private copy(gpa: number, buf: Uint8Array, toGuest: boolean): boolean {
    if (!(gpa >= 0 && gpa + buf.length <= 2 ** 52)) return false;
    // Check the whole range first so a failed copy changes nothing.
    for (let pos = 0; pos < buf.length;) {
      const a = gpa + pos;
      if (!this.regionOf(Math.floor(a / PAGE_SIZE))) return false;
      pos += PAGE_SIZE - (a % PAGE_SIZE);
    }
    for (let pos = 0; pos < buf.length;) {
      const a = gpa + pos;
      const pfn = Math.floor(a / PAGE_SIZE);
      const off = a % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, buf.length - pos);
      if (toGuest) {
        const p = this.page(pfn)!;
        p.bytes.set(buf.subarray(pos, pos + n), off);
        if (p.storeHitsCode(off, n)) this.invalidateCode(p);
      } else {
        const p = this.peekPage(pfn);
        if (p) buf.set(p.bytes.subarray(off, off + n), pos);
        else {
          const r = this.regionOf(pfn)!;
          if (r.data) {
            const roff = a - r.origin;
            const part = r.data.subarray(Math.min(roff, r.data.length), Math.min(roff + n, r.data.length));
            buf.fill(0, pos, pos + n);
            buf.set(part, pos);
          } else buf.fill(0, pos, pos + n);
        }
      }
      pos += n;
    }
    return true;
  }

  private addRegion(r: Region): void {
    checkRange(r.gpa, r.size);
    for (const o of this.regions) {
      if (o.gpa < r.gpa + r.size && r.gpa < o.gpa + o.size) throw new RangeError(`GPA 0x${Math.max(o.gpa, r.gpa).toString(16)} is already mapped`);
    }
    this.regions.push(r);
    this.regions.sort((a, b) => a.gpa - b.gpa);
    for (const l of this.listeners) l.onRemap();
  }

  private leaf(pfn: number, create: boolean): Leaf | undefined {
    const t = Math.floor(pfn / (CHUNK * CHUNK));
    let mid = this.top[t];
    if (!mid) {
      if (!create) return undefined;
      mid = this.top[t] = [];
    }
    const m = Math.floor(pfn / CHUNK) % CHUNK;
    let leaf = mid[m];
    if (!leaf) {
      if (!create) return undefined;
      leaf = mid[m] = { pages: new Array(CHUNK).fill(undefined) };
    }
    return leaf;
  }
}

function checkRange(gpa: number, size: number): void {
  if (!Number.isInteger(gpa) || !Number.isInteger(size) || gpa < 0 || size <= 0 || gpa % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || gpa + size > 2 ** 52) {
    throw new RangeError(`bad GPA range 0x${gpa.toString(16)}+0x${size.toString(16)} (page-aligned, below 2^52)`);
  }
}
