// The x87 control subset (SDM vol. 2 FNINIT/FNCLEX/FNSTCW/FLDCW/FNSTSW/FWAIT): register effects,
// #NM for CR0.EM/CR0.TS, #MF for a pending unmasked exception before FLDCW/FWAIT, and #UD for
// the x87 instructions that are not modelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sse, sseCpu, run, readData } from './sseKit';

const FNINIT = [0xdb, 0xe3], FNSTCW = [0xd9, 0x3e], FLDCW = [0xd9, 0x2e], FNSTSW_M = [0xdd, 0x3e], FNSTSW_AX = [0xdf, 0xe0], FNCLEX = [0xdb, 0xe2];
const NM = 7, UD = 6, MF = 16;
const word = (v: number): Uint8Array => Uint8Array.of(v & 0xff, v >> 8);
const ctl = { fcw: 0x7f, fsw: 0x38a5, ftw: 0xff, fop: 0x123, fip: 0x401000n, fdp: 0x602000n };

test('FNINIT sets FCW=037F, clears FSW, tags all empty and the last-instruction pointers', () => {
  const c = sseCpu([...FNINIT, ...FNSTCW]);
  c.setFpuControl(ctl);
  assert.equal(run(c), -1);
  assert.deepEqual(c.getFpuControl(), { fcw: 0x37f, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n });
  assert.deepEqual([...readData(c, 0, 2)], [0x7f, 0x03]);
  const w = sse([0x9b, ...FNINIT]); // FINIT = FWAIT + FNINIT
  assert.equal(w.getFpuControl().fcw, 0x37f);
});

test('FLDCW loads the control word (reserved bits as the hardware keeps them); FNSTCW stores it', () => {
  const c = sse([...FLDCW, 0xd9, 0x7e, 0x02], { data: word(0xffff) }); // fldcw [rsi]; fnstcw [rsi+2]
  assert.equal(c.getFpuControl().fcw, 0x1f7f);
  assert.deepEqual([...readData(c, 2, 2)], [0x7f, 0x1f]);
});

test('FNSTSW AX and FNSTSW m16 store the status word; FNCLEX clears exception, stack-fault, ES and B bits only', () => {
  const c = sseCpu([...FNSTSW_AX, ...FNSTSW_M, ...FNCLEX], { gpr: { 0: 0xdead0000n } });
  c.setFpuControl({ ...ctl, fsw: 0xb8ff });
  assert.equal(run(c), -1);
  assert.equal(c.getGpr(0), 0xdeadb8ffn);
  assert.deepEqual([...readData(c, 0, 2)], [0xff, 0xb8]);
  assert.equal(c.getFpuControl().fsw, 0x3800);
});

test('FLDCW that unmasks a flagged exception makes it pending (ES, B); the next FLDCW takes #MF when CR0.NE', () => {
  const c = sseCpu([...FLDCW, ...FLDCW], { data: word(0x37e), cr0: 0x80010031n });
  c.setFpuControl({ ...ctl, fcw: 0x37f, fsw: 0x0001 });
  assert.equal(run(c), MF);
  assert.equal(c.getFpuControl().fsw, 0x8081);
  assert.equal(c.getFpuControl().fcw, 0x37e);
});

test('FWAIT delivers a pending unmasked exception as #MF when CR0.NE; FNINIT (no-wait) does not', () => {
  let c = sseCpu([0x9b], { cr0: 0x80010031n });
  c.setFpuControl({ ...ctl, fcw: 0x37e, fsw: 0x8081 });
  assert.equal(run(c), MF);
  c = sseCpu([...FNINIT, 0x9b], { cr0: 0x80010031n });
  c.setFpuControl({ ...ctl, fcw: 0x37e, fsw: 0x8081 });
  assert.equal(run(c), -1);
});

test('x87 instructions take #NM with CR0.EM or CR0.TS', () => {
  assert.equal(run(sseCpu(FNINIT, { cr0: 0x80010015n })), NM);
  assert.equal(run(sseCpu(FNSTSW_AX, { cr0: 0x80010019n })), NM);
});

test('x87 data and arithmetic instructions are not modelled: #UD', () => {
  for (const code of [[0xd9, 0x06], [0xdd, 0x1e], [0xde, 0xc1], [0xd9, 0xe8], [0xdb, 0x2e], [0xdf, 0x2e], [0xd9, 0xfa]]) {
    assert.equal(run(sseCpu(code)), UD, code.map((b) => b.toString(16)).join(' '));
  }
});
