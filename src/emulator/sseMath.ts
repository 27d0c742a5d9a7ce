// IEEE 754 lane arithmetic for SSE/SSE2 on JS doubles, bit-exact with the MXCSR model:
// NaN propagation (first source operand's NaN, quieted), QNaN indefinite for invalid
// operations, DAZ/FTZ, DE/ZE/IE/OE/UE/PE flags and all four rounding modes.
//
// How rounding works: every operation first produces r = the round-to-nearest double of the
// exact result and the exact sign of (exact - r) (error-free transformations: TwoSum for
// add, a Dekker product residual for mul/div/sqrt). Single precision rounds r with
// Math.fround (innocuous double rounding for + - * / sqrt since 53 >= 2*24+2; the residual
// sign settles the one case that is not: r exactly at a single-precision midpoint), then the
// residual sign steps the result for directed rounding and reports inexactness. Tininess is
// detected after rounding (to an unbounded exponent range), as x86 does; checked bit for bit
// against the host CPU in test/emulator/sseHost.test.ts.

import { fpRaise, mxcsr, IE, DE, ZE, OE, UE, PE, DAZ, FTZ } from './sseCore';

const I = new Int32Array(2);
const F32 = new Float32Array(I.buffer);
const F64 = new Float64Array(I.buffer);

/** High half of the last 64-bit result returned by a function of this module (a typed-array slot: a module `let` would box non-Smi numbers on every store). */
export const HI = new Int32Array(1);

export function f32(bits: number): number { I[0] = bits; return F32[0]; }
export function bits32(v: number): number { F32[0] = v; return I[0]; }
export function f64(lo: number, hi: number): number { I[0] = lo; I[1] = hi; return F64[0]; }
export function bits64(v: number): number { F64[0] = v; HI[0] = I[1]; return I[0]; }

export const INDEF32 = 0xffc00000 | 0;
const INDEF64_HI = 0xfff80000 | 0;

export function isNaN32(b: number): boolean { return (b & 0x7fffffff) > 0x7f800000; }
function isSNaN32(b: number): boolean { return (b & 0x7fffffff) > 0x7f800000 && (b & 0x400000) === 0; }
function isNaN64(lo: number, hi: number): boolean {
  const e = hi & 0x7fffffff;
  return e > 0x7ff00000 || (e === 0x7ff00000 && lo !== 0);
}
function isSNaN64(lo: number, hi: number): boolean { return isNaN64(lo, hi) && (hi & 0x80000) === 0; }

// Exception priority within one lane (SDM vol. 1 4.9.2): invalid and divide-by-zero suppress
// the denormal-operand flag, so DE is collected per lane and reported at its end.
let laneDE = false, laneHigh = 0;
function laneStart(): void { laneDE = false; laneHigh = 0; }
function laneEnd(): void { if (laneDE && !(laneHigh & (IE | ZE))) fpRaise(DE); }
/** Raises a pre-computation exception (IE or ZE) of the current lane. */
function sig(flag: number): void { laneHigh |= flag; fpRaise(flag); }

/** Operand value with DAZ applied; a denormal counts toward DE when `de` (conversions to integer report no DE). */
export function in32(b: number, de = true): number {
  if ((b & 0x7f800000) === 0 && (b & 0x7fffff) !== 0) {
    if (mxcsr & DAZ) return b < 0 ? -0 : 0;
    if (de) laneDE = true;
  }
  return f32(b);
}

