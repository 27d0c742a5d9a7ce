// SSE/SSE2 data movement, shuffles and integer forms with memory operands: what each form
// loads, stores, zeroes or keeps (SDM instruction pages), alignment rules, GPR<->XMM moves
// with REX.W, MASKMOVDQU and MOVNTI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sse, sseCpu, run, lanes32, getLanes32, readData } from './sseKit';

const GP = 13, UD = 6;
const X = lanes32(0x11111111, 0x22222222, 0x33333333, 0x44444444);
const seq = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const u32 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint32(o, true);

test('MOVAPS loads aligned and #GPs on a misaligned address; MOVUPS does not care', () => {
  const data = seq(64);
  let c = sse([0x0f, 0x28, 0x06], { data });
  assert.deepEqual(getLanes32(c, 0), [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
  assert.equal(run(sseCpu([0x0f, 0x28, 0x46, 0x08], { data })), GP);
  c = sse([0x0f, 0x10, 0x46, 0x08], { data });
  assert.equal(getLanes32(c, 0)[0], 0x0b0a0908);
});

test('MOVUPS store across a page boundary writes all 16 bytes; MOVDQU from xmm8 (REX.R)', () => {
  const c = sse([0x0f, 0x11, 0x96, 0xf9, 0x0f, 0x00, 0x00, 0xf3, 0x44, 0x0f, 0x7f, 0x06], { xmm: { 2: X, 8: X } });
  const b = readData(c, 0xff9, 16);
  assert.equal(u32(b, 0), 0x11111111); assert.equal(u32(b, 12), 0x44444444);
  assert.equal(u32(readData(c, 0, 16), 8), 0x33333333);
});

test('MOVSS/MOVSD from memory zero the rest of the register; register forms keep it', () => {
  const data = seq(16, 0x40);
  let c = sse([0xf3, 0x0f, 0x10, 0x1e], { data, xmm: { 3: X } });
  assert.deepEqual(getLanes32(c, 3), [0x43424140, 0, 0, 0]);
  c = sse([0xf2, 0x0f, 0x10, 0x1e], { data, xmm: { 3: X } });
  assert.deepEqual(getLanes32(c, 3), [0x43424140, 0x47464544, 0, 0]);
  c = sse([0xf3, 0x0f, 0x10, 0xd9], { xmm: { 3: X, 1: lanes32(5, 6, 7, 8) } }); // movss xmm3, xmm1
  assert.deepEqual(getLanes32(c, 3), [5, 0x22222222, 0x33333333, 0x44444444]);
  c = sse([0xf3, 0x0f, 0x11, 0x5e, 0x04], { xmm: { 3: X } }); // movss [rsi+4], xmm3
  assert.equal(u32(readData(c, 0, 8), 4), 0x11111111);
});

test('MOVLPS/MOVHPS load one half and keep the other; stores write 8 bytes; MOVHLPS/MOVLHPS', () => {
  const data = seq(16, 0x80);
  let c = sse([0x0f, 0x12, 0x26, 0x0f, 0x16, 0x66, 0x08], { data, xmm: { 4: X } });
  assert.deepEqual(getLanes32(c, 4), [0x83828180, 0x87868584, 0x8b8a8988, 0x8f8e8d8c]);
  c = sse([0x0f, 0x13, 0x66, 0x20, 0x66, 0x0f, 0x17, 0x66, 0x28], { xmm: { 4: X } });
  const b = readData(c, 32, 16);
  assert.deepEqual([u32(b, 0), u32(b, 4), u32(b, 8), u32(b, 12)], [0x11111111, 0x22222222, 0x33333333, 0x44444444]);
  c = sse([0x0f, 0x12, 0xc1], { xmm: { 0: X, 1: lanes32(1, 2, 3, 4) } }); // movhlps xmm0, xmm1
  assert.deepEqual(getLanes32(c, 0), [3, 4, 0x33333333, 0x44444444]);
  c = sse([0x0f, 0x16, 0xc1], { xmm: { 0: X, 1: lanes32(1, 2, 3, 4) } }); // movlhps xmm0, xmm1
  assert.deepEqual(getLanes32(c, 0), [0x11111111, 0x22222222, 1, 2]);
});

test('MOVD/MOVQ: zero-extension into xmm, REX.W GPR forms, stores of 4 and 8 bytes', () => {
  const data = seq(16, 0x10);
  let c = sse([0x66, 0x0f, 0x6e, 0x2e], { data, xmm: { 5: X } });
  assert.deepEqual(getLanes32(c, 5), [0x13121110, 0, 0, 0]);
  c = sse([0xf3, 0x0f, 0x7e, 0x2e], { data, xmm: { 5: X } });
  assert.deepEqual(getLanes32(c, 5), [0x13121110, 0x17161514, 0, 0]);
  c = sse([0x66, 0x4d, 0x0f, 0x6e, 0xca, 0x66, 0x4d, 0x0f, 0x7e, 0xcb], { gpr: { 10: 0x8877665544332211n }, xmm: { 9: X } });
  assert.deepEqual(c.getXmm(9), [0x8877665544332211n, 0n]);
  assert.equal(c.getGpr(11), 0x8877665544332211n);
  c = sse([0x66, 0x0f, 0x7e, 0x6e, 0x30], { xmm: { 5: X } });
  assert.deepEqual([...readData(c, 48, 8)], [0x11, 0x11, 0x11, 0x11, 0, 0, 0, 0]);
  c = sse([0x66, 0x0f, 0xd6, 0x6e, 0x30], { xmm: { 5: X } });
  assert.equal(u32(readData(c, 48, 8), 4), 0x22222222);
  c = sse([0x66, 0x0f, 0xd6, 0xc8], { xmm: { 0: X, 1: X } }); // movq xmm0, xmm1 (66 0F D6 form): high qword zeroed
  assert.deepEqual(getLanes32(c, 0), [0x11111111, 0x22222222, 0, 0]);
});

test('MOVNTDQ requires alignment and a memory operand; MOVNTI stores 4 or 8 bytes and has no register form', () => {
  let c = sse([0x66, 0x0f, 0xe7, 0x4e, 0x40], { xmm: { 1: X } });
  assert.equal(u32(readData(c, 64, 16), 12), 0x44444444);
  assert.equal(run(sseCpu([0x66, 0x0f, 0xe7, 0x4e, 0x41], { xmm: { 1: X } })), GP);
  assert.equal(run(sseCpu([0x66, 0x0f, 0xe7, 0xc1])), UD);
  c = sse([0x48, 0x0f, 0xc3, 0x46, 0x50], { gpr: { 0: 0x0102030405060708n } });
  assert.deepEqual([...readData(c, 80, 8)], [8, 7, 6, 5, 4, 3, 2, 1]);
  assert.equal(run(sseCpu([0x0f, 0xc3, 0xc0])), UD);
});

test('MASKMOVDQU stores the bytes whose mask byte has bit 7 set at DS:RDI', () => {
  const c = sseCpu([0x48, 0x89, 0xf7, 0x66, 0x0f, 0xf7, 0xca], { // mov rdi, rsi; maskmovdqu xmm1, xmm2
    xmm: { 1: lanes32(0x44332211, 0x88776655, 0xccbbaa99, 0x00ffeedd), 2: lanes32(0x800080ff, 0, 0, 0x80000000) },
    data: new Uint8Array(16).fill(0xee),
  });
  assert.equal(run(c), -1);
  assert.deepEqual([...readData(c, 0, 16)], [0x11, 0x22, 0xee, 0x44, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0x00]);
});

test('PSHUFD and PINSRW with memory sources; PEXTRW zero-extends', () => {
  const data = seq(16, 0x20);
  let c = sse([0x66, 0x0f, 0x70, 0x06, 0x1b], { data });
  assert.deepEqual(getLanes32(c, 0), [0x2f2e2d2c, 0x2b2a2928, 0x27262524, 0x23222120]);
  c = sse([0x66, 0x0f, 0xc4, 0x46, 0x02, 0x07], { data, xmm: { 0: X } });
  assert.deepEqual(getLanes32(c, 0), [0x11111111, 0x22222222, 0x33333333, 0x23224444]);
  c = sse([0x66, 0x0f, 0xc5, 0xc1, 0x07], { xmm: { 1: lanes32(0, 0, 0, 0xfedc0000) }, gpr: { 0: -1n } }); // pextrw eax, xmm1, 7
  assert.equal(c.getGpr(0), 0xfedcn);
});

test('packed integer SDM examples: PADDUSB/PSUBSW saturation, PMADDWD wrap, PSADBW, PACKUSWB, shifts beyond the width', () => {
  let c = sse([0x66, 0x0f, 0xdc, 0xc1], { xmm: { 0: lanes32(0xff80017f, 0, 0, 0), 1: lanes32(0x01800101, 0, 0, 0) } }); // paddusb
  assert.equal(getLanes32(c, 0)[0], 0xffff0280);
  c = sse([0x66, 0x0f, 0xe9, 0xc1], { xmm: { 0: lanes32(0x80007fff, 0, 0, 0), 1: lanes32(0x0001ffff, 0, 0, 0) } }); // psubsw
  assert.equal(getLanes32(c, 0)[0], 0x80007fff);
  c = sse([0x66, 0x0f, 0xf5, 0xc1], { xmm: { 0: lanes32(0x80008000, 0, 0, 0), 1: lanes32(0x80008000, 0, 0, 0) } }); // pmaddwd
  assert.equal(getLanes32(c, 0)[0], 0x80000000);
  c = sse([0x66, 0x0f, 0xf6, 0xc1], { xmm: { 0: lanes32(0x00ff00ff, 0, 0, 5), 1: lanes32(0xff00ff00, 0, 0, 0) } }); // psadbw
  assert.deepEqual(getLanes32(c, 0), [0x3fc, 0, 5, 0]);
  c = sse([0x66, 0x0f, 0x67, 0xc1], { xmm: { 0: lanes32(0x7fff8000, 0x00ff0100, 0, 0), 1: lanes32(0, 0, 0, 0) } }); // packuswb
  assert.deepEqual(getLanes32(c, 0), [0xffffff00, 0, 0, 0], 'words 0x8000->0, 0x7fff->0xff, 0x0100->0xff, 0x00ff->0xff');
  c = sse([0x66, 0x0f, 0x71, 0xe0, 0x20], { xmm: { 0: lanes32(0x80007fff, 0, 0, 0) } }); // psraw xmm0, 32
  assert.equal(getLanes32(c, 0)[0], 0xffff0000);
  c = sse([0x66, 0x0f, 0x73, 0xd8, 0x03], { xmm: { 0: X } }); // psrldq xmm0, 3
  assert.deepEqual(getLanes32(c, 0), [0x22222211, 0x33333322, 0x44444433, 0x44]);
});
