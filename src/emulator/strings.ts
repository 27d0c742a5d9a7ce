// String instructions MOVS/CMPS/STOS/LODS/SCAS with REP/REPE/REPNE. Each REP iteration
// retires as one instruction: a REP runs as many iterations as the budget allows, then
// leaves RIP on itself so the next slice (or an interrupt) continues it. Registers are
// updated per iteration, so a fault mid-way leaves the architectural partial state.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { DF, TF, getZF } from './flags';
import { Seg } from './vcpu';
import { alu, AluOp } from './alu';
import { MASK } from './operands';
import { bulkChunk } from './stringsBulk';
import { advance, countZero, strAddr } from './stringRegisters';

/** One iteration of string op `d.op`: 0 MOVS, 1 CMPS, 2 STOS, 3 LODS, 4 SCAS. Returns false when a REPE/REPNE condition ends the loop. */
function once(c: Cpu, d: Insn): boolean {
  const s = d.os, as = d.as;
  const delta = (c.flags & DF) ? -s : s;
  const seg = d.segOvr >= 0 ? d.segOvr : Seg.DS;
  switch (d.op) {
    case 0: {
      const src = strAddr(c, seg, 6, as, s, false);
      const v = c.readN(src, c.hi, s), vh = c.hi;
      const dst = strAddr(c, Seg.ES, 7, as, s, true);
      c.writeN(dst, c.hi, s, v, vh);
      advance(c, 6, as, delta); advance(c, 7, as, delta);
      return true;
    }
    case 1: {
      const src = strAddr(c, seg, 6, as, s, false);
      const a = c.readN(src, c.hi, s), ah = c.hi;
      const dst = strAddr(c, Seg.ES, 7, as, s, false);
      const b = c.readN(dst, c.hi, s), bh = c.hi;
      alu(c, AluOp.Cmp, s, s < 4 ? a & MASK[s] : a, s === 8 ? ah : 0, s < 4 ? b & MASK[s] : b, s === 8 ? bh : 0);
      advance(c, 6, as, delta); advance(c, 7, as, delta);
      return d.rep === 1 ? getZF(c) : !getZF(c);
    }
    case 2: {
      const dst = strAddr(c, Seg.ES, 7, as, s, true);
      c.writeN(dst, c.hi, s, c.r[0], c.rh[0]);
      advance(c, 7, as, delta);
      return true;
    }
    case 3: {
      const src = strAddr(c, seg, 6, as, s, false);
      const v = c.readN(src, c.hi, s);
      c.setReg(0, s, v, c.hi);
      advance(c, 6, as, delta);
      return true;
    }
    default: {
      const dst = strAddr(c, Seg.ES, 7, as, s, false);
      const b = c.readN(dst, c.hi, s), bh = c.hi;
      const a = c.getReg(0, s), ah = s === 8 ? c.hi : 0;
      alu(c, AluOp.Cmp, s, a, ah, b, s === 8 ? bh : 0);
      advance(c, 7, as, delta);
      return d.rep === 1 ? getZF(c) : !getZF(c);
    }
  }
}

/** MOVS/CMPS/STOS/LODS/SCAS with optional REP prefix. */
export function stringOp(c: Cpu, d: Insn): void {
  if (d.rep === 0) { once(c, d); return; }
  const as = d.as;
  if (countZero(c, as)) return;
  // REP only conditions CMPS/SCAS; for the others F2 behaves as F3.
  const conditional = d.op === 1 || d.op === 4;
  // Single-step (TF) traps after every iteration, RIP still on the REP while iterations remain.
  let budget = c.stopAtCount() - c.icount;
  if (budget < 1 || (c.flags & TF)) budget = 1;
  // Whole in-page chunks run at once (stringsBulk.ts). Nothing but this loop can raise
  // breakLoop or an interrupt between iterations of a chunk (its pages are plain RAM reached
  // through the TLB), so the checks below at chunk granularity stop exactly where
  // per-iteration checks would; a CMPS/SCAS chunk ends with the compare that ends the loop.
  let done = 0;
  try {
    for (;;) {
      let go = true;
      const n = bulkChunk(c, d, c.breakLoop ? 1 : budget - done);
      if (n !== 0) {
        done += n;
        if (conditional) go = d.rep === 1 ? getZF(c) : !getZF(c);
      } else {
        go = once(c, d);
        advance(c, 1, as, -1);
        done++;
      }
      if (countZero(c, as) || (conditional && !go)) break;
      // A DR0-3 data breakpoint traps after the iteration that hit it (their pages stay out of the TLB).
      if (done >= budget || c.breakLoop || c.dataBreakHits !== 0) {
        // Not finished: the instruction stays at RIP for the next iteration.
        c.nextLo = c.ripLo; c.nextHi = c.ripHi;
        c.breakLoop = true;
        break;
      }
    }
  } catch (e) {
    // Each completed iteration retired; the faulting one did not.
    c.icount += done;
    throw e;
  }
  // The run loop counts the last iteration.
  c.icount += done - 1;
}
