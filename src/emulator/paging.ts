// Page walks for 32-bit, PAE and 4-level paging, with A/D updates, permission checks and
// #PF error codes. Called only on a soft-TLB miss; the result describes one 4 KiB frame.

import type { Cpu } from './cpu';
import { Vec } from './exceptions';
import { AC } from './flags';
import type { PhysicalMemory } from './physicalMemory';

export const enum Access { Read = 0, Write = 1, Exec = 2 }

export const CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_NW = 0x20000000, CR0_CD = 0x40000000, CR0_PG = 0x80000000 | 0;
export const CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 0x10, CR4_PAE = 0x20, CR4_MCE = 0x40, CR4_PGE = 0x80, CR4_PCE = 0x100, CR4_OSFXSR = 0x200, CR4_OSXMMEXCPT = 0x400, CR4_UMIP = 0x800, CR4_FSGSBASE = 0x10000, CR4_OSXSAVE = 0x40000, CR4_SMEP = 0x100000, CR4_SMAP = 0x200000;
export const EFER_SCE = 1, EFER_LME = 0x100, EFER_LMA = 0x400, EFER_NXE = 0x800;

/** Physical-address width modelled (CPUID 0x80000008). Entry bits above it are reserved. */
export const MAXPHYADDR = 40;
const RSVD_HI = ((1 << (52 - 32)) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1); // entry bits 51:MAXPHYADDR, in the high dword

/** Result of a successful walk (fields on the CPU to avoid allocation). */
export interface WalkResult { gpa: number; writable: boolean; user: boolean; global: boolean; large: boolean }

const res: WalkResult = { gpa: 0, writable: true, user: true, global: false, large: false };

/** Thrown by readEntry during a probe (setAD = false) walk that meets an unbacked paging structure. */
const PROBE_MISS = { kind: 'probe-miss' as const };
let probing = false;

