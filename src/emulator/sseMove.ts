// SSE/SSE2 data movement: full-register moves (MOVAPS/MOVAPD/MOVDQA aligned, MOVUPS/MOVUPD/
// MOVDQU unaligned, the MOVNT* stores), scalar moves (MOVSS/MOVSD), half moves (MOVLPS/
// MOVHPS/MOVLPD/MOVHPD/MOVHLPS/MOVLHPS), GPR<->XMM moves (MOVD/MOVQ), MASKMOVDQU and the
// integer non-temporal store MOVNTI.

import type { Cpu } from './cpu';
import { Insn, type Handler } from './insn';
import { sseCheck, readM128, writeM128, readM64, writeM64, readM32, writeM32, S } from './sseCore';
import { rdRm, wrRm } from './operands';

/** xmm(reg) <- xmm/m128 (MOVAPS, MOVUPS, MOVAPD, MOVUPD, MOVDQA, MOVDQU loads). */
export function loadFull(aligned: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const x = c.xmm, b = d.reg << 2;
    if (d.mod === 3) { x.copyWithin(b, d.rm << 2, (d.rm << 2) + 4); return; }
    readM128(c, d, aligned, S);
    x[b] = S[0]; x[b + 1] = S[1]; x[b + 2] = S[2]; x[b + 3] = S[3];
  };
}

/** xmm/m128 <- xmm(reg) (the stores; the MOVNT forms are memory-only, checked at lookup). */
export function storeFull(aligned: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    if (d.mod === 3) { c.xmm.copyWithin(d.rm << 2, d.reg << 2, (d.reg << 2) + 4); return; }
    writeM128(c, d, aligned, c.xmm, d.reg << 2);
  };
}

/** MOVSS/MOVSD load: register form moves the low element only; memory form zeroes the rest. */
export function loadScalar(size: 4 | 8): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const x = c.xmm, b = d.reg << 2;
    if (d.mod === 3) {
      const s = d.rm << 2;
      x[b] = x[s];
      if (size === 8) x[b + 1] = x[s + 1];
      return;
    }
    if (size === 4) { x[b] = readM32(c, d); x[b + 1] = 0; } else { readM64(c, d, x, b); }
    x[b + 2] = 0; x[b + 3] = 0;
  };
}

/** MOVSS/MOVSD store: xmm/m32/m64 <- low element of xmm(reg). */
export function storeScalar(size: 4 | 8): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const x = c.xmm, b = d.reg << 2;
    if (d.mod === 3) {
      const t = d.rm << 2;
      x[t] = x[b];
      if (size === 8) x[t + 1] = x[b + 1];
      return;
    }
    if (size === 4) writeM32(c, d, x[b]); else writeM64(c, d, x[b], x[b + 1]);
  };
}

/** MOVLPS/MOVLPD (high = false) or MOVHPS/MOVHPD load from m64 into one half. */
export function loadHalf(high: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    readM64(c, d, S, 0);
    const b = (d.reg << 2) + (high ? 2 : 0);
    c.xmm[b] = S[0]; c.xmm[b + 1] = S[1];
  };
}

/** MOVLPS/MOVLPD/MOVHPS/MOVHPD m64 <- one half of xmm(reg). */
export function storeHalf(high: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const b = (d.reg << 2) + (high ? 2 : 0);
    writeM64(c, d, c.xmm[b], c.xmm[b + 1]);
  };
}

/** MOVHLPS (toLow: dest low <- source high) and MOVLHPS (dest high <- source low), register forms. */
export function moveHalves(toLow: boolean): Handler {
  return (c: Cpu, d: Insn): void => {
    sseCheck(c, d);
    const x = c.xmm, dst = (d.reg << 2) + (toLow ? 0 : 2), src = (d.rm << 2) + (toLow ? 2 : 0);
    const lo = x[src], hi = x[src + 1];
    x[dst] = lo; x[dst + 1] = hi;
  };
}

/** MOVD/MOVQ xmm, r/m32 (r/m64 with REX.W): zero-extends into the register. */
export function movdToXmm(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  const wide = (d.rex & 8) !== 0;
  const lo = rdRm(c, d, wide ? 8 : 4);
  const x = c.xmm, b = d.reg << 2;
  x[b] = lo; x[b + 1] = wide ? c.hi : 0; x[b + 2] = 0; x[b + 3] = 0;
}

/** MOVD/MOVQ r/m32 (r/m64 with REX.W), xmm. */
export function movdFromXmm(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  const x = c.xmm, b = d.reg << 2;
  wrRm(c, d, (d.rex & 8) !== 0 ? 8 : 4, x[b], x[b + 1]);
}

/** MOVQ xmm, xmm/m64 (F3 0F 7E): low qword, high qword zeroed. */
export function movqLoad(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  if (d.mod === 3) { const s = d.rm << 2; S[0] = c.xmm[s]; S[1] = c.xmm[s + 1]; } else readM64(c, d, S, 0);
  const x = c.xmm, b = d.reg << 2;
  x[b] = S[0]; x[b + 1] = S[1]; x[b + 2] = 0; x[b + 3] = 0;
}

/** MOVQ xmm/m64, xmm (66 0F D6): the register form zeroes the destination's high qword. */
export function movqStore(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  const x = c.xmm, b = d.reg << 2;
  if (d.mod === 3) { const t = d.rm << 2; x[t] = x[b]; x[t + 1] = x[b + 1]; x[t + 2] = 0; x[t + 3] = 0; return; }
  writeM64(c, d, x[b], x[b + 1]);
}

const maskAddr = new Insn();

/** MASKMOVDQU xmm1, xmm2: stores the bytes of xmm1 whose xmm2 mask byte has bit 7 set to DS:rDI (segment overridable). */
export function maskmovdqu(c: Cpu, d: Insn): void {
  sseCheck(c, d);
  const x = c.xmm, src = d.reg << 2, mask = d.rm << 2;
  maskAddr.base = 7; maskAddr.index = -1; maskAddr.disp = 0; maskAddr.dispHi = 0; maskAddr.ripRel = false;
  maskAddr.as = d.as; maskAddr.seg = d.seg;
  const lo = c.ea(maskAddr, 16, true), hi = c.hi;
  for (let k = 0; k < 16; k++) {
    if (!((x[mask + (k >> 2)] >> (8 * (k & 3) + 7)) & 1)) continue;
    const a = (lo >>> 0) + k;
    c.write8(a | 0, a > 0xffffffff ? (hi + 1) | 0 : hi, x[src + (k >> 2)] >> (8 * (k & 3)));
  }
}

/** MOVNTI m32/m64, r32/r64 (0F C3): a plain store here (no cache model); the register form is #UD. */
export function movnti(c: Cpu, d: Insn): void {
  if (d.mod === 3 || d.os === 2) c.ud();
  const lo = c.getReg(d.reg, d.os);
  wrRm(c, d, d.os, lo, c.hi);
}
