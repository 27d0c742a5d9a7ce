// The SSE/SSE2 opcode map: (0F opcode, mandatory prefix, ModRM.mod/reg) -> handler, plugged
// into the decoder through registerSimd. Separate register-form and memory-form tables
// encode the forms that exist only one way (MOVHLPS vs MOVLPS, MOVMSKPS, the MOVNT stores).
// Everything absent — MMX forms (no 66 prefix on the integer opcodes), SSE3 and later,
// the 0F 38 / 0F 3A maps — raises #UD.

import type { Handler } from './insn';
import { registerSimd, type SimdKey } from './extensionHooks';
import { ADD, SUB, MUL, DIV, MIN, MAX, SQRT } from './sseMath';
import { packedSingle, scalarSingle, packedDouble, scalarDouble, approx, logic, cmpFloat, comis } from './sseFloat';
import {
  cvtIntToScalar, cvtScalarToInt, cvtScalarFloat, cvtdq2ps, cvtps2dq, cvtdq2pd, cvtpd2dq, cvtps2pd, cvtpd2ps,
} from './sseConvert';
import { PACKED_INT, shiftByImm, byteShift } from './sseInt';
import { unpack, pack, pshuf, shufps, shufpd, pinsrw, pextrw, movmsk } from './sseShuffle';
import {
  loadFull, storeFull, loadScalar, storeScalar, loadHalf, storeHalf, moveHalves, movdToXmm, movdFromXmm,
  movqLoad, movqStore, maskmovdqu,
} from './sseMove';
import { fxsave, fxrstor, ldmxcsr, stmxcsr } from './fxsave';

const NP = 0, P66 = 1, PF3 = 2, PF2 = 3;
const REG: (Handler | undefined)[] = new Array(1024);
const MEM: (Handler | undefined)[] = new Array(1024);

function both(op: number, p: number, h: Handler): void { REG[(op << 2) | p] = h; MEM[(op << 2) | p] = h; }
function regOnly(op: number, p: number, h: Handler): void { REG[(op << 2) | p] = h; }
function memOnly(op: number, p: number, h: Handler): void { MEM[(op << 2) | p] = h; }

// Moves.
both(0x10, NP, loadFull(false)); both(0x10, P66, loadFull(false)); both(0x10, PF3, loadScalar(4)); both(0x10, PF2, loadScalar(8));
both(0x11, NP, storeFull(false)); both(0x11, P66, storeFull(false)); both(0x11, PF3, storeScalar(4)); both(0x11, PF2, storeScalar(8));
memOnly(0x12, NP, loadHalf(false)); regOnly(0x12, NP, moveHalves(true)); memOnly(0x12, P66, loadHalf(false));
memOnly(0x13, NP, storeHalf(false)); memOnly(0x13, P66, storeHalf(false));
memOnly(0x16, NP, loadHalf(true)); regOnly(0x16, NP, moveHalves(false)); memOnly(0x16, P66, loadHalf(true));
memOnly(0x17, NP, storeHalf(true)); memOnly(0x17, P66, storeHalf(true));
both(0x28, NP, loadFull(true)); both(0x28, P66, loadFull(true));
both(0x29, NP, storeFull(true)); both(0x29, P66, storeFull(true));
memOnly(0x2b, NP, storeFull(true)); memOnly(0x2b, P66, storeFull(true));
both(0x6e, P66, movdToXmm);
both(0x6f, P66, loadFull(true)); both(0x6f, PF3, loadFull(false));
both(0x7e, P66, movdFromXmm); both(0x7e, PF3, movqLoad);
both(0x7f, P66, storeFull(true)); both(0x7f, PF3, storeFull(false));
both(0xd6, P66, movqStore);
memOnly(0xe7, P66, storeFull(true));
regOnly(0xf7, P66, maskmovdqu);
regOnly(0x50, NP, movmsk(4)); regOnly(0x50, P66, movmsk(2)); regOnly(0xd7, P66, movmsk(16));