/** Reads a 4- or 8-byte paging entry at `gpa`; returns lo, sets c.walkHi. */
function readEntry(c: Cpu, mem: PhysicalMemory, gpa: number, wide: boolean): number {
  const pfn = Math.floor(gpa / 4096);
  // A probe does not allocate: an untouched RAM page reads as zeros (not present).
  const p = probing ? mem.peekPage(pfn) : mem.page(pfn);
  if (!p) {
    if (probing) {
      if (!mem.regionOf(pfn)) throw PROBE_MISS;
      c.walkHi = 0;
      return 0;
    }
    c.unsupported(`paging structure at unmapped GPA 0x${gpa.toString(16)}`);
  }
  const b = p!.bytes, o = gpa & 0xfff;
  c.walkHi = wide ? (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) : 0;
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

function setBits(c: Cpu, gpa: number, lo: number, bits: number, mem: PhysicalMemory): void {
  if ((lo & bits) === bits) return;
  const p = mem.page(Math.floor(gpa / 4096))!;
  const o = gpa & 0xfff;
  const v = lo | bits;
  p.bytes[o] = v; p.bytes[o + 1] = v >>> 8;
  if (p.storeHitsCode(o, 2)) c.codeWritten(p);
}

/**
 * Translates linear (lo, hi) for `access`. `user` is a CPL-3 access (not an implicit
 * supervisor access such as a descriptor-table read). Throws #PF on failure; `setAD` false
 * makes it a pure probe that returns undefined instead of faulting and changes nothing.
 */
export function walk(c: Cpu, lo: number, hi: number, access: Access, user: boolean, setAD: boolean): WalkResult | undefined {
  if (setAD) return walkTables(c, lo, hi, access, user, true);
  // A probe (debugger translation, instruction-byte capture) never exits or faults.
  probing = true;
  try {
    return walkTables(c, lo, hi, access, user, false);
  } catch (e) {
    if (e === PROBE_MISS) return undefined;
    throw e;
  } finally {
    probing = false;
  }
}

function walkTables(c: Cpu, lo: number, hi: number, access: Access, user: boolean, setAD: boolean): WalkResult | undefined {
  const mem = c.mem;
  if ((c.cr0 & CR0_PG) === 0) {
    // The page frame, like the paged walk returns: callers add the offset (lo & 0xfff).
    res.gpa = (c.long64 ? hi * 4294967296 + (lo >>> 0) : (lo >>> 0)) - (lo & 0xfff);
    res.writable = true; res.user = true; res.global = false; res.large = false;
    return res;
  }
  const cr4 = c.cr4;
  const nxe = (c.efer & EFER_NXE) !== 0;
  let writable = true, usr = true, nx = false, rsvd = false, large = false;
  let gpa = 0, leafLo = 0, leafAddr = 0, glob = false;
  const write = access === Access.Write;
  // Entries visited (for A-bit updates after the permission check passes).
  const path = c.walkPath;
  let depth = 0;
  if ((cr4 & CR4_PAE) === 0) {
    // 32-bit paging.
    const pdeA = ((c.cr3Lo & 0xfffff000) >>> 0) + ((lo >>> 22) << 2);
    const pde = readEntry(c, mem, pdeA, false);
    if ((pde & 1) === 0) return pf(c, lo, hi, access, user, false, false, setAD);
    writable = (pde & 2) !== 0; usr = (pde & 4) !== 0;
    if ((pde & 0x80) && (cr4 & CR4_PSE)) {
      if (pde & 0x200000) rsvd = true;
      gpa = ((pde & 0xffc00000) >>> 0) + ((pde >>> 13) & 0xff) * 4294967296 + (lo & 0x3ff000);
      leafLo = pde; leafAddr = pdeA; large = true; glob = (pde & 0x100) !== 0;
    } else {
      path[depth++] = pdeA; path[depth++] = pde;
      const pteA = ((pde & 0xfffff000) >>> 0) + (((lo >>> 12) & 0x3ff) << 2);
      const pte = readEntry(c, mem, pteA, false);
      if ((pte & 1) === 0) return pf(c, lo, hi, access, user, false, false, setAD);
      writable = writable && (pte & 2) !== 0; usr = usr && (pte & 4) !== 0;
      gpa = (pte & 0xfffff000) >>> 0; leafLo = pte; leafAddr = pteA; glob = (pte & 0x100) !== 0;
    }
  } else {
    let tableAddr: number;
    let level: number;
    if (c.efer & EFER_LMA) {
      tableAddr = ((c.cr3Lo & 0xfffff000) >>> 0) + (c.cr3Hi & 0xfffff) * 4294967296;
      level = 4;
    } else {
      // PAE: the 4 PDPTEs (the CPU loads them at CR3 writes; re-read here, which matches as long as the guest does not edit live PDPTEs).
      const pdpteA = ((c.cr3Lo & 0xffffffe0) >>> 0) + ((lo >>> 30) << 3);
      const e = readEntry(c, mem, pdpteA, true);
      const eh = c.walkHi;
      if ((e & 1) === 0) return pf(c, lo, hi, access, user, false, false, setAD);
      if ((e & 0x1e6) || (eh & RSVD_HI) || eh < 0) return pf(c, lo, hi, access, user, true, true, setAD);
      tableAddr = ((e & 0xfffff000) >>> 0) + (eh & 0xfffff) * 4294967296;
      level = 2;
    }
    for (;;) {
      let idx: number;
      if (level === 4) idx = (hi >>> 7) & 0x1ff;
      else if (level === 3) idx = ((hi & 0x7f) << 2) | (lo >>> 30);
      else if (level === 2) idx = (lo >>> 21) & 0x1ff;
      else idx = (lo >>> 12) & 0x1ff;
      const ea = tableAddr + idx * 8;
      const e = readEntry(c, mem, ea, true);
      const eh = c.walkHi;
      if ((e & 1) === 0) return pf(c, lo, hi, access, user, false, false, setAD);
      if ((eh & RSVD_HI) || (eh < 0 && !nxe)) rsvd = true;
      writable = writable && (e & 2) !== 0; usr = usr && (e & 4) !== 0; nx = nx || eh < 0;
      const frame = ((e & 0xfffff000) >>> 0) + (eh & 0xfffff) * 4294967296;
      if (level === 1 || (e & 0x80) !== 0) {
        if (level === 4) rsvd = true;
        else if (level === 3) { if (e & 0x3fffe000) rsvd = true; gpa = frame - (frame % 0x40000000) + (lo & 0x3ffff000); large = true; }
        else if (level === 2) { if (e & 0x1fe000) rsvd = true; gpa = frame - (frame % 0x200000) + (lo & 0x1ff000); large = true; }
        else gpa = frame;
        leafLo = e; leafAddr = ea; glob = (e & 0x100) !== 0;
        break;
      }
      path[depth++] = ea; path[depth++] = e;
      tableAddr = frame;
      level--;
    }
    if (rsvd) return pf(c, lo, hi, access, user, true, true, setAD);
  }
  // Permission checks (SDM 4.6).
  let ok = true;
  if (user) {
    if (!usr) ok = false;
    else if (write && !writable) ok = false;
  } else {
    if (write && !writable && (c.cr0 & CR0_WP)) ok = false;
    if (usr) {
      if (access === Access.Exec && (cr4 & CR4_SMEP)) ok = false;
      if (access !== Access.Exec && (cr4 & CR4_SMAP) && (c.implicitSupervisor || c.cpl !== 3) && ((c.flags & AC) === 0 || c.implicitSupervisor)) ok = false;
    }
  }
  if (access === Access.Exec && nx && nxe) ok = false;
  if (!ok) return pf(c, lo, hi, access, user, true, false, setAD);
  if (setAD) {
    for (let k = 0; k < depth; k += 2) setBits(c, path[k], path[k + 1], 0x20, mem);
    setBits(c, leafAddr, leafLo, write ? 0x60 : 0x20, mem);
  }
  res.gpa = gpa; res.writable = writable; res.user = usr; res.global = glob && (cr4 & CR4_PGE) !== 0; res.large = large;
  return res;
}

function pf(c: Cpu, lo: number, hi: number, access: Access, user: boolean, present: boolean, rsvd: boolean, raise: boolean): undefined {
  if (!raise) return undefined;
  let code = (present ? 1 : 0) | (access === Access.Write ? 2 : 0) | (user ? 4 : 0) | (rsvd ? 8 : 0);
  if (access === Access.Exec && ((c.efer & EFER_NXE) || (c.cr4 & CR4_SMEP))) code |= 0x10;
  c.cr2Lo = lo; c.cr2Hi = hi;
  c.raise(Vec.PF, code);
}