export function in64(lo: number, hi: number, de = true): number {
  if ((hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0) {
    if (mxcsr & DAZ) return hi < 0 ? -0 : 0;
    if (de) laneDE = true;
  }
  return f64(lo, hi);
}

/** The operand itself with DAZ applied (MIN/MAX return an operand, not a computed value). */
function daz32(b: number): number { return (mxcsr & DAZ) && (b & 0x7f800000) === 0 ? b & 0x80000000 : b; }
function daz64hi(lo: number, hi: number): boolean { return (mxcsr & DAZ) !== 0 && (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0; }

const MIN_NORM32 = 2 ** -126, MIN_NORM64 = 2 ** -1022;
const MAX32 = f32(0x7f7fffff), MAX64 = Number.MAX_VALUE;

/** Next float32 above (up) or below a finite float32 value. */
function step32(f: number, up: boolean): number {
  if (f === 0) return up ? 2 ** -149 : -(2 ** -149);
  return f32(bits32(f) + ((f > 0) === up ? 1 : -1));
}

function step64(f: number, up: boolean): number {
  if (f === 0) return up ? 5e-324 : -5e-324;
  let lo = bits64(f), hi = HI[0];
  if ((f > 0) === up) { lo = (lo + 1) | 0; if (lo === 0) hi++; } else { if (lo === 0) hi--; lo = (lo - 1) | 0; }
  return f64(lo, hi);
}

// The operation being rounded, for the unmasked OE/UE case: x86 then reports PE only when
// the result rounded with an unbounded exponent range would be inexact (SDM vol. 1 4.9.1.4-5).
let curOp = 0;
const CUR = new Float64Array(2); // operands x, y (unboxed)
const CVT = 7;

/** True when CUR[0] op CUR[1] is not representable with the precision of the destination (any exponent). */
function unboundedInexact(single: boolean): boolean {
  if (curOp === ADD) {
    // Only an overflow gets here (a sum that underflows is exact): quarter both operands, an exact scaling.
    const a = CUR[0] / 4, b = CUR[1] / 4, r = a + b, bb = r - a;
    return (a - (r - bb)) + (b - bb) !== 0 || (single && Math.fround(r) !== r);
  }
  const x = scale(CUR[0], -Math.floor(Math.log2(Math.abs(CUR[0]))));
  if (curOp === CVT) return Math.fround(x) !== x;
  const y = scale(CUR[1], -Math.floor(Math.log2(Math.abs(CUR[1]))));
  if (curOp === MUL) { const p = x * y; return mulResidualSign(x, y, p) !== 0 || (single && Math.fround(p) !== p); }
  const q = x / y; // DIV
  return mulResidualSign(q, y, x) !== 0 || (single && Math.fround(q) !== q);
}

function overflow(pos: boolean, single: boolean): number {
  if (!(mxcsr & (OE << 7))) { fpRaise(unboundedInexact(single) ? OE | PE : OE); return 0; }
  fpRaise(OE | PE);
  const max = single ? MAX32 : MAX64, rc = (mxcsr >> 13) & 3;
  if (rc === 0) return pos ? Infinity : -Infinity;
  if (rc === 3) return pos ? max : -max;
  if (rc === 1) return pos ? max : -Infinity;
  return pos ? Infinity : -max;
}

/** sign(exact - result) before the directed-rounding step of the last roundP call. */
let rdDir = 0;

/**
 * r (a finite double, round-to-nearest of the exact value, which differs from it in direction
 * s) rounded to single or double precision under MXCSR.RC, with no flags and no range
 * handling (may return an infinity).
 */
function roundP(r: number, s: number, single: boolean): number {
  let f = r, dir = s;
  if (single) {
    f = Math.fround(r);
    if (f !== r) {
      if (s !== 0) {
        if (f === Infinity || f === -Infinity) {
          // r exactly halfway between MAX and 2^128 rounds to even (infinity); below the midpoint it must not.
          if (Math.abs(r) === MAX32 + 2 ** 103 && (s > 0) !== (r > 0)) f = r > 0 ? MAX32 : -MAX32;
        } else {
          const g = step32(f, f < r);
          if (r - f === g - r && (s > 0) === (g > r)) f = g;
        }
      }
      dir = r > f ? 1 : -1;
    }
  }
  rdDir = dir;
  if (dir !== 0 && f !== Infinity && f !== -Infinity) {
    const rc = (mxcsr >> 13) & 3;
    if (rc === 1) { if (dir < 0) f = single ? step32(f, false) : step64(f, false); }
    else if (rc === 2) { if (dir > 0) f = single ? step32(f, true) : step64(f, true); }
    else if (rc === 3) { if (f !== 0 && (dir < 0) === (f > 0)) f = single ? step32(f, f < 0) : step64(f, f < 0); }
  }
  return f;
}

/**
 * Tininess as x86 detects it (IEEE "after rounding"): the exact result, rounded to the
 * destination precision under MXCSR.RC as if the exponent range were unbounded, is below the
 * smallest normal. Computed on operands scaled into the normal range.
 */
function tiny(r: number, s: number, single: boolean): boolean {
  if (single) return Math.abs(roundP(r * 2 ** 100, s, true)) < MIN_NORM32 * 2 ** 100;
  if (curOp !== MUL && curOp !== DIV) return Math.abs(r) < MIN_NORM64; // tiny sums are exact
  const ex = Math.floor(Math.log2(Math.abs(CUR[0]))), ey = Math.floor(Math.log2(Math.abs(CUR[1])));
  const x = scale(CUR[0], -ex), y = scale(CUR[1], -ey);
  if (curOp === MUL) {
    const p = x * y;
    return Math.abs(roundP(p, mulResidualSign(x, y, p), false)) < scale(MIN_NORM64, -(ex + ey));
  }
  const q = x / y;
  return Math.abs(roundP(q, -mulResidualSign(q, y, x) * (y > 0 ? 1 : -1), false)) < scale(MIN_NORM64, -(ex - ey));
}

/**
 * Rounds the result r (a finite double, round-to-nearest of the exact value) whose exact
 * value differs from it in direction `s` (-1, 0, 1) to single or double precision under
 * MXCSR.RC, with overflow, underflow, FTZ and precision reporting.
 */
export function round(r: number, s: number, single: boolean): number {
  const f = roundP(r, s, single), dir = rdDir;
  if (f === Infinity || f === -Infinity) return overflow(f > 0, single);
  if ((r !== 0 || s !== 0) && Math.abs(f) <= (single ? MIN_NORM32 : MIN_NORM64) && tiny(r, s, single)) {
    // An unmasked underflow is reported for any tiny result (no FTZ); PE as for an unbounded exponent.
    if (!(mxcsr & (UE << 7))) { fpRaise(dir !== 0 && unboundedInexact(single) ? UE | PE : UE); return f; }
    if (mxcsr & FTZ) { fpRaise(UE | PE); return f < 0 || (f === 0 && 1 / f < 0) ? -0 : 0; }
    if (dir !== 0) fpRaise(UE);
  }
  if (dir !== 0) fpRaise(PE);
  return f;
}

const SPLIT = 134217729; // 2^27 + 1 (Veltkamp)

/** x * 2^n without intermediate overflow (exact while the result is normal). */
function scale(v: number, n: number): number {
  if (n !== n || n === Infinity || n === -Infinity) throw new Error('SSE: scaling by a non-finite exponent');
  while (n > 1000) { v *= 2 ** 1000; n -= 1000; }
  while (n < -1000) { v *= 2 ** -1000; n += 1000; }
  return v * 2 ** n;
}

/** Exact sign of x*y - t for finite doubles (Dekker's product on operands scaled near 1). */
function mulResidualSign(x: number, y: number, t: number): number {
  if (x === 0 || y === 0) return t > 0 ? -1 : t < 0 ? 1 : 0;
  const ax = Math.abs(x), ay = Math.abs(y);
  let a = x, b = y, ts = t;
  // Dekker's product is exact unless the split overflows or the error term underflows: scale only then.
  if (!(ax > 2 ** -450 && ax < 2 ** 450 && ay > 2 ** -450 && ay < 2 ** 450 && ax * ay > 2 ** -900)) {
    const ex = Math.floor(Math.log2(ax)), ey = Math.floor(Math.log2(ay));
    a = scale(x, -ex); b = scale(y, -ey); ts = scale(t, -(ex + ey));
  }
  const p = a * b;
  let u = SPLIT * a;
  const ah = u - (u - a), al = a - ah;
  u = SPLIT * b;
  const bh = u - (u - b), bl = b - bh;
  const err = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  const dd = (p - ts) + err;
  return dd > 0 ? 1 : dd < 0 ? -1 : 0;
}

/** Operation codes of binary lane operations. */
export const ADD = 0, SUB = 1, MUL = 2, DIV = 3, MIN = 4, MAX = 5, SQRT = 6;

/** Arithmetic on operand values (NaN operands already handled). Returns NaN for an invalid operation. */
function arith(op: number, x: number, y: number, single: boolean): number {
  let r: number, s = 0;
  curOp = op === SUB ? ADD : op; CUR[0] = x; CUR[1] = op === SUB ? -y : y;
  switch (op) {
    case ADD: case SUB: {
      if (op === SUB) y = -y;
      r = x + y;
      if (r !== r) { sig(IE); return NaN; }
      if (r === Infinity || r === -Infinity) {
        if (x === Infinity || x === -Infinity || y === Infinity || y === -Infinity) return r;
        return overflow(r > 0, single);
      }
      const bb = r - x;
      const e = (x - (r - bb)) + (y - bb);
      s = e > 0 ? 1 : e < 0 ? -1 : 0;
      // An exact zero sum of opposite-signed operands is -0 when rounding toward -infinity.
      if (r === 0 && ((mxcsr >> 13) & 3) === 1 && !(x === 0 && y === 0 && 1 / x > 0 && 1 / y > 0)) r = -0;
      break;
    }
    case MUL:
      r = x * y;
      if (r !== r) { sig(IE); return NaN; }
      if (x === Infinity || x === -Infinity || y === Infinity || y === -Infinity) return r;
      if (r === Infinity || r === -Infinity) return overflow(r > 0, single);
      s = single ? 0 : mulResidualSign(x, y, r);
      break;
    case DIV:
      if (y === 0) {
        if (x === 0) { sig(IE); return NaN; }
        if (x === x && x !== Infinity && x !== -Infinity) sig(ZE);
        return x / y;
      }
      r = x / y;
      if (r !== r) { sig(IE); return NaN; }
      if (x === Infinity || x === -Infinity || y === Infinity || y === -Infinity) return r;
      if (r === Infinity || r === -Infinity) return overflow(r > 0, single);
      if (single) {
        // Normal single results: f*y is exact in double, so x - f*y has the sign of the error.
        const f = Math.fround(r), af = Math.abs(f);
        if (af > MIN_NORM32 && af !== Infinity) {
          const res = x - f * y;
          return round(f, res === 0 ? 0 : (res > 0) === (y > 0) ? 1 : -1, true);
        }
      }
      s = -mulResidualSign(r, y, x) * (y > 0 ? 1 : -1);
      break;
    case SQRT:
      if (x < 0) { sig(IE); return NaN; }
      if (x === 0 || x === Infinity) return x;
      r = Math.sqrt(x);
      if (single) {
        // A single square root is always normal and f*f is exact in double.
        const f = Math.fround(r), res = x - f * f;
        return round(f, res > 0 ? 1 : res < 0 ? -1 : 0, true);
      }
      s = -mulResidualSign(r, r, x);
      break;
    default: throw new Error(`bad SSE operation ${op}`);
  }
  return round(r, s, single);
}

/** Single-precision binary (or unary SQRT on b) lane operation on bit patterns. */
export function op32(op: number, a: number, b: number): number {
  // Fast path: round to nearest, normal operands and a normal result (no NaN, DE, ZE, OE, UE, DAZ/FTZ
  // effects possible); only the inexact flag remains. Everything else takes the general path.
  if (op <= DIV && (mxcsr & 0x6000) === 0 && (((a >>> 23) & 0xff) - 1) >>> 0 < 254 && (((b >>> 23) & 0xff) - 1) >>> 0 < 254) {
    const x = f32(a), y = op === SUB ? -f32(b) : f32(b);
    let r: number, f: number, dir: number;
    if (op === DIV) {
      r = x / y; f = Math.fround(r);
      const res = x - f * y;
      dir = res === 0 ? 0 : (res > 0) === (y > 0) ? 1 : -1;
    } else if (op === MUL) {
      r = x * y; f = Math.fround(r);
      dir = r > f ? 1 : r < f ? -1 : 0;
    } else {
      r = x + y; f = Math.fround(r);
      if (f !== r) dir = r > f ? 1 : -1;
      else { const bb = r - x, e = (x - (r - bb)) + (y - bb); dir = e > 0 ? 1 : e < 0 ? -1 : 0; }
    }
    const af = Math.abs(f);
    if (af > MIN_NORM32 && af !== Infinity) {
      if (dir !== 0) fpRaise(PE);
      return bits32(f);
    }
  }
  laneStart();
  const r = lane32(op, a, b);
  laneEnd();
  return r;
}

function lane32(op: number, a: number, b: number): number {
  if (op === MIN || op === MAX) {
    // MIN/MAX: any NaN (quiet or signalling) is invalid and returns the second operand (after DAZ), as do equal values.
    if (isNaN32(a) || isNaN32(b)) { sig(IE); return daz32(b); }
    const x = in32(a), y = in32(b);
    return (op === MAX ? x > y : x < y) ? bits32(x) : bits32(y);
  }
  if (op === SQRT) {
    if (isNaN32(b)) { if (!(b & 0x400000)) sig(IE); return b | 0x400000; }
    const v = arith(SQRT, in32(b), 0, true);
    return v !== v ? INDEF32 : bits32(v);
  }
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b)) sig(IE);
    return (isNaN32(a) ? a : b) | 0x400000;
  }
  const v = arith(op, in32(a), in32(b), true);
  return v !== v ? INDEF32 : bits32(v);
}

