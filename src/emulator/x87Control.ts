// The x87 control subset x86-64 C code and its runtimes use: FNINIT, FNCLEX, FNSTCW, FLDCW,
// FNSTSW (m16 and AX), FNOP and the 8087/287 leftovers the 387 and later execute as no-ops
// (FENI, FDISI, FSETPM); FNSTENV/FLDENV/FNSAVE/FRSTOR are in x87Env.ts. FWAIT (9B) is in misc.ts. Every other x87 opcode (data movement and
// arithmetic on the 80-bit register stack) is not modelled and raises #UD, so a guest never
// gets a silently wrong result. Plugged into the decoder through registerX87.

import type { Cpu } from './cpu';
import type { Insn, Handler } from './insn';
import { registerX87 } from './extensionHooks';
import { Vec } from './exceptions';
import { CR0_EM, CR0_TS, CR0_NE } from './paging';
import { fnstenv, fldenv, fnsave, frstor } from './x87Env';

/** FSW: exception flags (0-5), stack fault (6), error summary (7), busy (15). */
const FSW_ES = 0x80, FSW_B = 0x8000;

/** Every x87 instruction: #UD with LOCK, #NM when CR0.EM or CR0.TS. */
function x87Check(c: Cpu, d: Insn): void {
  if (d.lock) c.raise(Vec.UD);
  if (c.cr0 & (CR0_EM | CR0_TS)) c.raise(Vec.NM);
}

/** Waiting forms first deliver a pending unmasked x87 exception (#MF with CR0.NE; the FERR# path without it is not modelled). */
function pendingCheck(c: Cpu): void {
  if ((c.fpu.fsw & FSW_ES) && (c.cr0 & CR0_NE)) c.raise(Vec.MF);
}

function fninit(c: Cpu, d: Insn): void {
  x87Check(c, d);
  const f = c.fpu;
  f.fcw = 0x037f; f.fsw = 0; f.ftw = 0; f.fop = 0; f.fip = 0n; f.fdp = 0n;
}

function fnclex(c: Cpu, d: Insn): void {
  x87Check(c, d);
  c.fpu.fsw &= 0x7f00;
}

function fnstcw(c: Cpu, d: Insn): void {
  x87Check(c, d);
  const lo = c.ea(d, 2, true);
  c.write16(lo, c.hi, c.fpu.fcw);
}

function fldcw(c: Cpu, d: Insn): void {
  x87Check(c, d);
  pendingCheck(c);
  const lo = c.ea(d, 2, false);
  const v = c.read16(lo, c.hi);
  const f = c.fpu;
  f.fcw = (v & 0x1f3f) | 0x40;
  // Unmasking a flagged exception makes it pending for the next waiting instruction.
  if (f.fsw & ~f.fcw & 0x3f) f.fsw |= FSW_ES | FSW_B; else f.fsw &= ~(FSW_ES | FSW_B);
}

function fnstswMem(c: Cpu, d: Insn): void {
  x87Check(c, d);
  const lo = c.ea(d, 2, true);
  c.write16(lo, c.hi, c.fpu.fsw);
}

function fnstswAx(c: Cpu, d: Insn): void {
  x87Check(c, d);
  c.setReg(0, 2, c.fpu.fsw, 0);
}

/** FNOP, and FENI/FDISI/FSETPM which the 387 and later execute as FNOP. */
function fnop(c: Cpu, d: Insn): void {
  x87Check(c, d);
}

function x87Lookup(opcode: number, modrm: number): Handler | undefined {
  const mod = modrm >> 6, reg = (modrm >> 3) & 7;
  if (mod !== 3) {
    if (opcode === 0xd9) return reg === 4 ? fldenv : reg === 5 ? fldcw : reg === 6 ? fnstenv : reg === 7 ? fnstcw : undefined;
    if (opcode === 0xdd) return reg === 4 ? frstor : reg === 6 ? fnsave : reg === 7 ? fnstswMem : undefined;
    return undefined;
  }
  if (opcode === 0xd9 && modrm === 0xd0) return fnop;
  if (opcode === 0xdb) {
    if (modrm === 0xe2) return fnclex;
    if (modrm === 0xe3) return fninit;
    if (modrm === 0xe0 || modrm === 0xe1 || modrm === 0xe4) return fnop;
  }
  if (opcode === 0xdf && modrm === 0xe0) return fnstswAx;
  return undefined;
}

registerX87(x87Lookup);
