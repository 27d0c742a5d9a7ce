// Get/SetVpRegisters from the root: every register name against the CPU's own state, writes,
// and each HV_STATUS the rep-call rules give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partition } from '../../src/partition/partition';
import { HvRegisterName as R, HvStatus, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HvPartitionPrivilege, WhvMapGpaRangeFlags as F } from '../../src/partition/hvdef';
import { REGISTER_TABLE } from '../../src/partition/registers';
import { u64Value, u128Value } from '../../src/partition/registerValue';
import { Seg, type VirtualCpu } from '../../src/emulator/vcpu';
import type { Cpu } from '../../src/emulator/cpu';
import { longModePartition, setRegs, getReg, CODE, enterLongMode } from './harness';

/** A 16-byte value written field by field (little-endian), independently of the partition's encoders. */
function bytes(fields: [offset: number, size: 1 | 2 | 4 | 8, value: bigint | number][]): Uint8Array {
  const v = new DataView(new ArrayBuffer(16));
  for (const [o, s, x] of fields) {
    if (s === 8) v.setBigUint64(o, BigInt.asUintN(64, BigInt(x)), true);
    else if (s === 4) v.setUint32(o, Number(x) >>> 0, true);
    else if (s === 2) v.setUint16(o, Number(x), true);
    else v.setUint8(o, Number(x));
  }
  return new Uint8Array(v.buffer);
}

const SEGS: Record<number, () => (c: VirtualCpu) => { base: bigint; limit: number; selector: number; attributes: number }> = {
  [R.Es]: () => (c) => c.getSegment(Seg.ES), [R.Cs]: () => (c) => c.getSegment(Seg.CS), [R.Ss]: () => (c) => c.getSegment(Seg.SS),
  [R.Ds]: () => (c) => c.getSegment(Seg.DS), [R.Fs]: () => (c) => c.getSegment(Seg.FS), [R.Gs]: () => (c) => c.getSegment(Seg.GS),
  [R.Ldtr]: () => (c) => c.getLdtr(), [R.Tr]: () => (c) => c.getTr(),
};

/** The architectural MSR behind each MSR-backed HV register name (Intel SDM numbers). */
const MSR_OF: Record<number, number> = {
  [R.Tsc]: 0x10, [R.Efer]: 0xC0000080, [R.KernelGsBase]: 0xC0000102, [R.ApicBase]: 0x1B, [R.Pat]: 0x277, [R.SysenterCs]: 0x174,
  [R.SysenterEsp]: 0x175, [R.SysenterEip]: 0x176, [R.Star]: 0xC0000081, [R.Lstar]: 0xC0000082, [R.Cstar]: 0xC0000083, [R.Sfmask]: 0xC0000084,
  [R.MsrMtrrCap]: 0xFE, [R.MsrMtrrDefType]: 0x2FF, [R.MsrMtrrFix64k00000]: 0x250, [R.MsrMtrrFix16k80000]: 0x258, [R.MsrMtrrFix16kA0000]: 0x259,
  [R.TscAux]: 0xC0000103, [R.Bndcfgs]: 0xD90, [R.DebugCtl]: 0x1D9, [R.SpecCtrl]: 0x48, [R.PredCmd]: 0x49, [R.TscDeadline]: 0x6E0,
  [R.TscAdjust]: 0x3B, [R.Xss]: 0xDA0, [R.UCet]: 0x6A0, [R.SCet]: 0x6A2, [R.Ssp]: 0x7A0, [R.Pl0Ssp]: 0x6A4, [R.Pl1Ssp]: 0x6A5,
  [R.Pl2Ssp]: 0x6A6, [R.Pl3Ssp]: 0x6A7, [R.InterruptSspTableAddr]: 0x6A8, [R.UmwaitControl]: 0xE1, [R.Xfd]: 0x1C4, [R.XfdErr]: 0x1C5,
  [R.MsrIa32MiscEnable]: 0x1A0, [R.Ia32FeatureControl]: 0x3A,
};
for (let i = 0; i < 8; i++) MSR_OF[R.MsrMtrrFix4kC0000 + i] = 0x268 + i;
for (let i = 0; i < 16; i++) { MSR_OF[R.MsrMtrrPhysBase0 + i] = 0x200 + 2 * i; MSR_OF[R.MsrMtrrPhysMask0 + i] = 0x201 + 2 * i; }

