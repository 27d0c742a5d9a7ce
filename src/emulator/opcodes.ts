// Opcode maps: one-byte and 0F two-byte tables of handler + decoding attributes, with
// ModRM /reg group tables. The decoder reads operand forms from these flags; handlers get
// everything precomputed in the Insn.

import type { Handler } from './insn';
import { aluRmReg, aluRegRm, aluRmImm, incDec, notNeg, cmpxchg, xadd } from './alu';
import { shiftRm1, shiftRmCl, shiftRmImm, shxd } from './shifts';
import { imulRegRm, imulRegRmImm, mulAcc, divAcc } from './muldiv';
import { btOp, bsfBsr, tzLzcnt, popcnt, bswap, movbe } from './bits';
import {
  movRmReg, movRegRm, movRmImm, movMoffs, movx, lea, xchg, nop, pushReg, popReg, pushImm, pushRm, popRm,
  pusha, popa, cmov, setcc, cbw, cwd, xlat, lahf, sahf, bound,
} from './dataMove';
import { jmpRel, jcc, callRel, jmpRm, callRm, retNear, loop, jrcxz, enter, leave } from './control';
import { farDirect, farIndirect, retFar } from './farTransfer';
import { stringOp } from './strings';
import { ioInsn } from './io';
import { intN, int3, into, int1, iret } from './interrupts';
import { movSreg, movFromSreg, pushSreg, popSreg, loadFarPointer, group6, larLsl, arpl } from './segmentation';
import {
  flagOp, cli, sti, pushf, popf, hlt, cpuid, rdtsc, rdpmc, msrAccess, movCr, movDr, clts, wbinvd, group7, group7reg,
  syscall, sysret, sysenter, sysexit, undefinedOpcode,
} from './system';
import { cmpxchg8b, fwait, decimalAdjust } from './misc';
import { movnti } from './sseMove';

/** Decoding attributes. */
export const enum F {
  M = 1, // ModRM follows
  B = 2, // byte operand size
  IB = 4, // imm8 (sign-extended)
  IZ = 8, // imm16/32 (sign-extended to 64)
  IW = 0x10, // imm16
  IV = 0x20, // imm16/32/64 (MOV reg, imm)
  D64 = 0x40, // default operand size 64 in 64-bit mode
  F64 = 0x80, // operand size forced to 64 in 64-bit mode
  END = 0x100, // ends the decoded block
  NO64 = 0x200, // #UD in 64-bit mode
  REG = 0x400, // register in opcode bits 2:0 (becomes rm, mod = 3)
  MOFFS = 0x800, // moffs operand
  FAR = 0x1000, // ptr16:16/32 immediate
  ACC = 0x2000, // accumulator operand (rm = 0, mod = 3)
  ENTER = 0x4000, // imm16 + imm8
  STR = 0x8000, // string instruction (REP prefixes apply)
  NOWRITE = 0x10000, // TEST: no write-back
  CL = 0x20000, // count in CL (SHLD/SHRD)
  IMMF = 0x40000, // immediate-offset form (BT group 8)
  SIMD = 0x80000, // routed to the SSE hook
  X87 = 0x100000, // routed to the x87 hook
  W16 = 0x200000, // operand size 16 regardless of prefixes (MOV Sreg, ARPL, ...)
  REGM = 0x400000, // ModRM with mod ignored (MOV CR/DR: always register)
  OS4 = 0x800000, // operand size forced 32 (64 in 64-bit mode for MOV CR/DR)
}

export interface Op {
  fn: Handler;
  f: number;
  op?: number;
  /** Source size for MOVZX/MOVSX/MOVSXD, segment for PUSH/POP Sreg... */
  x?: number;
  /** ModRM /reg sub-table. */
  g?: (Op | undefined)[];
}

const ud: Op = { fn: undefinedOpcode, f: F.END };
const e = (fn: Handler, f: number, op?: number, x?: number): Op => ({ fn, f, op, x });

export const ONE: Op[] = new Array(256).fill(ud);
export const TWO: Op[] = new Array(256).fill(ud);
/** 0F 38 map (only MOVBE is integer; the rest is SSE space). */
export const THREE38: Op[] = new Array(256).fill({ fn: undefinedOpcode, f: F.M | F.SIMD | F.END });

