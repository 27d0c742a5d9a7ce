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
  gpa: number;
  size: number;
  permissions: GpaPermissions;
  rom: boolean;
  /** Initial contents of a ROM region (pages are copied out of it lazily). */
  data?: Uint8Array;
}

/** A resident 4 KiB page of guest memory. */
export class GuestPage {
  readonly bytes = new Uint8Array(PAGE_SIZE);
  /** Decoded blocks starting in this page, by offset; null when no code was decoded here. */
  blocks: (object | undefined)[] | null = null;
  /** Bumped every time cached code in this page is invalidated. */
  codeGen = 0;
  constructor(readonly pfn: number, readonly region: Region) {}
}

interface Leaf { regions: (Region | undefined)[]; pages: (GuestPage | undefined)[] }

/** Callbacks a CPU registers to hear about changes that invalidate its TLB or code caches. */
export interface MemoryListener {
  /** A page became a code page: write-TLB entries for it must go (writes must take the slow path). */
  onCodePage(page: GuestPage): void;
  /** Mappings changed: every cached translation to a GuestPage must go. */
  onRemap(): void;
}

export class PhysicalMemory implements GuestPhysicalMemory {
  private readonly top: (((Leaf | undefined)[]) | undefined)[] = [];
  private readonly regions: Region[] = [];
  private resident = 0;
  private readonly listeners: MemoryListener[] = [];

  addListener(l: MemoryListener): void { this.listeners.push(l); }
  removeListener(l: MemoryListener): void {
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  mapRam(gpa: number, size: number, permissions: GpaPermissions): void {
    this.addRegion({ gpa, size, permissions: { ...permissions }, rom: false });
  }

  mapRom(gpa: number, data: Uint8Array, permissions?: GpaPermissions): void {
    const size = Math.ceil(data.length / PAGE_SIZE) * PAGE_SIZE;
    this.addRegion({ gpa, size, permissions: permissions ? { ...permissions } : { read: true, write: false, execute: true }, rom: true, data: data.slice() });
  }

  unmap(gpa: number, size: number): void {
    checkRange(gpa, size);
    for (let pfn = gpa / PAGE_SIZE, end = (gpa + size) / PAGE_SIZE; pfn < end; pfn++) {
      const leaf = this.leaf(pfn, false);
      if (!leaf) continue;
      const i = pfn % CHUNK;
      if (leaf.pages[i]) { this.resident -= PAGE_SIZE; leaf.pages[i]!.codeGen++; leaf.pages[i] = undefined; }
      leaf.regions[i] = undefined;
    }
    // Regions that are now partly unmapped keep describing the pages still mapped.
    for (let k = this.regions.length - 1; k >= 0; k--) {
      const r = this.regions[k];
      if (r.gpa >= gpa && r.gpa + r.size <= gpa + size) this.regions.splice(k, 1);
    }
    for (const l of this.listeners) l.onRemap();
  }

  lookup(gpa: number): { gpa: number; size: number; permissions: GpaPermissions; rom: boolean } | undefined {
    if (!(gpa >= 0 && gpa < 2 ** 52)) return undefined;
    const pfn = Math.floor(gpa / PAGE_SIZE);
    const r = this.leaf(pfn, false)?.regions[pfn % CHUNK];
    return r ? { gpa: r.gpa, size: r.size, permissions: { ...r.permissions }, rom: r.rom } : undefined;
  }

  /** Region covering page `pfn`, or undefined. */
  regionOf(pfn: number): Region | undefined {
    return this.leaf(pfn, false)?.regions[pfn % CHUNK];
  }

  /** Resident page for `pfn`, allocating it on first touch; undefined if unmapped. */
  page(pfn: number): GuestPage | undefined {
    const leaf = this.leaf(pfn, false);
    if (!leaf) return undefined;
    const i = pfn % CHUNK;
    const p = leaf.pages[i];
    if (p) return p;
    const r = leaf.regions[i];
    if (!r) return undefined;
    const np = new GuestPage(pfn, r);
    if (r.data) {
      const off = pfn * PAGE_SIZE - r.gpa;
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
        if (p.blocks) this.invalidateCode(p);
      } else {
        const p = this.peekPage(pfn);
        if (p) buf.set(p.bytes.subarray(off, off + n), pos);
        else {
          const r = this.regionOf(pfn)!;
          if (r.data) {
            const roff = a - r.gpa;
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
    for (let pfn = r.gpa / PAGE_SIZE, end = (r.gpa + r.size) / PAGE_SIZE; pfn < end; pfn++) {
      if (this.leaf(pfn, false)?.regions[pfn % CHUNK]) throw new RangeError(`GPA 0x${(pfn * PAGE_SIZE).toString(16)} is already mapped`);
    }
    for (let pfn = r.gpa / PAGE_SIZE, end = (r.gpa + r.size) / PAGE_SIZE; pfn < end; pfn++) {
      this.leaf(pfn, true)!.regions[pfn % CHUNK] = r;
    }
    this.regions.push(r);
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
      leaf = mid[m] = { regions: new Array(CHUNK).fill(undefined), pages: new Array(CHUNK).fill(undefined) };
    }
    return leaf;
  }
}

function checkRange(gpa: number, size: number): void {
  if (!Number.isInteger(gpa) || !Number.isInteger(size) || gpa < 0 || size <= 0 || gpa % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || gpa + size > 2 ** 52) {
    throw new RangeError(`bad GPA range 0x${gpa.toString(16)}+0x${size.toString(16)} (page-aligned, below 2^52)`);
  }
}