/** What each register name must read as, straight from the CPU (undefined: the CPU lacks it). */
function expected(code: number, c: VirtualCpu, vpIndex: number): Uint8Array | undefined {
  if (code >= R.Rax && code <= R.R15) return bytes([[0, 8, c.getGpr(code - R.Rax)]]);
  if (code >= R.Xmm0 && code <= R.Xmm15) { const [lo, hi] = c.getXmm(code - R.Xmm0); return bytes([[0, 8, lo], [8, 8, hi]]); }
  if (SEGS[code]) { const s = SEGS[code]()(c); return bytes([[0, 8, s.base], [8, 4, s.limit], [12, 2, s.selector], [14, 2, s.attributes]]); }
  if (code >= R.FpMmx0 && code <= R.FpMmx7) { const b = new Uint8Array(16); b.set((c as Cpu).fpr.subarray((code - R.FpMmx0) * 16, (code - R.FpMmx0) * 16 + 10)); return b; }
  if (MSR_OF[code] !== undefined) { const v = c.getMsr(MSR_OF[code]); return v === undefined ? undefined : bytes([[0, 8, v]]); }
  const fp = c.getFpuControl();
  const table: Record<number, () => Uint8Array> = {
    [R.Rip]: () => bytes([[0, 8, c.getRip()]]), [R.Rflags]: () => bytes([[0, 8, c.getRflags()]]),
    [R.Idtr]: () => bytes([[6, 2, c.getIdtr().limit], [8, 8, c.getIdtr().base]]), [R.Gdtr]: () => bytes([[6, 2, c.getGdtr().limit], [8, 8, c.getGdtr().base]]),
    [R.Cr0]: () => bytes([[0, 8, c.getCr(0)]]), [R.Cr2]: () => bytes([[0, 8, c.getCr(2)]]), [R.Cr3]: () => bytes([[0, 8, c.getCr(3)]]),
    [R.Cr4]: () => bytes([[0, 8, c.getCr(4)]]), [R.Cr8]: () => bytes([[0, 8, c.getCr(8)]]), [R.Xfem]: () => bytes([[0, 8, c.getXcr0()]]),
    [R.Dr0]: () => bytes([[0, 8, c.getDr(0)]]), [R.Dr1]: () => bytes([[0, 8, c.getDr(1)]]), [R.Dr2]: () => bytes([[0, 8, c.getDr(2)]]),
    [R.Dr3]: () => bytes([[0, 8, c.getDr(3)]]), [R.Dr6]: () => bytes([[0, 8, c.getDr(6)]]), [R.Dr7]: () => bytes([[0, 8, c.getDr(7)]]),
    [R.FpControlStatus]: () => bytes([[0, 2, fp.fcw], [2, 2, fp.fsw], [4, 1, fp.ftw], [6, 2, fp.fop], [8, 8, fp.fip]]),
    [R.XmmControlStatus]: () => bytes([[0, 8, fp.fdp], [8, 4, c.getMxcsr()], [12, 4, 0xFFFF]]),
    [R.PendingInterruption]: () => { const e = c.getPendingEvent(); return bytes(e ? [[0, 4, 7 | (e.hasErrorCode ? 0x10 : 0) | (e.vector << 16)], [4, 4, e.errorCode]] : []); },
    [R.InterruptState]: () => bytes([[0, 8, c.getInterruptShadow() ? 1 : 0]]),
    [R.PendingEvent0]: () => { const e = c.getPendingEvent(); return bytes(e ? [[0, 4, 1 | (e.hasErrorCode ? 0x100 : 0) | (e.vector << 16)], [4, 4, e.errorCode], [8, 8, e.vector === 14 ? c.getCr(2) : 0n]] : []); },
    [R.DeliverabilityNotifications]: () => bytes([]),
    [R.VpIndex]: () => bytes([[0, 4, vpIndex]]), [R.InitialApicId]: () => bytes([[0, 4, vpIndex]]),
    [R.GuestOsId]: () => bytes([]), [R.Hypercall]: () => bytes([]),
  };
  const f = table[code];
  assert.ok(f, `test has no expectation for register 0x${code.toString(16)}`);
  return f();
}