/** Double-precision lane operation; returns the low half, high half in HI[0]. */
export function op64(op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  // Fast path as in op32: round to nearest, normal operands, normal result.
  if (op <= DIV && (mxcsr & 0x6000) === 0 && (((ahi >>> 20) & 0x7ff) - 1) >>> 0 < 2046 && (((bhi >>> 20) & 0x7ff) - 1) >>> 0 < 2046) {
    const x = f64(alo, ahi), y = op === SUB ? -f64(blo, bhi) : f64(blo, bhi);
    const r = op === DIV ? x / y : op === MUL ? x * y : x + y, ar = Math.abs(r);
    if (ar > MIN_NORM64 && ar !== Infinity) {
      let dir: number;
      if (op === DIV) dir = -mulResidualSign(r, y, x) * (y > 0 ? 1 : -1);
      else if (op === MUL) dir = mulResidualSign(x, y, r);
      else { const bb = r - x, e = (x - (r - bb)) + (y - bb); dir = e > 0 ? 1 : e < 0 ? -1 : 0; }
      if (dir !== 0) fpRaise(PE);
      return bits64(r);
    }
  }
  laneStart();
  const r = lane64(op, alo, ahi, blo, bhi);
  laneEnd();
  return r;
}

function lane64(op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  if (op === MIN || op === MAX) {
    if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) {
      sig(IE);
      if (daz64hi(blo, bhi)) { HI[0] = bhi & 0x80000000; return 0; }
      HI[0] = bhi; return blo;
    }
    const x = in64(alo, ahi), y = in64(blo, bhi);
    return bits64((op === MAX ? x > y : x < y) ? x : y);
  }
  if (op === SQRT) {
    if (isNaN64(blo, bhi)) { if (!(bhi & 0x80000)) sig(IE); HI[0] = bhi | 0x80000; return blo; }
    const v = arith(SQRT, in64(blo, bhi), 0, false);
    if (v !== v) { HI[0] = INDEF64_HI; return 0; }
    return bits64(v);
  }
  const na = isNaN64(alo, ahi), nb = isNaN64(blo, bhi);
  if (na || nb) {
    if (isSNaN64(alo, ahi) || isSNaN64(blo, bhi)) sig(IE);
    if (na) { HI[0] = ahi | 0x80000; return alo; }
    HI[0] = bhi | 0x80000; return blo;
  }
  const v = arith(op, in64(alo, ahi), in64(blo, bhi), false);
  if (v !== v) { HI[0] = INDEF64_HI; return 0; }
  return bits64(v);
}

