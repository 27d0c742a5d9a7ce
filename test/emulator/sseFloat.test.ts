// SSE/SSE2 floating point per the Intel SDM: NaN propagation (vol. 1 table 4-7), QNaN
// indefinite, signed zeros, MIN/MAX operand rules, integer indefinite, rounding control,
// DAZ/FTZ, and the exception model (masked flags, #XM vs #UD on unmasked exceptions,
// destination unchanged), plus the availability checks (#UD/#NM) every SSE instruction makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sse, sseCpu, run, ps, pd, getPs, getPd, getLanes32, lanes32, f32bits, f64bits } from './sseKit';

const ADDPS = [0x0f, 0x58, 0xc1], ADDSS = [0xf3, 0x0f, 0x58, 0xc1], ADDSD = [0xf2, 0x0f, 0x58, 0xc1];
const SUBSS = [0xf3, 0x0f, 0x5c, 0xc1], MULSD = [0xf2, 0x0f, 0x59, 0xc1];
const DIVSS = [0xf3, 0x0f, 0x5e, 0xc1], DIVSD = [0xf2, 0x0f, 0x5e, 0xc1], SQRTSS = [0xf3, 0x0f, 0x51, 0xc1];
const MINSS = [0xf3, 0x0f, 0x5d, 0xc1], MAXSS = [0xf3, 0x0f, 0x5f, 0xc1];
const CVTSS2SI = [0xf3, 0x0f, 0x2d, 0xc0], CVTTSD2SI64 = [0xf2, 0x48, 0x0f, 0x2c, 0xc0];
const COMISS = [0x0f, 0x2f, 0xc1], UCOMISS = [0x0f, 0x2e, 0xc1];
const RCPPS = [0x0f, 0x53, 0xc1], RSQRTPS = [0x0f, 0x52, 0xc1];
const XM = 19, UD = 6, NM = 7, GP = 13;
const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20;

test('ADDPS adds four lanes; exact sums raise no flags', () => {
  const c = sse(ADDPS, { xmm: { 0: ps(1, -2, 0.5, 1e10), 1: ps(2, 2, 0.25, -1e10) } });
  assert.deepEqual(getPs(c, 0), [3, 0, 0.75, 0]);
  assert.equal(c.getMxcsr(), 0x1f80);
});