/** A partition with 2 VPs whose VP 1 has a distinctive state set through the CPU itself. */
function distinctive(): Partition {
  const p = longModePartition([0xF4], { processorCount: 2 });
  const c = p.virtualProcessor(1).cpu;
  for (let i = 0; i < 16; i++) c.setGpr(i, 0x1111_2222_0000_0000n + BigInt(i));
  for (let i = 0; i < 16; i++) c.setXmm(i, BigInt(i) * 0x0101n, 0xFFFF_0000_0000_0000n | BigInt(i));
  c.setRip(0x7777_0000n);
  c.setDr(0, 0xAAAA_0000n);
  c.setCr(2, 0xDEAD_B000n);
  c.setMxcsr(0x1FA0);
  c.injectException(13, 0x18);
  c.setInterruptShadow(true);
  (c as Cpu).fpr.set([1, 2, 3, 4, 5, 6, 7, 0x80, 0xFF, 0x3F], 3 * 16);
  return p;
}

test('getVpRegisters: every register name in the table reads exactly the CPU state', () => {
  const p = distinctive();
  for (const vpIndex of [0, 1]) {
    const cpu = p.virtualProcessor(vpIndex).cpu;
    let compared = 0;
    for (const row of REGISTER_TABLE) {
      const want = expected(row.code, cpu, vpIndex);
      const r = p.getVpRegisters(p.id, vpIndex, 0, [row.code]);
      if (want === undefined) {
        assert.deepEqual([r.status, r.repsCompleted], [HvStatus.InvalidParameter, 0], `${row.name}: the CPU lacks it, so the name is invalid`);
        continue;
      }
      assert.equal(r.status, HvStatus.Success, row.name);
      assert.deepEqual(r.values[0], want, row.name);
      compared++;
    }
    assert.ok(compared >= 90, `compared ${compared} registers`);
  }
  // All names at once: one rep call, values in order.
  const all = REGISTER_TABLE.filter((r) => expected(r.code, p.virtualProcessor(1).cpu, 1) !== undefined).map((r) => r.code);
  const r = p.getVpRegisters(p.id, 1, 0, all);
  assert.equal(r.status, HvStatus.Success);
  assert.equal(r.repsCompleted, all.length);
  assert.deepEqual(r.values[all.indexOf(R.Rip)], bytes([[0, 8, 0x7777_0000n]]));
  assert.deepEqual(r.values[all.indexOf(R.PendingInterruption)], bytes([[0, 4, 0x000D_0017], [4, 4, 0x18]]));
  assert.deepEqual(r.values[all.indexOf(R.InterruptState)], bytes([[0, 1, 1]]));
  assert.deepEqual(r.values[all.indexOf(R.PendingEvent0)], bytes([[0, 4, 0x000D_0101], [4, 4, 0x18]]));
});