/**
 * CMPPS/CMPSS predicate (imm8[2:0]) on two values: EQ LT LE UNORD NEQ NLT NLE ORD. LT/LE and
 * their negations signal invalid on any NaN, the others on signalling NaNs only.
 */
function compare(pred: number, x: number, y: number, anyNaN: boolean, anySNaN: boolean): boolean {
  if (anySNaN || (anyNaN && (pred & 3) !== 0 && (pred & 3) !== 3)) sig(IE);
  if (anyNaN) laneDE = false;
  switch (pred & 7) {
    case 0: return x === y;
    case 1: return x < y;
    case 2: return x <= y;
    case 3: return anyNaN;
    case 4: return !(x === y);
    case 5: return !(x < y);
    case 6: return !(x <= y);
    default: return !anyNaN;
  }
}

export function compare32(pred: number, a: number, b: number): boolean {
  laneStart();
  const r = compare(pred, in32(a), in32(b), isNaN32(a) || isNaN32(b), isSNaN32(a) || isSNaN32(b));
  laneEnd();
  return r;
}

export function compare64(pred: number, alo: number, ahi: number, blo: number, bhi: number): boolean {
  laneStart();
  const r = compare(pred, in64(alo, ahi), in64(blo, bhi), isNaN64(alo, ahi) || isNaN64(blo, bhi), isSNaN64(alo, ahi) || isSNaN64(blo, bhi));
  laneEnd();
  return r;
}

