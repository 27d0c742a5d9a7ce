// FNSTENV/FLDENV/FNSAVE/FRSTOR: byte layouts as an x86-64 host stores them (state after
// FNINIT; FLD1; FLDZ, dumped on the host: 7f03ffff 0030ffff ff1fffff ...), the full tag word
// derived from register contents, FLDENV's ES/B summary, FNSAVE's reinitialisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sseCpu, run, readData } from './sseKit';
import type { Cpu } from '../../src/emulator/cpu';

const FNSTENV = [0xd9, 0x36], FLDENV = [0xd9, 0x26], FNSAVE = [0xdd, 0x36], FRSTOR = [0xdd, 0x26];
const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** FNINIT; FLD1; FLDZ: TOP = 6, ST0 = +0 (tag zero), ST1 = 1.0 (tag valid), registers 6 and 7 in use. */
function afterFld1Fldz(c: Cpu): void {
  c.setFpuControl({ fcw: 0x37f, fsw: 0x3000, ftw: 0xc0, fop: 0, fip: 0n, fdp: 0n });
  c.fpr.fill(0);
  c.fpr.set([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], 16);
}

test('FNSTENV (32-bit format) matches the host bytes: reserved halves FFFF, full tag 1FFF', () => {
  const c = sseCpu(FNSTENV);
  afterFld1Fldz(c);
  assert.equal(run(c), -1);
  assert.equal(hex(readData(c, 0, 28)), '7f03ffff' + '0030ffff' + 'ff1fffff' + '00000000' + '00000000' + '00000000' + '0000ffff');
});

test('FNSTENV with a 66 prefix stores the 14-byte format; FNSTENV masks all exceptions afterwards', () => {
  const c = sseCpu([0x66, ...FNSTENV]);
  c.setFpuControl({ fcw: 0x360, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n });
  assert.equal(run(c), -1);
  assert.equal(hex(readData(c, 0, 14)), '6003' + '0000' + 'ffff' + '0000' + '0000' + '0000' + '0000');
  assert.equal(c.getFpuControl().fcw, 0x37f);
});

test('FLDENV loads control, status (with ES/B recomputed) and tags, and the pointers', () => {
  const env = new Uint8Array(28);
  const dv = new DataView(env.buffer);
  dv.setUint32(0, 0xffff037e, true); dv.setUint32(4, 0xffff3801, true); dv.setUint32(8, 0xffff3fff, true);
  dv.setUint32(12, 0x401000, true); dv.setUint32(16, 0x05d90033, true); dv.setUint32(20, 0x602000, true); dv.setUint32(24, 0xffff002b, true);
  const c = sseCpu(FLDENV, { data: env });
  assert.equal(run(c), -1);
  assert.deepEqual(c.getFpuControl(), { fcw: 0x37e, fsw: 0xb881, ftw: 0x80, fop: 0x5d9, fip: 0x33_00401000n, fdp: 0x2b_00602000n });
});

test('FNSAVE stores the environment and ST0-7, then reinitialises; FRSTOR brings it all back', () => {
  const c = sseCpu([...FNSAVE, ...FRSTOR]);
  afterFld1Fldz(c);
  const c2 = sseCpu(FNSAVE);
  afterFld1Fldz(c2);
  assert.equal(run(c2), -1);
  const img = readData(c2, 0, 108);
  assert.equal(hex(img.subarray(0, 12)), '7f03ffff0030ffffff1fffff');
  assert.equal(hex(img.subarray(28, 48)), '00'.repeat(10) + '00'.repeat(7) + '80ff3f', 'ST0 = +0, ST1 = 1.0');
  assert.deepEqual(c2.getFpuControl(), { fcw: 0x37f, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n });
  assert.equal(run(c), -1);
  assert.deepEqual(c.getFpuControl(), { fcw: 0x37f, fsw: 0x3000, ftw: 0xc0, fop: 0, fip: 0n, fdp: 0n });
  assert.deepEqual([...c.fpr.subarray(16, 26)], [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
});

test('environment instructions in real mode are not modelled: #UD', () => {
  const c = sseCpu(FNSTENV);
  c.reset();
  c.setCr(4, 0x200n);
  c.setIdtr({ base: 0n, limit: 0x3ff });
  c.mem.write(0xff0, Uint8Array.of(0xd9, 0x36, 0x00, 0x00, 0xf4)); // fnstenv [0]; hlt  (at CS:IP = 0:0ff0)
  c.setSegment(1, { base: 0n, limit: 0xffff, selector: 0, attributes: 0x9b });
  c.setRip(0xff0n);
  c.mem.write(6 * 4, Uint8Array.of(0x00, 0x20, 0x00, 0x00)); // IVT[6] = 0000:2000
  c.mem.write(0x2000, Uint8Array.of(0xf4));
  c.run(10);
  assert.equal(c.getRip(), 0x2001n, 'took #UD through IVT[6]');
});