test('setVpRegisters: values reach the CPU (GPR, RIP, segment, table, CR, DR, MSR, XMM, FP/XMM control, interrupt state)', () => {
  const p = longModePartition([0xF4]);
  const c = p.virtualProcessor(0).cpu;
  setRegs(p, [
    [R.R13, u64Value(0xFEDC_BA98_7654_3210n)], [R.Rip, u64Value(0x12_3456)], [R.Rflags, u64Value(0x246)],
    [R.Fs, bytes([[0, 8, 0x7FFF_0000_1000n], [8, 4, 0xFFFFF], [12, 2, 0x10], [14, 2, 0x0093]])],
    [R.Idtr, bytes([[6, 2, 0x0FFF], [8, 8, 0xFFFF_8000_0000_2000n]])],
    [R.Cr2, u64Value(0x4000)], [R.Cr8, u64Value(5)], [R.Dr3, u64Value(0x9000)], [R.Dr7, u64Value(0x401)],
    [R.Lstar, u64Value(0xFFFF_8000_0000_1234n)], [R.Xmm7, u128Value(1n, 2n)],
    [R.FpControlStatus, bytes([[0, 2, 0x27F], [2, 2, 0x3800], [4, 1, 0x80], [6, 2, 0x1DD], [8, 8, 0x5555n]])],
    [R.XmmControlStatus, bytes([[0, 8, 0x6666n], [8, 4, 0x1F00], [12, 4, 0xFFFF]])],
    [R.InterruptState, u64Value(1)], [R.PendingInterruption, bytes([[0, 4, 0x000E_0017], [4, 4, 2]])],
    [R.GuestOsId, u64Value(0x8100_0000_0000_0001n)],
    [R.FpMmx5, bytes([[0, 8, 0x8000_0000_0000_0000n], [8, 2, 0x3FFF]])],
  ]);
  assert.deepEqual([...(c as Cpu).fpr.subarray(80, 90)], [0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F], 'ST(5) = 1.0');
  assert.equal(c.getGpr(13), 0xFEDC_BA98_7654_3210n);
  assert.equal(c.getRip(), 0x12_3456n);
  assert.equal(c.getRflags(), 0x246n);
  assert.deepEqual(c.getSegment(Seg.FS), { base: 0x7FFF_0000_1000n, limit: 0xFFFFF, selector: 0x10, attributes: 0x0093 });
  assert.deepEqual(c.getIdtr(), { base: 0xFFFF_8000_0000_2000n, limit: 0x0FFF });
  assert.deepEqual([c.getCr(2), c.getCr(8), c.getDr(3), c.getDr(7)], [0x4000n, 5n, 0x9000n, 0x401n]);
  assert.equal(c.getMsr(0xC0000082), 0xFFFF_8000_0000_1234n);
  assert.deepEqual(c.getXmm(7), [1n, 2n]);
  assert.deepEqual(c.getFpuControl(), { fcw: 0x27F, fsw: 0x3800, ftw: 0x80, fop: 0x1DD, fip: 0x5555n, fdp: 0x6666n });
  assert.equal(c.getMxcsr(), 0x1F00);
  assert.equal(c.getInterruptShadow(), true);
  assert.deepEqual(c.getPendingEvent(), { vector: 14, hasErrorCode: true, errorCode: 2 });
  // PendingEvent0 (exception form) replaces it and sets CR2 from ExceptionParameter for #PF.
  setRegs(p, [[R.PendingEvent0, bytes([[0, 4, 0x000E_0101], [4, 4, 6], [8, 8, 0xBAD0_0000n]])]]);
  assert.deepEqual(c.getPendingEvent(), { vector: 14, hasErrorCode: true, errorCode: 6 });
  assert.equal(c.getCr(2), 0xBAD0_0000n);
  assert.equal(getReg(p, R.GuestOsId), 0x8100_0000_0000_0001n);
});