test('signed zeros: (+0) + (-0) = +0 in round-to-nearest and -0 when rounding down; x - x = -0 rounding down', () => {
  let c = sse(ADDSS, { xmm: { 0: ps(0, 0, 0, 0), 1: ps(-0, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0);
  c = sse(ADDSS, { xmm: { 0: ps(0, 0, 0, 0), 1: ps(-0, 0, 0, 0) }, mxcsr: 0x1f80 | 0x2000 });
  assert.equal(getLanes32(c, 0)[0], 0x80000000);
  c = sse(SUBSS, { xmm: { 0: ps(5, 0, 0, 0), 1: ps(5, 0, 0, 0) }, mxcsr: 0x1f80 | 0x2000 });
  assert.equal(getLanes32(c, 0)[0], 0x80000000);
});

test('NaN operands (SDM table 4-7): first source NaN wins, SNaN is quieted with IE; QNaN alone raises nothing', () => {
  const snanA = 0x7f800001, qnanB = 0xffc01234;
  let c = sse(ADDSS, { xmm: { 0: lanes32(snanA, 0, 0, 0), 1: lanes32(qnanB, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0x7fc00001);
  assert.equal(c.getMxcsr() & 0x3f, IE);
  c = sse(ADDSS, { xmm: { 0: lanes32(f32bits(1), 0, 0, 0), 1: lanes32(qnanB, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], qnanB);
  assert.equal(c.getMxcsr() & 0x3f, 0);
});

test('invalid operations give the QNaN indefinite (sign set): inf - inf, 0 * inf, 0/0, sqrt(-1)', () => {
  let c = sse(SUBSS, { xmm: { 0: ps(Infinity, 0, 0, 0), 1: ps(Infinity, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0xffc00000);
  assert.equal(c.getMxcsr() & 0x3f, IE);
  c = sse(MULSD, { xmm: { 0: pd(0, 0), 1: pd(-Infinity, 0) } });
  assert.equal(c.getXmm(0)[0], 0xfff8000000000000n);
  c = sse(DIVSD, { xmm: { 0: pd(0, 0), 1: pd(0, 0) } });
  assert.equal(c.getXmm(0)[0], 0xfff8000000000000n);
  c = sse(SQRTSS, { xmm: { 0: ps(0, 0, 0, 0), 1: ps(-1, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0xffc00000);
  c = sse(SQRTSS, { xmm: { 0: ps(0, 0, 0, 0), 1: ps(-0, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0x80000000, 'sqrt(-0) = -0, no exception');
  assert.equal(c.getMxcsr() & 0x3f, 0);
});

test('divide by zero: ZE and a signed infinity; 0/0 is IE not ZE', () => {
  const c = sse(DIVSS, { xmm: { 0: ps(-3, 0, 0, 0), 1: ps(0, 0, 0, 0) } });
  assert.equal(getPs(c, 0)[0], -Infinity);
  assert.equal(c.getMxcsr() & 0x3f, ZE);
});

test('MINSS/MAXSS return the second operand for NaNs (IE even for QNaN) and for equal zeros', () => {
  let c = sse(MINSS, { xmm: { 0: lanes32(0x7fc00000, 0, 0, 0), 1: ps(2, 0, 0, 0) } });
  assert.equal(getPs(c, 0)[0], 2);
  assert.equal(c.getMxcsr() & 0x3f, IE);
  c = sse(MINSS, { xmm: { 0: ps(1, 0, 0, 0), 1: lanes32(0x7f800001, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0x7f800001, 'the SNaN source is returned unquieted');
  c = sse(MAXSS, { xmm: { 0: ps(0, 0, 0, 0), 1: ps(-0, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0x80000000);
});

test('rounding control: 1/3 in all four modes; inexact sets PE', () => {
  const third = [0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaaa]; // nearest, down, up, toward zero
  for (let rc = 0; rc < 4; rc++) {
    const c = sse(DIVSS, { xmm: { 0: ps(1, 0, 0, 0), 1: ps(3, 0, 0, 0) }, mxcsr: 0x1f80 | (rc << 13) });
    assert.equal(getLanes32(c, 0)[0], third[rc], `RC=${rc}`);
    assert.equal(c.getMxcsr() & 0x3f, PE);
  }
  const c = sse(DIVSS, { xmm: { 0: ps(-1, 0, 0, 0), 1: ps(3, 0, 0, 0) }, mxcsr: 0x1f80 | (1 << 13) });
  assert.equal(getLanes32(c, 0)[0], 0xbeaaaaab, 'rounding down a negative quotient goes away from zero');
});

test('overflow: masked response is infinity in round-to-nearest and the largest finite value toward zero', () => {
  let c = sse(ADDSD, { xmm: { 0: pd(Number.MAX_VALUE, 0), 1: pd(Number.MAX_VALUE, 0) } });
  assert.equal(getPd(c, 0)[0], Infinity);
  assert.equal(c.getMxcsr() & 0x3f, OE | PE);
  c = sse(ADDSD, { xmm: { 0: pd(Number.MAX_VALUE, 0), 1: pd(Number.MAX_VALUE, 0) }, mxcsr: 0x7f80 });
  assert.equal(getPd(c, 0)[0], Number.MAX_VALUE);
});

test('underflow, DAZ and FTZ: denormal results, DE on denormal operands, flush to zero', () => {
  const tiny = 2 ** -126;
  let c = sse(DIVSS, { xmm: { 0: ps(tiny, 0, 0, 0), 1: ps(3, 0, 0, 0) } });
  assert.equal(getLanes32(c, 0)[0], 0x002aaaab);
  assert.equal(c.getMxcsr() & 0x3f, UE | PE);
  c = sse(DIVSS, { xmm: { 0: ps(tiny, 0, 0, 0), 1: ps(3, 0, 0, 0) }, mxcsr: 0x1f80 | 0x8000 });
  assert.equal(getLanes32(c, 0)[0], 0, 'FTZ');
  assert.equal(c.getMxcsr() & 0x3f, UE | PE);
  c = sse(ADDSS, { xmm: { 0: lanes32(1, 0, 0, 0), 1: ps(1, 0, 0, 0) } });
  assert.equal(getPs(c, 0)[0], 1);
  assert.equal(c.getMxcsr() & 0x3f, DE | PE, 'denormal operand');
  c = sse(ADDSS, { xmm: { 0: lanes32(1, 0, 0, 0), 1: ps(1, 0, 0, 0) }, mxcsr: 0x1f80 | 0x40 });
  assert.equal(getPs(c, 0)[0], 1);
  assert.equal(c.getMxcsr() & 0x3f, 0, 'DAZ: the denormal is zero, the sum exact');
  c = sse(ADDSS, { xmm: { 0: lanes32(1, 0, 0, 0), 1: lanes32(0x7fc00000, 0, 0, 0) } });
  assert.equal(c.getMxcsr() & 0x3f, 0, 'a QNaN operand outranks the denormal operand');
});

test('unmasked exceptions: #XM with CR4.OSXMMEXCPT, #UD without; flags set, destination unchanged', () => {
  let c = sseCpu(DIVSS, { xmm: { 0: ps(1, 7, 0, 0), 1: ps(0, 0, 0, 0) }, mxcsr: 0x1f80 & ~(ZE << 7) });
  assert.equal(run(c), XM);
  assert.deepEqual(getPs(c, 0), [1, 7, 0, 0]);
  assert.equal(c.getMxcsr() & 0x3f, ZE);
  c = sseCpu(DIVSS, { xmm: { 0: ps(1, 7, 0, 0), 1: ps(0, 0, 0, 0) }, mxcsr: 0x1f80 & ~(ZE << 7), cr4: 0x220n });
  assert.equal(run(c), UD);
  c = sseCpu(DIVSS, { xmm: { 0: ps(1, 0, 0, 0), 1: ps(3, 0, 0, 0) }, mxcsr: 0x1f80 & ~(PE << 7) });
  assert.equal(run(c), XM, 'precision unmasked');
  c = sseCpu(ADDPS, { xmm: { 0: ps(1, 1, 1, 1), 1: ps(1, 1, 1, 1) }, mxcsr: 0 });
  assert.equal(run(c), -1, 'all unmasked but nothing raised');
});

test('CVTSS2SI rounds per MXCSR.RC; CVTTSD2SI truncates; out of range and NaN give the integer indefinite with IE', () => {
  let c = sse(CVTSS2SI, { xmm: { 0: ps(2.5, 0, 0, 0) } });
  assert.equal(c.getGpr(0), 2n, 'ties to even');
  c = sse(CVTSS2SI, { xmm: { 0: ps(-2.5, 0, 0, 0) }, mxcsr: 0x1f80 | 0x2000 });
  assert.equal(c.getGpr(0), 0xfffffffdn);
  c = sse(CVTSS2SI, { xmm: { 0: ps(3e9, 0, 0, 0) } });
  assert.equal(c.getGpr(0), 0x80000000n);
  assert.equal(c.getMxcsr() & 0x3f, IE);
  c = sse(CVTTSD2SI64, { xmm: { 0: pd(-123456789012.75, 0) } });
  assert.equal(c.getGpr(0), BigInt.asUintN(64, -123456789012n));
  assert.equal(c.getMxcsr() & 0x3f, PE);
  c = sse(CVTTSD2SI64, { xmm: { 0: pd(NaN, 0) } });
  assert.equal(c.getGpr(0), 0x8000000000000000n);
  c = sse(CVTTSD2SI64, { xmm: { 0: pd(9223372036854775808, 0) } });
  assert.equal(c.getGpr(0), 0x8000000000000000n, '2^63 is out of range');
  c = sse(CVTTSD2SI64, { xmm: { 0: pd(-9223372036854775808, 0) } });
  assert.equal(c.getGpr(0), 0x8000000000000000n);
  assert.equal(c.getMxcsr() & 0x3f, 0, '-2^63 converts exactly');
});

test('CVTSI2SS with REX.W rounds a 64-bit integer once (no double rounding through double)', () => {
  // 2^60 + 2^36 + 1 lies just above the midpoint between two floats; via double it would round to the midpoint, then to even.
  const v = (1n << 60n) + (1n << 36n) + 1n;
  const c = sse([0xf3, 0x48, 0x0f, 0x2a, 0xc0], { gpr: { 0: v } }); // cvtsi2ss xmm0, rax
  assert.equal(getLanes32(c, 0)[0], 0x5d800001);
  assert.equal(c.getMxcsr() & 0x3f, PE);
});

test('COMISS/UCOMISS: ZF/PF/CF per ordering, OF/SF/AF cleared; UCOMISS is quiet on QNaN, COMISS is not', () => {
  const fl = (c: ReturnType<typeof sse>): bigint => c.getRflags() & 0x8d5n;
  assert.equal(fl(sse(COMISS, { xmm: { 0: ps(2, 0, 0, 0), 1: ps(1, 0, 0, 0) } })), 0n);
  assert.equal(fl(sse(COMISS, { xmm: { 0: ps(1, 0, 0, 0), 1: ps(2, 0, 0, 0) } })), 1n);
  assert.equal(fl(sse(COMISS, { xmm: { 0: ps(-0, 0, 0, 0), 1: ps(0, 0, 0, 0) } })), 0x40n);
  let c = sse(UCOMISS, { xmm: { 0: lanes32(0x7fc00000, 0, 0, 0), 1: ps(0, 0, 0, 0) } });
  assert.equal(fl(c), 0x45n);
  assert.equal(c.getMxcsr() & 0x3f, 0);
  c = sse(COMISS, { xmm: { 0: lanes32(0x7fc00000, 0, 0, 0), 1: ps(0, 0, 0, 0) } });
  assert.equal(c.getMxcsr() & 0x3f, IE);
});

test('CMPNEQPS on xmm12/xmm13 (REX) writes all-ones masks; NaN compares unequal', () => {
  const c = sse([0x45, 0x0f, 0xc2, 0xe5, 0x04], { xmm: { 12: ps(1, 2, NaN, 4), 13: ps(1, 3, NaN, 4) } });
  assert.deepEqual(getLanes32(c, 12), [0, 0xffffffff, 0xffffffff, 0]);
});

test('RCPPS/RSQRTPS stay within the SDM bound (|rel err| <= 1.5 * 2^-12); specials per the SDM', () => {
  const inputs = [1, 3, 0.1, 12345.678, 1e-30, 7e37];
  for (let i = 0; i < inputs.length; i += 2) {
    const a = inputs[i], b = inputs[i + 1];
    const r = getPs(sse(RCPPS, { xmm: { 1: ps(a, b, a, b) } }), 0);
    const s = getPs(sse(RSQRTPS, { xmm: { 1: ps(a, b, a, b) } }), 0);
    for (const [k, x] of [a, b].entries()) {
      assert.ok(Math.abs(r[k] * Math.fround(x) - 1) <= 1.5 * 2 ** -12, `rcp(${x})`);
      assert.ok(Math.abs(s[k] * Math.sqrt(Math.fround(x)) - 1) <= 1.5 * 2 ** -12, `rsqrt(${x})`);
    }
  }
  const r = sse(RCPPS, { xmm: { 1: lanes32(0x80000000, 0x00000001, f32bits(Infinity), 0x7f800001) } });
  assert.deepEqual(getLanes32(r, 0), [0xff800000, 0x7f800000, 0, 0x7fc00001]);
  const s = sse(RSQRTPS, { xmm: { 1: ps(-1, -0, Infinity, 4) } });
  assert.deepEqual(getLanes32(s, 0), [0xffc00000, 0xff800000, 0, f32bits(0.5)]);
  assert.equal(s.getMxcsr(), 0x1f80, 'no MXCSR flags');
});

test('availability: #UD without CR4.OSFXSR or with CR0.EM or LOCK, #NM with CR0.TS', () => {
  assert.equal(run(sseCpu(ADDPS, { cr4: 0x20n })), UD);
  assert.equal(run(sseCpu(ADDPS, { cr0: 0x80010015n })), UD, 'CR0.EM');
  assert.equal(run(sseCpu(ADDPS, { cr0: 0x80010019n })), NM, 'CR0.TS');
  assert.equal(run(sseCpu([0xf0, 0x0f, 0x58, 0xc1])), UD, 'LOCK');
});

test('legacy SSE m128 operands must be 16-byte aligned (#GP(0)); scalar m32 operands need not be', () => {
  const data = new Uint8Array(32);
  new DataView(data.buffer).setFloat32(4, 2.5, true);
  assert.equal(run(sseCpu([0x0f, 0x58, 0x46, 0x04], { data })), GP); // addps xmm0, [rsi+4]
  const c = sse([0xf3, 0x0f, 0x58, 0x46, 0x04], { data, xmm: { 0: ps(1, 0, 0, 0) } }); // addss xmm0, [rsi+4]
  assert.equal(getPs(c, 0)[0], 3.5);
});

test('unimplemented SIMD/x87 space raises #UD: MMX forms, EMMS, SSE3 LDDQU, SSSE3 PSHUFB, MOVDQ2Q', () => {
  for (const code of [[0x0f, 0xfc, 0xc1], [0x0f, 0x77], [0xf2, 0x0f, 0xf0, 0x06], [0x66, 0x0f, 0x38, 0x00, 0xc1], [0xf2, 0x0f, 0xd6, 0xc1]]) {
    assert.equal(run(sseCpu(code)), UD, code.map((b) => b.toString(16)).join(' '));
  }
});

test('CVTSS2SD keeps the NaN payload and quiets it; CVTSD2SS rounds per RC', () => {
  let c = sse([0xf3, 0x0f, 0x5a, 0xc1], { xmm: { 1: lanes32(0xff812345, 0, 0, 0) } });
  assert.equal(c.getXmm(0)[0], 0xfff82468a0000000n);
  assert.equal(c.getMxcsr() & 0x3f, IE);
  c = sse([0xf2, 0x0f, 0x5a, 0xc1], { xmm: { 1: [f64bits(1 + 2 ** -30), 0n] }, mxcsr: 0x1f80 | 0x4000 });
  assert.equal(getLanes32(c, 0)[0], 0x3f800001, 'rounded up');
});