// Floating-point arithmetic, logic, compares.
for (const [op, code] of [[0x58, ADD], [0x59, MUL], [0x5c, SUB], [0x5d, MIN], [0x5e, DIV], [0x5f, MAX], [0x51, SQRT]]) {
  both(op, NP, packedSingle(code)); both(op, PF3, scalarSingle(code));
  both(op, P66, packedDouble(code)); both(op, PF2, scalarDouble(code));
}
both(0x52, NP, approx(true, false)); both(0x52, PF3, approx(true, true));
both(0x53, NP, approx(false, false)); both(0x53, PF3, approx(false, true));
for (let k = 0; k < 4; k++) { both(0x54 + k, NP, logic(k)); both(0x54 + k, P66, logic(k)); }
both(0xc2, NP, cmpFloat(false, false)); both(0xc2, P66, cmpFloat(true, false));
both(0xc2, PF3, cmpFloat(false, true)); both(0xc2, PF2, cmpFloat(true, true));
both(0x2e, NP, comis(false, false)); both(0x2e, P66, comis(true, false));
both(0x2f, NP, comis(false, true)); both(0x2f, P66, comis(true, true));

// Conversions.
both(0x2a, PF3, cvtIntToScalar(false)); both(0x2a, PF2, cvtIntToScalar(true));
both(0x2c, PF3, cvtScalarToInt(false, true)); both(0x2c, PF2, cvtScalarToInt(true, true));
both(0x2d, PF3, cvtScalarToInt(false, false)); both(0x2d, PF2, cvtScalarToInt(true, false));
both(0x5a, NP, cvtps2pd); both(0x5a, P66, cvtpd2ps); both(0x5a, PF3, cvtScalarFloat(true)); both(0x5a, PF2, cvtScalarFloat(false));
both(0x5b, NP, cvtdq2ps); both(0x5b, P66, cvtps2dq(false)); both(0x5b, PF3, cvtps2dq(true));
both(0xe6, P66, cvtpd2dq(true)); both(0xe6, PF3, cvtdq2pd); both(0xe6, PF2, cvtpd2dq(false));

// Shuffles, unpacks, packs.
both(0x14, NP, unpack(4, false)); both(0x14, P66, unpack(8, false));
both(0x15, NP, unpack(4, true)); both(0x15, P66, unpack(8, true));
both(0x60, P66, unpack(1, false)); both(0x61, P66, unpack(2, false)); both(0x62, P66, unpack(4, false)); both(0x6c, P66, unpack(8, false));
both(0x68, P66, unpack(1, true)); both(0x69, P66, unpack(2, true)); both(0x6a, P66, unpack(4, true)); both(0x6d, P66, unpack(8, true));
both(0x63, P66, pack(0)); both(0x67, P66, pack(1)); both(0x6b, P66, pack(2));
both(0x70, P66, pshuf(0)); both(0x70, PF3, pshuf(1)); both(0x70, PF2, pshuf(2));
both(0xc6, NP, shufps); both(0xc6, P66, shufpd);
both(0xc4, P66, pinsrw); regOnly(0xc5, P66, pextrw);

// Packed integer.
for (const op of Object.keys(PACKED_INT)) both(Number(op), P66, PACKED_INT[Number(op)]);

/** 66 0F 71/72/73 /reg ib (register form only). */
const SHIFT_GROUPS: Record<number, (Handler | undefined)[]> = {
  0x71: [undefined, undefined, shiftByImm(16, 1), undefined, shiftByImm(16, 2), undefined, shiftByImm(16, 0), undefined],
  0x72: [undefined, undefined, shiftByImm(32, 1), undefined, shiftByImm(32, 2), undefined, shiftByImm(32, 0), undefined],
  0x73: [undefined, undefined, shiftByImm(64, 1), byteShift(false), undefined, undefined, shiftByImm(64, 0), byteShift(true)],
};

/** 0F AE /0-/3 (memory forms; the decoder sends nothing else here). */
const GROUP15: Handler[] = [fxsave, fxrstor, ldmxcsr, stmxcsr];

const PREFIX_INDEX: Record<number, number> = { 0: NP, 0x66: P66, 0xf3: PF3, 0xf2: PF2 };

function simdLookup(k: SimdKey): Handler | undefined {
  if ((k.opcode & 0xf00) !== 0x100) return undefined;
  const op = k.opcode & 0xff, p = PREFIX_INDEX[k.prefix];
  if (op === 0xae) return p === NP && k.mod !== 3 ? GROUP15[k.reg] : undefined;
  if (op >= 0x71 && op <= 0x73) return p === P66 && k.mod === 3 ? SHIFT_GROUPS[op][k.reg] : undefined;
  return (k.mod === 3 ? REG : MEM)[(op << 2) | p];
}

registerSimd(simdLookup);