/** (U)COMIS ordering: 3 unordered, 0 greater, 1 less, 2 equal. COMIS signals invalid on any NaN, UCOMIS on SNaN only. */
function comiOrder(x: number, y: number, anyNaN: boolean, anySNaN: boolean, signalQuiet: boolean): number {
  if (anySNaN || (anyNaN && signalQuiet)) sig(IE);
  if (anyNaN) laneDE = false;
  return anyNaN ? 3 : x > y ? 0 : x < y ? 1 : 2;
}

export function comi32(a: number, b: number, signalQuiet: boolean): number {
  laneStart();
  const r = comiOrder(in32(a), in32(b), isNaN32(a) || isNaN32(b), isSNaN32(a) || isSNaN32(b), signalQuiet);
  laneEnd();
  return r;
}

export function comi64(alo: number, ahi: number, blo: number, bhi: number, signalQuiet: boolean): number {
  laneStart();
  const r = comiOrder(in64(alo, ahi), in64(blo, bhi), isNaN64(alo, ahi) || isNaN64(blo, bhi), isSNaN64(alo, ahi) || isSNaN64(blo, bhi), signalQuiet);
  laneEnd();
  return r;
}

/** Rounds a double to an integral value under rounding control rc (0 nearest-even, 1 down, 2 up, 3 toward zero). */
function rint(v: number, rc: number): number {
  switch (rc) {
    case 0: { const f = Math.floor(v), d = v - f; return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f; }
    case 1: return Math.floor(v);
    case 2: return Math.ceil(v);
    default: return Math.trunc(v);
  }
}