test('HV_STATUS: invalid partition ID, invalid VP index, VTL byte', () => {
  const p = longModePartition([0xF4], { processorCount: 2 });
  for (const id of [42n, HV_PARTITION_ID_SELF, 0n]) {
    assert.deepEqual(p.getVpRegisters(id, 0, 0, [R.Rax]), { status: HvStatus.InvalidPartitionId, repsCompleted: 0, values: [] });
  }
  for (const vp of [2, HV_VP_INDEX_SELF, 0xFFFF_FFFF]) {
    assert.deepEqual(p.setVpRegisters(p.id, vp, 0, [R.Rax], [u64Value(1)]), { status: HvStatus.InvalidVpIndex, repsCompleted: 0, values: [] });
  }
  assert.equal(p.getVpRegisters(p.id, 1, 0x20, [R.Rax]).status, HvStatus.InvalidParameter, 'reserved bit 5 of HV_INPUT_VTL');
  assert.equal(p.getVpRegisters(p.id, 1, 0x11, [R.Rax]).status, HvStatus.InvalidParameter, 'VTL 1 does not exist');
  assert.equal(p.getVpRegisters(p.id, 1, 0x10, [R.Rax]).status, HvStatus.Success, 'explicit VTL 0');
});

test('HV_STATUS: an invalid name or value stops the rep call with the count completed before it', () => {
  const p = longModePartition([0xF4]);
  const r = p.getVpRegisters(p.id, 0, 0, [R.Rax, R.Rbx, 0x0012_3456, R.Rcx]);
  assert.equal(r.status, HvStatus.InvalidParameter);
  assert.equal(r.repsCompleted, 2);
  assert.equal(r.values.length, 2);
  // Elements before the failure are applied, the rest are not.
  const bad: [string, number, Uint8Array][] = [
    ['read-only VpIndex', R.VpIndex, u64Value(1)],
    ['unknown name', 0x7FFF_FFFF, u64Value(1)],
    ['RFLAGS without the fixed bit 1', R.Rflags, u64Value(0x200)],
    ['RFLAGS with reserved bit 3', R.Rflags, u64Value(0x20A)],
    ['a 64-bit register with bits above 63', R.Rax, u128Value(1n, 1n)],
    ['segment attribute bits 11:8', R.Ds, bytes([[12, 2, 0x10], [14, 2, 0x0193]])],
    ['G=1 with limit bits 11:0 not all ones', R.Ds, bytes([[8, 4, 0x1000], [12, 2, 0x10], [14, 2, 0x8093]])],
    ['table register padding', R.Gdtr, bytes([[0, 2, 1]])],
    ['DR7 bits 63:32', R.Dr7, u64Value(0x1_0000_0400n)],
    ['pending external interrupt (type 0)', R.PendingInterruption, bytes([[0, 4, 0x0020_0001]])],
    ['NmiMasked', R.InterruptState, u64Value(2)],
    ['PendingEvent0 of type ExtInt', R.PendingEvent0, bytes([[0, 4, 0x0020_000B]])],
    ['MXCSR reserved bits', R.XmmControlStatus, bytes([[8, 4, 0x10000]])],
    ['an 8-byte value', R.Rbx, new Uint8Array(8)],
    ['FP register reserved bytes 10-15', R.FpMmx0, bytes([[10, 1, 1]])],
    ['an MSR the CPU rejects (EFER reserved bit)', R.Efer, u64Value(0x500 | (1 << 20))],
  ];
  for (const [why, name, value] of bad) {
    setRegs(p, [[R.Rcx, u64Value(0)]]);
    const s = p.setVpRegisters(p.id, 0, 0, [R.Rcx, name, R.Rdx], [u64Value(0x77), value, u64Value(0x99)]);
    assert.deepEqual([s.status, s.repsCompleted], [HvStatus.InvalidParameter, 1], why);
    assert.equal(getReg(p, R.Rcx), 0x77n, `${why}: element 0 applied`);
    assert.notEqual(getReg(p, R.Rdx), 0x99n, `${why}: element 2 not applied`);
  }
  assert.throws(() => p.setVpRegisters(p.id, 0, 0, [R.Rax, R.Rbx], [u64Value(1)]), RangeError);
});

