// FXSAVE/FXRSTOR image layout (SDM vol. 1 tables 10-2/10-3, legacy and REX.W forms, 64-bit vs
// 32-bit XMM count), round trip, and the LDMXCSR/STMXCSR/FXRSTOR MXCSR reserved-bit checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sse, sseCpu, run, readData, DATA, LEA_DATA } from './sseKit';
import { makeCpu, runToExit } from './cpuKit';
import type { Cpu } from '../../src/emulator/cpu';

const FXSAVE = [0x0f, 0xae, 0x06], FXSAVE64 = [0x48, 0x0f, 0xae, 0x06], FXRSTOR64 = [0x48, 0x0f, 0xae, 0x0e];
const GP = 13, NM = 7, UD = 6;
const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function loadState(c: Cpu): void {
  c.setFpuControl({ fcw: 0x027f, fsw: 0x3821, ftw: 0x81, fop: 0x5d9, fip: 0x0000123456789abcn, fdp: 0x00000000fedcba98n });
  c.setMxcsr(0x9fe1);
  for (let i = 0; i < 16; i++) c.setXmm(i, BigInt(0x1000 + i) << 32n | 0x1111n, BigInt(i));
  for (let i = 0; i < 8; i++) for (let b = 0; b < 10; b++) c.fpr[16 * i + b] = i * 16 + b;
}

test('FXSAVE64 writes the 64-bit image: control words, 64-bit FIP/FDP, MXCSR and mask, ST0-7, XMM0-15', () => {
  const c = sseCpu(FXSAVE64, { data: new Uint8Array(512).fill(0xcc) });
  loadState(c);
  assert.equal(run(c), -1);
  const img = readData(c, 0, 512), v = dv(img);
  assert.equal(v.getUint16(0, true), 0x027f);
  assert.equal(v.getUint16(2, true), 0x3821);
  assert.equal(img[4], 0x81);
  assert.equal(img[5], 0);
  assert.equal(v.getUint16(6, true), 0x5d9);
  assert.equal(v.getBigUint64(8, true), 0x0000123456789abcn);
  assert.equal(v.getBigUint64(16, true), 0x00000000fedcba98n);
  assert.equal(v.getUint32(24, true), 0x9fe1);
  assert.equal(v.getUint32(28, true), 0xffff, 'MXCSR_MASK: DAZ supported, bits 31:16 reserved');
  for (let i = 0; i < 8; i++) {
    assert.deepEqual([...img.subarray(32 + 16 * i, 42 + 16 * i)], Array.from({ length: 10 }, (_, b) => i * 16 + b));
  }
  for (let i = 0; i < 16; i++) {
    assert.equal(v.getBigUint64(160 + 16 * i, true), BigInt(0x1000 + i) << 32n | 0x1111n);
    assert.equal(v.getBigUint64(168 + 16 * i, true), BigInt(i));
  }
  assert.ok(img.subarray(416).every((b) => b === 0xcc), 'bytes 416-511 are not written');
});

test('FXSAVE without REX.W stores FIP[31:0] with FCS and FDP[31:0] with FDS (legacy layout)', () => {
  const c = sseCpu(FXSAVE);
  loadState(c);
  run(c);
  const v = dv(readData(c, 0, 32));
  assert.equal(v.getUint32(8, true), 0x56789abc);
  assert.equal(v.getUint32(12, true), 0x1234, 'FCS = bits 47:32, upper half reserved (0)');
  assert.equal(v.getUint32(16, true), 0xfedcba98);
  assert.equal(v.getUint32(20, true), 0);
});

test('FXRSTOR64 restores everything FXSAVE64 saved', () => {
  const c = sseCpu([...FXSAVE64, 0x0f, 0x57, 0xc0, 0x45, 0x0f, 0x57, 0xff, 0xdb, 0xe3, ...FXRSTOR64]); // fxsave64; xorps xmm0; xorps xmm15; fninit; fxrstor64
  loadState(c);
  const fpr = Uint8Array.from(c.fpr);
  assert.equal(run(c), -1);
  assert.deepEqual(c.getFpuControl(), { fcw: 0x027f, fsw: 0x3821, ftw: 0x81, fop: 0x5d9, fip: 0x0000123456789abcn, fdp: 0x00000000fedcba98n });
  assert.equal(c.getMxcsr(), 0x9fe1);
  assert.deepEqual(c.getXmm(0), [0x0000100000001111n, 0n]);
  assert.deepEqual(c.getXmm(15), [0x0000100f00001111n, 15n]);
  assert.deepEqual(c.fpr, fpr);
});

test('FXSAVE/FXRSTOR: #GP on a misaligned operand, #NM with CR0.TS or CR0.EM (not #UD), #GP on reserved MXCSR bits', () => {
  assert.equal(run(sseCpu([0x0f, 0xae, 0x46, 0x08])), GP);
  assert.equal(run(sseCpu(FXSAVE, { cr0: 0x80010019n })), NM);
  assert.equal(run(sseCpu(FXSAVE, { cr0: 0x80010015n })), NM);
  const data = new Uint8Array(512);
  dv(data).setUint32(24, 0x10000, true);
  const c = sseCpu(FXRSTOR64, { data, mxcsr: 0x1f80 });
  assert.equal(run(c), GP);
  assert.equal(c.getMxcsr(), 0x1f80, 'state unchanged');
});

test('32-bit protected mode FXSAVE stores XMM0-7 only', () => {
  const c = makeCpu('prot32', [...LEA_DATA, ...FXSAVE, 0xf4]); // in 32-bit code 48 is DEC EAX, then MOV ESI, DATA
  c.setCr(4, 0x600n);
  c.mem.write(DATA, new Uint8Array(512).fill(0xcc));
  loadState(c);
  runToExit(c);
  const img = readData(c, 0, 512);
  assert.equal(dv(img).getBigUint64(160 + 16 * 7, true), 0x0000100700001111n);
  assert.ok(img.subarray(288).every((b) => b === 0xcc), 'XMM8-15 area untouched');
});

test('LDMXCSR/STMXCSR round trip; reserved bits #GP; #UD without CR4.OSFXSR', () => {
  const data = new Uint8Array(8);
  dv(data).setUint32(0, 0x7fbf, true);
  let c = sse([0x0f, 0xae, 0x16, 0x0f, 0xae, 0x5e, 0x04], { data }); // ldmxcsr [rsi]; stmxcsr [rsi+4]
  assert.equal(c.getMxcsr(), 0x7fbf);
  assert.equal(dv(readData(c, 0, 8)).getUint32(4, true), 0x7fbf);
  dv(data).setUint32(0, 0x11f80, true);
  c = sseCpu([0x0f, 0xae, 0x16], { data });
  assert.equal(run(c), GP);
  assert.equal(run(sseCpu([0x0f, 0xae, 0x16], { data, cr4: 0x20n })), UD);
});