// ALU 00-3F.
for (let k = 0; k < 8; k++) {
  const b = k * 8;
  ONE[b] = e(aluRmReg, F.M | F.B, k);
  ONE[b + 1] = e(aluRmReg, F.M, k);
  ONE[b + 2] = e(aluRegRm, F.M | F.B, k);
  ONE[b + 3] = e(aluRegRm, F.M, k);
  ONE[b + 4] = e(aluRmImm, F.ACC | F.B | F.IB, k);
  ONE[b + 5] = e(aluRmImm, F.ACC | F.IZ, k);
}
ONE[0x06] = e(pushSreg, F.NO64, 0); ONE[0x07] = e(popSreg, F.NO64 | F.END, 0);
ONE[0x0e] = e(pushSreg, F.NO64, 1);
ONE[0x16] = e(pushSreg, F.NO64, 2); ONE[0x17] = e(popSreg, F.NO64 | F.END, 2);
ONE[0x1e] = e(pushSreg, F.NO64, 3); ONE[0x1f] = e(popSreg, F.NO64 | F.END, 3);
ONE[0x27] = e(decimalAdjust, F.NO64, 0); ONE[0x2f] = e(decimalAdjust, F.NO64, 1);
ONE[0x37] = e(decimalAdjust, F.NO64, 2); ONE[0x3f] = e(decimalAdjust, F.NO64, 3);
for (let r = 0; r < 8; r++) {
  ONE[0x40 + r] = e(incDec, F.REG | F.NO64, 0);
  ONE[0x48 + r] = e(incDec, F.REG | F.NO64, 1);
  ONE[0x50 + r] = e(pushReg, F.REG | F.D64);
  ONE[0x58 + r] = e(popReg, F.REG | F.D64);
  ONE[0x90 + r] = e(xchg, F.REG | F.ACC);
  ONE[0xb0 + r] = e(movRmImm, F.REG | F.B | F.IB);
  ONE[0xb8 + r] = e(movRmImm, F.REG | F.IV);
  TWO[0xc8 + r] = e(bswap, F.REG);
}
ONE[0x60] = e(pusha, F.NO64); ONE[0x61] = e(popa, F.NO64);
ONE[0x62] = e(bound, F.M | F.NO64);
ONE[0x63] = e(arpl, F.M | F.W16); // MOVSXD in 64-bit mode (decoder)
ONE[0x68] = e(pushImm, F.IZ | F.D64);
ONE[0x69] = e(imulRegRmImm, F.M | F.IZ);
ONE[0x6a] = e(pushImm, F.IB | F.D64);
ONE[0x6b] = e(imulRegRmImm, F.M | F.IB);
ONE[0x6c] = e(ioInsn, F.B | F.STR, 4); ONE[0x6d] = e(ioInsn, F.STR, 4);
ONE[0x6e] = e(ioInsn, F.B | F.STR, 5); ONE[0x6f] = e(ioInsn, F.STR, 5);
for (let cc = 0; cc < 16; cc++) {
  ONE[0x70 + cc] = e(jcc, F.IB | F.F64 | F.END, cc);
  TWO[0x80 + cc] = e(jcc, F.IZ | F.F64 | F.END, cc);
  TWO[0x40 + cc] = e(cmov, F.M, cc);
  TWO[0x90 + cc] = e(setcc, F.M | F.B, cc);
}
const grp1 = (f: number): Op => ({ fn: aluRmImm, f, g: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => e(aluRmImm, 0, k)) });
ONE[0x80] = grp1(F.M | F.B | F.IB);
ONE[0x81] = grp1(F.M | F.IZ);
ONE[0x82] = grp1(F.M | F.B | F.IB | F.NO64);
ONE[0x83] = grp1(F.M | F.IB);
ONE[0x84] = e(aluRmReg, F.M | F.B | F.NOWRITE, 4); ONE[0x85] = e(aluRmReg, F.M | F.NOWRITE, 4);
ONE[0x86] = e(xchg, F.M | F.B); ONE[0x87] = e(xchg, F.M);
ONE[0x88] = e(movRmReg, F.M | F.B); ONE[0x89] = e(movRmReg, F.M);
ONE[0x8a] = e(movRegRm, F.M | F.B); ONE[0x8b] = e(movRegRm, F.M);
ONE[0x8c] = e(movFromSreg, F.M);
ONE[0x8d] = e(lea, F.M);
ONE[0x8e] = e(movSreg, F.M | F.W16 | F.END);
ONE[0x8f] = { fn: popRm, f: F.M | F.D64, g: [e(popRm, 0), ud, ud, ud, ud, ud, ud, ud] };
ONE[0x98] = e(cbw, 0); ONE[0x99] = e(cwd, 0);
ONE[0x9a] = e(farDirect, F.FAR | F.NO64 | F.END, 1);
ONE[0x9b] = e(fwait, 0);
ONE[0x9c] = e(pushf, F.D64); ONE[0x9d] = e(popf, F.D64 | F.END);
ONE[0x9e] = e(sahf, 0); ONE[0x9f] = e(lahf, 0);
ONE[0xa0] = e(movMoffs, F.MOFFS | F.B, 0); ONE[0xa1] = e(movMoffs, F.MOFFS, 0);
ONE[0xa2] = e(movMoffs, F.MOFFS | F.B, 1); ONE[0xa3] = e(movMoffs, F.MOFFS, 1);
ONE[0xa4] = e(stringOp, F.STR | F.B, 0); ONE[0xa5] = e(stringOp, F.STR, 0);
ONE[0xa6] = e(stringOp, F.STR | F.B, 1); ONE[0xa7] = e(stringOp, F.STR, 1);
ONE[0xa8] = e(aluRmImm, F.ACC | F.B | F.IB | F.NOWRITE, 4); ONE[0xa9] = e(aluRmImm, F.ACC | F.IZ | F.NOWRITE, 4);
ONE[0xaa] = e(stringOp, F.STR | F.B, 2); ONE[0xab] = e(stringOp, F.STR, 2);
ONE[0xac] = e(stringOp, F.STR | F.B, 3); ONE[0xad] = e(stringOp, F.STR, 3);
ONE[0xae] = e(stringOp, F.STR | F.B, 4); ONE[0xaf] = e(stringOp, F.STR, 4);
const grp2 = (fn: Handler, f: number): Op => ({ fn, f, g: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => e(fn, 0, k)) });
ONE[0xc0] = grp2(shiftRmImm, F.M | F.B | F.IB); ONE[0xc1] = grp2(shiftRmImm, F.M | F.IB);
ONE[0xc2] = e(retNear, F.IW | F.F64 | F.END); ONE[0xc3] = e(retNear, F.F64 | F.END);
ONE[0xc4] = e(loadFarPointer, F.M | F.NO64 | F.END, 0); ONE[0xc5] = e(loadFarPointer, F.M | F.NO64 | F.END, 3);
ONE[0xc6] = { fn: movRmImm, f: F.M | F.B | F.IB, g: [e(movRmImm, 0), ud, ud, ud, ud, ud, ud, ud] };
ONE[0xc7] = { fn: movRmImm, f: F.M | F.IZ, g: [e(movRmImm, 0), ud, ud, ud, ud, ud, ud, ud] };
ONE[0xc8] = e(enter, F.ENTER | F.D64); ONE[0xc9] = e(leave, F.D64);
ONE[0xca] = e(retFar, F.IW | F.END); ONE[0xcb] = e(retFar, F.END);
ONE[0xcc] = e(int3, F.END); ONE[0xcd] = e(intN, F.IB | F.END); ONE[0xce] = e(into, F.NO64 | F.END); ONE[0xcf] = e(iret, F.END);
ONE[0xd0] = grp2(shiftRm1, F.M | F.B); ONE[0xd1] = grp2(shiftRm1, F.M);
ONE[0xd2] = grp2(shiftRmCl, F.M | F.B); ONE[0xd3] = grp2(shiftRmCl, F.M);
ONE[0xd4] = e(decimalAdjust, F.IB | F.NO64, 4); ONE[0xd5] = e(decimalAdjust, F.IB | F.NO64, 5);
ONE[0xd7] = e(xlat, 0);
for (let k = 0xd8; k <= 0xdf; k++) ONE[k] = e(undefinedOpcode, F.M | F.X87 | F.END);
ONE[0xe0] = e(loop, F.IB | F.F64 | F.END, 0); ONE[0xe1] = e(loop, F.IB | F.F64 | F.END, 1);
ONE[0xe2] = e(loop, F.IB | F.F64 | F.END, 2); ONE[0xe3] = e(jrcxz, F.IB | F.F64 | F.END);
ONE[0xe4] = e(ioInsn, F.B | F.IB, 0); ONE[0xe5] = e(ioInsn, F.IB, 0);
ONE[0xe6] = e(ioInsn, F.B | F.IB, 2); ONE[0xe7] = e(ioInsn, F.IB, 2);
ONE[0xe8] = e(callRel, F.IZ | F.F64 | F.END); ONE[0xe9] = e(jmpRel, F.IZ | F.F64 | F.END);
ONE[0xea] = e(farDirect, F.FAR | F.NO64 | F.END, 0); ONE[0xeb] = e(jmpRel, F.IB | F.F64 | F.END);
ONE[0xec] = e(ioInsn, F.B, 1); ONE[0xed] = e(ioInsn, 0, 1);
ONE[0xee] = e(ioInsn, F.B, 3); ONE[0xef] = e(ioInsn, 0, 3);
ONE[0xf1] = e(int1, F.END);
ONE[0xf4] = e(hlt, F.END);
ONE[0xf5] = e(flagOp, 0, 1);
ONE[0xf6] = { fn: notNeg, f: F.M | F.B, g: [e(aluRmImm, F.IB | F.NOWRITE, 4), e(aluRmImm, F.IB | F.NOWRITE, 4), e(notNeg, 0, 2), e(notNeg, 0, 3), e(mulAcc, 0, 4), e(mulAcc, 0, 5), e(divAcc, 0, 6), e(divAcc, 0, 7)] };
ONE[0xf7] = { fn: notNeg, f: F.M, g: [e(aluRmImm, F.IZ | F.NOWRITE, 4), e(aluRmImm, F.IZ | F.NOWRITE, 4), e(notNeg, 0, 2), e(notNeg, 0, 3), e(mulAcc, 0, 4), e(mulAcc, 0, 5), e(divAcc, 0, 6), e(divAcc, 0, 7)] };
ONE[0xf8] = e(flagOp, 0, 0); ONE[0xf9] = e(flagOp, 0, 2);
ONE[0xfa] = e(cli, 0); ONE[0xfb] = e(sti, F.END);
ONE[0xfc] = e(flagOp, 0, 3); ONE[0xfd] = e(flagOp, 0, 4);
ONE[0xfe] = { fn: incDec, f: F.M | F.B, g: [e(incDec, 0, 0), e(incDec, 0, 1), ud, ud, ud, ud, ud, ud] };
ONE[0xff] = {
  fn: incDec, f: F.M, g: [e(incDec, 0, 0), e(incDec, 0, 1), e(callRm, F.F64 | F.END), e(farIndirect, F.END, 1),
    e(jmpRm, F.F64 | F.END), e(farIndirect, F.END, 0), e(pushRm, F.D64), ud],
};