/** Runs one VMCALL (code at CODE) with the given input value and an input page at 0x30000. */
function guestCall(p: Partition, control: bigint, input: Uint8Array): bigint {
  assert.ok(p.memory.write(0x30000, input));
  setRegs(p, [[R.Rip, u64Value(CODE)], [R.Rcx, u64Value(control)], [R.Rdx, u64Value(0x30000)], [R.R8, u64Value(0x31000)]]);
  const exit = p.runVirtualProcessor(0, { instructionBudget: 100 });
  assert.equal(exit.VpContext.Rip, BigInt(CODE + 4), 'the VMCALL retired and HLT ran');
  return getReg(p, R.Rax);
}

function getInput(partitionId: bigint, vpIndex: number, names: number[]): Uint8Array {
  const v = new DataView(new ArrayBuffer(16 + 4 * names.length));
  v.setBigUint64(0, partitionId, true);
  v.setUint32(8, vpIndex, true);
  names.forEach((n, i) => v.setUint32(16 + 4 * i, n, true));
  return new Uint8Array(v.buffer);
}

test('from the guest: "self" needs AccessVpRegisters; other partitions are ACCESS_DENIED', () => {
  const p = longModePartition([0x0F, 0x01, 0xC1, 0xF4]); // vmcall; hlt
  const get = 0x1_0000_0050n;
  assert.equal(guestCall(p, get, getInput(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, [R.Rip])), 1n << 32n);
  const out = new Uint8Array(16);
  p.memory.read(0x31000, out);
  assert.deepEqual(out, bytes([[0, 8, CODE]]), 'RIP read during the call is the VMCALL');
  assert.equal(guestCall(p, get, getInput(p.id, 0, [R.Rip])), 1n << 32n, 'its own partition ID is "self" too');
  assert.equal(guestCall(p, get, getInput(99n, 0, [R.Rip])), BigInt(HvStatus.AccessDenied));
  p.setPrivileges(p.privileges & ~(1n << BigInt(HvPartitionPrivilege.AccessVpRegisters)));
  assert.equal(guestCall(p, get, getInput(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, [R.Rip])), BigInt(HvStatus.AccessDenied));
});

test('from the guest: unreadable input page gives a MemoryAccess exit at the VMCALL, which re-runs once mapped', () => {
  const p = longModePartition([0x0F, 0x01, 0xC1, 0xF4]);
  p.unmapGpaRange(0x30000, 0x2000);
  setRegs(p, [[R.Rcx, u64Value(0x1_0000_0050n)], [R.Rdx, u64Value(0x30000)], [R.R8, u64Value(0x31000)]]);
  const c = p.runVirtualProcessor(0, { instructionBudget: 100 });
  assert.equal(c.ExitReason, 1);
  assert.deepEqual({ ...c.MemoryAccess!.AccessInfo }, { AccessType: 0, GpaUnmapped: true, GvaValid: false, AsUINT32: 4 });
  assert.equal(c.MemoryAccess!.Gpa, 0x30000n);
  assert.equal(c.VpContext.Rip, BigInt(CODE));
  p.mapGpaRange(0x30000, 0x2000, F.Read | F.Write | F.Execute);
  assert.equal(guestCall(p, 0x1_0000_0050n, getInput(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, [R.Rip])), 1n << 32n);
});