/**
 * Converts a value to int32 (or int64 when `wide`: low half returned, high half in HI[0])
 * under MXCSR.RC or truncation. NaN and out-of-range values give the integer indefinite
 * (0x80000000 / 0x8000000000000000) with IE; inexact results set PE.
 */
export function toInt(v: number, truncate: boolean, wide: boolean): number {
  const n = v === v ? rint(v, truncate ? 3 : (mxcsr >> 13) & 3) : NaN;
  if (!(wide ? n >= -9223372036854775808 && n < 9223372036854775808 : n >= -2147483648 && n <= 2147483647)) {
    fpRaise(IE);
    HI[0] = 0x80000000 | 0;
    return wide ? 0 : 0x80000000 | 0;
  }
  if (n !== v) fpRaise(PE);
  if (!wide) return n | 0;
  const hi = Math.floor(n / 4294967296);
  HI[0] = hi | 0;
  return (n - hi * 4294967296) | 0;
}

/** Value of the signed 64-bit integer (lo, hi) rounded to single or double under MXCSR.RC. */
export function fromInt64(lo: number, hi: number, single: boolean): number {
  const x = hi * 4294967296, y = lo >>> 0;
  const r = x + y;
  const bb = r - x;
  const e = (x - (r - bb)) + (y - bb);
  return round(r, e > 0 ? 1 : e < 0 ? -1 : 0, single);
}

/** Single to double (exact; SNaN quieted with IE, NaN payload kept). Returns lo, hi in HI[0]. */
export function cvt32to64(b: number): number {
  if (isNaN32(b)) {
    if (!(b & 0x400000)) fpRaise(IE);
    HI[0] = (b & 0x80000000) | 0x7ff80000 | ((b & 0x3fffff) >>> 3);
    return (b & 7) << 29;
  }
  laneStart();
  const v = in32(b);
  laneEnd();
  return bits64(v);
}

/** Double to single under MXCSR.RC (NaN payload truncated, quieted). */
export function cvt64to32(lo: number, hi: number): number {
  if (isNaN64(lo, hi)) {
    if (!(hi & 0x80000)) fpRaise(IE);
    return (hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29);
  }
  laneStart();
  const v = in64(lo, hi);
  laneEnd();
  if (v === 0 || v === Infinity || v === -Infinity) return bits32(v);
  curOp = CVT; CUR[0] = v;
  return bits32(round(v, 0, true));
}
