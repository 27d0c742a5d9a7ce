// Near control transfers: JMP/CALL/RET (relative and indirect), Jcc, LOOPcc, JrCXZ,
// ENTER/LEAVE. Far transfers are in farTransfer.ts.

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { cond, getZF } from './flags';
import { rdRm } from './operands';

/** JMP rel8/rel16/rel32 (EB, E9). */
export function jmpRel(c: Cpu, d: Insn): void { c.jumpRel(d.imm, d.os); }

/** Jcc rel (70-7F, 0F 80-8F). */
export function jcc(c: Cpu, d: Insn): void {
  if (cond(c, d.op)) c.jumpRel(d.imm, d.os);
}

/** CALL rel (E8). */
export function callRel(c: Cpu, d: Insn): void {
  const s = d.os;
  c.push(s, c.nextLo, c.nextHi);
  c.jumpRel(d.imm, s);
}

/** JMP r/m (FF /4). */
export function jmpRm(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = rdRm(c, d, s);
  c.jumpTo(v, s === 8 ? c.hi : 0, s);
}

/** CALL r/m (FF /2). The target is read before anything is pushed. */
export function callRm(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = rdRm(c, d, s), vh = s === 8 ? c.hi : 0;
  const spLo = c.r[4], spHi = c.rh[4];
  c.push(s, c.nextLo, c.nextHi);
  try { c.jumpTo(v, vh, s); } catch (e) { c.r[4] = spLo; c.rh[4] = spHi; throw e; }
}

/** RET / RET imm16 (C3, C2). */
export function retNear(c: Cpu, d: Insn): void {
  const s = d.os;
  const v = c.peekStack(s, 0), vh = s === 8 ? c.hi : 0;
  c.jumpTo(v, vh, s);
  c.addSp(s + (d.imm & 0xffff));
}

/** Counter register of LOOP/JrCXZ at address size `as`: lo, hi in c.hi. */
function counter(c: Cpu, as: number): number {
  c.hi = as === 8 ? c.rh[1] : 0;
  return as === 2 ? c.r[1] & 0xffff : c.r[1];
}

/** LOOPNE (op 0), LOOPE (op 1), LOOP (op 2) (E0-E2): decrement rCX without touching flags. */
export function loop(c: Cpu, d: Insn): void {
  const as = d.as;
  let lo = counter(c, as), hi = c.hi;
  if (as === 8) { hi = (hi - (lo === 0 ? 1 : 0)) | 0; lo = (lo - 1) | 0; c.r[1] = lo; c.rh[1] = hi; }
  else if (as === 4) { lo = (lo - 1) | 0; c.r[1] = lo; c.rh[1] = 0; }
  else { lo = (lo - 1) & 0xffff; c.r[1] = (c.r[1] & ~0xffff) | lo; }
  if ((lo | hi) === 0) return;
  if (d.op === 0 && getZF(c)) return;
  if (d.op === 1 && !getZF(c)) return;
  c.jumpRel(d.imm, d.os);
}

/** JCXZ/JECXZ/JRCXZ (E3). */
export function jrcxz(c: Cpu, d: Insn): void {
  const lo = counter(c, d.as);
  if ((lo | c.hi) === 0) c.jumpRel(d.imm, d.os);
}

/** ENTER imm16, imm8 (C8). */
export function enter(c: Cpu, d: Insn): void {
  const s = d.os;
  const size = d.imm & 0xffff;
  const level = d.imm2 & 31;
  const sp0 = c.r[4], sp0h = c.rh[4];
  try {
    c.push(s, c.getReg(5, s), c.hi);
    const frameLo = c.r[4], frameHi = c.rh[4];
    for (let i = 1; i < level; i++) {
      // Copy the enclosing frame pointers from the old frame.
      const bpOff = -i * s;
      const saveSp = c.r[4], saveSpH = c.rh[4];
      c.r[4] = c.getReg(5, s) ; c.rh[4] = s === 8 ? c.rh[5] : c.rh[4];
      const v = c.peekStack(s, bpOff), vh = c.hi;
      c.r[4] = saveSp; c.rh[4] = saveSpH;
      c.push(s, v, vh);
    }
    if (level > 0) c.push(s, frameLo, frameHi);
    c.setReg(5, s === 8 ? 8 : s, frameLo, frameHi);
    c.addSp(-size);
  } catch (e) { c.r[4] = sp0; c.rh[4] = sp0h; throw e; }
}

/** LEAVE (C9): rSP = rBP; pop rBP. */
export function leave(c: Cpu, d: Insn): void {
  const s = d.os;
  const ss = c.stackSize;
  const spLo = c.r[4], spHi = c.rh[4];
  c.setReg(4, ss, c.r[5], c.rh[5]);
  try {
    const v = c.pop(s);
    c.setReg(5, s, v, c.hi);
  } catch (e) { c.r[4] = spLo; c.rh[4] = spHi; throw e; }
}