// 0F map.
TWO[0x00] = { fn: group6, f: F.M | F.W16, g: [0, 1, 2, 3, 4, 5].map((k) => e(group6, k >= 2 && k <= 3 ? F.END : 0, k)).concat([ud, ud]) };
TWO[0x01] = { fn: group7, f: F.M, g: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => (k === 5 ? ud : e(group7, F.END, k))) };
TWO[0x02] = e(larLsl, F.M, 0); TWO[0x03] = e(larLsl, F.M, 1);
TWO[0x05] = e(syscall, F.END); TWO[0x06] = e(clts, 0); TWO[0x07] = e(sysret, F.END);
TWO[0x08] = e(wbinvd, 0); TWO[0x09] = e(wbinvd, 0);
TWO[0x0b] = e(undefinedOpcode, F.END);
TWO[0x0d] = e(nop, F.M);
for (let k = 0x18; k <= 0x1f; k++) TWO[k] = e(nop, F.M);
TWO[0x20] = e(movCr, F.M | F.REGM | F.OS4 | F.END, 0); TWO[0x21] = e(movDr, F.M | F.REGM | F.OS4 | F.END, 0);
TWO[0x22] = e(movCr, F.M | F.REGM | F.OS4 | F.END, 1); TWO[0x23] = e(movDr, F.M | F.REGM | F.OS4 | F.END, 1);
TWO[0x30] = e(msrAccess, F.END, 1); TWO[0x31] = e(rdtsc, 0, 0); TWO[0x32] = e(msrAccess, 0, 0); TWO[0x33] = e(rdpmc, 0);
TWO[0x34] = e(sysenter, F.END); TWO[0x35] = e(sysexit, F.END);
TWO[0xa0] = e(pushSreg, F.D64, 4); TWO[0xa1] = e(popSreg, F.D64, 4);
TWO[0xa2] = e(cpuid, 0);
TWO[0xa3] = e(btOp, F.M, 0);
TWO[0xa4] = e(shxd, F.M | F.IB, 0); TWO[0xa5] = e(shxd, F.M | F.CL, 0);
TWO[0xa8] = e(pushSreg, F.D64, 5); TWO[0xa9] = e(popSreg, F.D64, 5);
TWO[0xab] = e(btOp, F.M, 1);
TWO[0xac] = e(shxd, F.M | F.IB, 1); TWO[0xad] = e(shxd, F.M | F.CL, 1);
TWO[0xaf] = e(imulRegRm, F.M);
TWO[0xb0] = e(cmpxchg, F.M | F.B); TWO[0xb1] = e(cmpxchg, F.M);
TWO[0xb2] = e(loadFarPointer, F.M | F.END, 2);
TWO[0xb3] = e(btOp, F.M, 2);
TWO[0xb4] = e(loadFarPointer, F.M, 4); TWO[0xb5] = e(loadFarPointer, F.M, 5);
TWO[0xb6] = e(movx, F.M, 0, 1); TWO[0xb7] = e(movx, F.M, 0, 2);
TWO[0xb8] = e(popcnt, F.M); // F3 only (decoder)
TWO[0xba] = { fn: btOp, f: F.M | F.IB | F.IMMF, g: [ud, ud, ud, ud, e(btOp, 0, 0), e(btOp, 0, 1), e(btOp, 0, 2), e(btOp, 0, 3)] };
TWO[0xbb] = e(btOp, F.M, 3);
TWO[0xbc] = e(bsfBsr, F.M, 0); TWO[0xbd] = e(bsfBsr, F.M, 1);
TWO[0xbe] = e(movx, F.M, 1, 1); TWO[0xbf] = e(movx, F.M, 1, 2);
TWO[0xc0] = e(xadd, F.M | F.B); TWO[0xc1] = e(xadd, F.M);
TWO[0xc3] = e(movnti, F.M);
TWO[0xc7] = { fn: cmpxchg8b, f: F.M, g: [ud, e(cmpxchg8b, 0), ud, ud, ud, ud, ud, ud] };
for (let k = 0; k < 256; k++) {
  if (k >= 0x10 && k <= 0x17 || k >= 0x28 && k <= 0x2f || k >= 0x50 && k <= 0x7f || k === 0xc2 || (k >= 0xc4 && k <= 0xc6) || k >= 0xd0) {
    TWO[k] = e(undefinedOpcode, F.M | F.SIMD | F.END);
  }
}
THREE38[0xf0] = e(movbe, F.M, 0);
THREE38[0xf1] = e(movbe, F.M, 1);

/** Handlers the decoder substitutes for special encodings. */
export const special = { movsxd: e(movx, F.M, 1, 4), tzcnt: e(tzLzcnt, F.M, 0), lzcnt: e(tzLzcnt, F.M, 1), pause: e(nop, 0), group7reg: e(group7reg, F.END), rdtscp: e(rdtsc, 0, 1), ud };
