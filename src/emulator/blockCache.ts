// Decoded basic blocks, cached per guest-physical page (GuestPage.blocks, by page offset)
// and validated against the code generation of the page, the decoding mode, the linear
// address and the breakpoint epoch. A block never crosses a page: an instruction that
// straddles two pages is decoded into an uncached one-instruction block, so invalidating
// by page (on any write to it) keeps self-modifying code correct.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import type { GuestPage } from './physicalMemory';
import { decode, NEED_MORE } from './decoder';
import { FAULT, EXIT } from './exceptions';
import type { JitFn } from './jit/translator';

const MAX_BLOCK = 64;

export class Block {
  constructor(
    readonly insns: Insn[],
    readonly mode: number,
    readonly linLo: number,
    readonly linHi: number,
    readonly epoch: number,
    /** A debugger breakpoint is set on the first instruction. */
    readonly bpAtStart: boolean,
  ) {}

  /** Executions so far (the translation trigger). */
  hits = 0;
  /** Translated form (jit/translator.ts); dropped with the block when its page's code is invalidated. */
  jit: JitFn | null = null;
}

export function buildBlock(c: Cpu, page: GuestPage, lo: number, hi: number): Block {
  const bytes = page.bytes;
  const start = lo & 0xfff;
  const insns: Insn[] = [];
  let off = start;
  let cacheable = true;
  const bpAtStart = c.isBreakpoint(lo, hi);
  while (off < 0x1000 && insns.length < MAX_BLOCK) {
    const o = off;
    let next: Uint8Array | null = null;
    const fetch = (i: number): number => {
      const p = o + i;
      if (p < 0x1000) return bytes[p];
      if (!next) {
        // Straddling instruction: fetch the next page (may #PF) only for the block's first instruction.
        if (insns.length > 0) return -1;
        const s = (lo >>> 0) - start + 0x1000;
        next = c.fetchPage(s | 0, c.long64 ? (hi + (s > 0xffffffff ? 1 : 0)) | 0 : 0).bytes;
        cacheable = false;
      }
      return next[p - 0x1000];
    };
    let d: Insn;
    try {
      d = decode(fetch, c.codeMode);
    } catch (e) {
      if (e === NEED_MORE && insns.length > 0) break;
      if (e === FAULT || e === EXIT) throw e;
      throw e;
    }
    insns.push(d);
    off += d.len;
    if (d.flags & 1) break;
    if (off < 0x1000 && c.isBreakpoint((lo + (off - start)) | 0, hi)) break;
  }
  const b = new Block(insns, c.codeMode, lo, hi, c.blockEpoch, bpAtStart);
  if (cacheable) {
    c.mem.markCode(page);
    page.blocks![start] = b;
  }
  return b;
}
