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
import { endsIndirect, isSelfLoop, staticSuccessors, translateRegion, type JitFn } from './jit/translator';

const MAX_BLOCK = 64;
/**
 * Guest instructions in one region at most. V8 never optimizes a function of more than 60 KiB
 * of bytecode (--max-optimized-bytecode-size), and a translated instruction with its slow
 * paths takes up to ~500 bytes of it; bigger regions would stay in V8's baseline tier.
 */
const MAX_REGION_INSNS = 96;
/** Region compilations per page generation before new hot blocks are compiled alone (bounds recompilation). */
const MAX_REGION_COMPILES = 16;

export class Block {
  constructor(
    readonly insns: Insn[],
    readonly mode: number,
    readonly linLo: number,
    readonly linHi: number,
    readonly epoch: number,
    /** A debugger breakpoint is set on the first instruction. */
    readonly bpAtStart: boolean,
    /** The page whose `blocks` hold this block; null for an uncached (page-straddling) block. */
    readonly page: GuestPage | null,
  ) {}

  /** Executions so far (the translation trigger). */
  hits = 0;
  /** Translated region holding this block (jit/translator.ts); dropped with the block when its page's code is invalidated. */
  jit: JitFn | null = null;
  /** This block's number in `jit`. */
  jitEntry = 0;
  /** `jit` is a page region (second tier), not the block alone. */
  inRegion = false;
  /** Calls of `jit` so far (the first few run with a short budget: Cpu.runInner). */
  jitCalls = 0;
}

/**
 * Translates a hot block. First alone (`region` false): a small function V8 optimizes at once.
 * Then, once it has run many times translated (`region` true), together with the other hot
 * blocks of its page into one region, so jumps, calls and returns between them chain inside the
 * compiled function; every member is pointed at the new region. Waiting for the second tier
 * lets a page's hot set settle first, so a region is rarely recompiled (each recompilation
 * starts V8's warm-up of the function over). Self-loops stay alone: they already loop inside
 * their function, and a region holding several loops costs V8 an OSR compilation per loop.
 */
export function translateHot(c: Cpu, b: Block, region: boolean): void {
  const members = [b];
  const page = b.page;
  if (region && page !== null && page.blocks !== null && page.regionCompiles < MAX_REGION_COMPILES && !isSelfLoop(b)) {
    page.regionCompiles++;
    // The region is what the trigger reaches through direct edges among translated blocks of
    // its page (a function and its callees, a loop nest), so unrelated code elsewhere in the
    // page does not grow it: V8's compile time grows with the function.
    const blocks = page.blocks, base = b.linLo & ~0xfff;
    const eligible = (x: unknown): x is Block => x instanceof Block && x.mode === b.mode && x.epoch === c.blockEpoch &&
      x.linHi === b.linHi && (x.linLo & ~0xfff) === base && !x.bpAtStart && x.jit !== null && !isSelfLoop(x);
    const seen = new Set<Block>([b]);
    let insns = b.insns.length;
    const add = (x: Block): void => {
      if (!seen.has(x) && insns + x.insns.length <= MAX_REGION_INSNS) { seen.add(x); members.push(x); insns += x.insns.length; }
    };
    let indirect = false;
    for (let i = 0; i < members.length; i++) {
      for (const o of staticSuccessors(members[i])) { const x = blocks[o]; if (eligible(x)) add(x); }
      indirect ||= endsIndirect(members[i]);
    }
    // A computed jump (a switch's jump table, a call through a pointer) may go to any block of
    // the page: take the page's other translated blocks too, hottest first, as room allows.
    if (indirect) blocks.filter(eligible).filter((x) => !seen.has(x)).sort((p, q) => q.hits - p.hits).forEach(add);
  }
  const fn = translateRegion(members);
  members.forEach((m, i) => { m.jit = fn; m.jitEntry = i; m.inRegion = region; m.jitCalls = 0; });
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
  const b = new Block(insns, c.codeMode, lo, hi, c.blockEpoch, bpAtStart, cacheable ? page : null);
  if (cacheable) {
    c.mem.markCode(page);
    page.markCodeBytes(start, off);
    page.blocks![start] = b;
  }
  return b;
}