test('from a 32-bit protected-mode guest: EDX:EAX input value, EBX:ECX / EDI:ESI GPAs, result in EDX:EAX', () => {
  const p = new Partition({ processorCount: 1, memoryBytes: 1 << 20 });
  p.memory.write(CODE, Uint8Array.from([0x0F, 0x01, 0xC1, 0xF4])); // vmcall; hlt
  p.memory.write(0x30000, getInput(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, [R.Rip, R.Cr0]));
  const flat32 = (selector: number, attributes: number) => bytes([[8, 4, 0xFFFFFFFF], [12, 2, selector], [14, 2, attributes]]);
  setRegs(p, [
    [R.Cr0, u64Value(0x11)], [R.Cs, flat32(0x08, 0xC09B)], [R.Ss, flat32(0x10, 0xC093)], [R.Ds, flat32(0x10, 0xC093)],
    [R.Rip, u64Value(CODE)], [R.Rflags, u64Value(2)],
    [R.Rdx, u64Value(2)], [R.Rax, u64Value(0x50)], [R.Rbx, u64Value(0)], [R.Rcx, u64Value(0x30000)], [R.Rdi, u64Value(0)], [R.Rsi, u64Value(0x31000)],
  ]);
  const c = p.runVirtualProcessor(0, { instructionBudget: 100 });
  assert.equal(c.ExitReason, 8);
  assert.equal(c.VpContext.ExecutionState.EferLma, false);
  assert.deepEqual([getReg(p, R.Rdx), getReg(p, R.Rax)], [2n, 0n], 'EDX = 2 reps completed, EAX = SUCCESS');
  const out = new Uint8Array(32);
  p.memory.read(0x31000, out);
  assert.deepEqual(out.subarray(0, 16), bytes([[0, 8, CODE]]));
  assert.deepEqual(out.subarray(16, 32), bytes([[0, 8, 0x11]]));
});

test('from the guest: VP 0 reads VP 1 of its own partition by index', () => {
  const p = longModePartition([0x0F, 0x01, 0xC1, 0xF4], { processorCount: 2 });
  setRegs(p, [[R.Rbx, u64Value(0xB1B1)]], 1);
  assert.equal(guestCall(p, 0x1_0000_0050n, getInput(HV_PARTITION_ID_SELF, 1, [R.Rbx])), 1n << 32n);
  const out = new Uint8Array(16);
  p.memory.read(0x31000, out);
  assert.deepEqual(out, bytes([[0, 8, 0xB1B1]]));
});

test('from the guest: random input values and parameter pages never crash and give a documented status', () => {
  const p = longModePartition([0x0F, 0x01, 0xC1, 0xF4]);
  let seed = 0x1234_5678;
  const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
  const r64 = () => (BigInt(rnd()) << 32n) | BigInt(rnd());
  const known = new Set<number>([HvStatus.Success, HvStatus.InvalidHypercallCode, HvStatus.InvalidHypercallInput, HvStatus.InvalidAlignment,
    HvStatus.InvalidParameter, HvStatus.AccessDenied, HvStatus.InvalidPartitionId, HvStatus.InvalidVpIndex]);
  for (let i = 0; i < 400; i++) {
    const page = new Uint8Array(4096).map(() => rnd() & 0xFF);
    if (i % 2) new DataView(page.buffer).setBigUint64(0, HV_PARTITION_ID_SELF, true);
    p.memory.write(0x30000, page);
    // Mostly Get/Set with random reps and flags, sometimes anything at all.
    const control = i % 4 === 0 ? r64() : (BigInt(0x50 + (rnd() & 1)) | (BigInt(rnd() & 0xF) << 32n) | (BigInt(rnd() & 3) << 48n) | (rnd() % 7 === 0 ? 1n << 16n : 0n));
    const input = i % 5 === 0 ? r64() : BigInt(0x30000 + (rnd() & 0xFF8));
    setRegs(p, [[R.Rip, u64Value(CODE)], [R.Rcx, u64Value(control)], [R.Rdx, u64Value(input)], [R.R8, u64Value(0x31000)], [R.Rsp, u64Value(0x80000)]]);
    const c = p.runVirtualProcessor(0, { instructionBudget: 10 });
    if (c.ExitReason === 1) continue; // a parameter GPA outside RAM: memory intercept, as the TLFS says
    const status = Number(getReg(p, R.Rax) & 0xFFFFn);
    assert.ok(known.has(status), `status 0x${status.toString(16)} for control 0x${control.toString(16)}`);
    enterLongModeAgain(p);
  }
});

/** A random SetVpRegisters may have changed the VP's own mode; put it back in 64-bit mode. */
function enterLongModeAgain(p: Partition): void {
  p.virtualProcessor(0).cpu.reset();
  enterLongMode(p, CODE);
}
