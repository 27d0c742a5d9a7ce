// The HV_REGISTER_NAME table: one row per register this partition exposes through
// Get/SetVpRegisters (from the root and from the guest's hypercalls), saying how to read it
// from the VP and how to write it. A name without a row is unknown (HV_STATUS_INVALID_PARAMETER).
import { HvRegisterName as R, HvX64Msr } from './hvdef';
import {
  type HvRegisterValue, u64Value, u128Value, valueU64, valueHigh64, segmentValue, valueSegment, tableValue, valueTable,
  fpControlStatusValue, valueFpControlStatus, xmmControlStatusValue, valueXmmControlStatus, pendingInterruption, pendingInterruptionBits,
} from './registerValue';
import { Seg, type VirtualCpu } from '../emulator/vcpu';
import { Cpu } from '../emulator/cpu';

/** What a register row needs from a VP: its CPU and the hypervisor-level state around it. */
export interface RegisterTarget {
  readonly cpu: VirtualCpu;
  readonly index: number;
  /** Synthetic MSR state kept by the partition (GUEST_OS_ID, HYPERCALL). undefined: not implemented. */
  readSyntheticMsr(msr: number): bigint | undefined;
  /** false: illegal value. Side effects (mapping the hypercall page) happen as for WRMSR. */
  writeSyntheticMsr(msr: number, value: bigint): boolean;
  deliverabilityNotifications: bigint;
}

export type RegisterGroup = 'general' | 'segment' | 'table' | 'control' | 'debug' | 'msr' | 'simd' | 'fp' | 'interrupt' | 'synthetic';

export interface RegisterRow {
  readonly code: number;
  /** TLFS name, e.g. HvX64RegisterRax. */
  readonly name: string;
  readonly group: RegisterGroup;
  /** undefined: this VP does not implement the register (the CPU lacks the MSR). */
  read(t: RegisterTarget): HvRegisterValue | undefined;
  /** Absent: read-only. Returns false for an illegal value (reserved bits, fixed bits, rejected by the CPU). */
  readonly write?: (t: RegisterTarget, v: HvRegisterValue) => boolean;
}

/** Runs a CPU setter; the CPU signals illegal values by throwing RangeError. */
function attempt(f: () => void): boolean {
  try { f(); return true; } catch (e) { if (e instanceof RangeError) return false; throw e; }
}

const high64Zero = (v: HvRegisterValue) => valueHigh64(v) === 0n;

const rows: RegisterRow[] = [];
function add(code: number, prefix: 'HvX64Register' | 'HvRegister', group: RegisterGroup, read: RegisterRow['read'], write?: RegisterRow['write']): void {
  rows.push({ code, name: prefix + R[code], group, read, write });
}

/** A 64-bit register: the value's upper 64 bits must be zero. */
function add64(code: number, prefix: 'HvX64Register' | 'HvRegister', group: RegisterGroup, get: (t: RegisterTarget) => bigint | undefined, set?: (t: RegisterTarget, v: bigint) => boolean): void {
  add(code, prefix, group, (t) => { const x = get(t); return x === undefined ? undefined : u64Value(x); },
    set && ((t, v) => high64Zero(v) && set(t, valueU64(v))));
}

// General-purpose registers, HV order = x86 encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15).
for (let i = 0; i < 16; i++) {
  add64(R.Rax + i, 'HvX64Register', 'general', (t) => t.cpu.getGpr(i), (t, v) => { t.cpu.setGpr(i, v); return true; });
}
add64(R.Rip, 'HvX64Register', 'general', (t) => t.cpu.getRip(), (t, v) => attempt(() => t.cpu.setRip(v)));
// RFLAGS: bit 1 is fixed 1; bits 3, 5, 15 and 63:22 are fixed 0.
const RFLAGS_FIXED0 = ~0x3F7FD7n & 0xFFFF_FFFF_FFFF_FFFFn;
add64(R.Rflags, 'HvX64Register', 'general', (t) => t.cpu.getRflags(),
  (t, v) => (v & 2n) !== 0n && (v & RFLAGS_FIXED0) === 0n && attempt(() => t.cpu.setRflags(v)));

// Segment registers: HV_X64_SEGMENT_REGISTER; attribute bits 11:8 are reserved, and G = 1 needs limit bits 11:0 all ones.
function segmentOk(v: HvRegisterValue): boolean {
  const s = valueSegment(v);
  return (s.attributes & 0x0F00) === 0 && ((s.attributes & 0x8000) === 0 || (s.limit & 0xFFF) === 0xFFF);
}
const SEGMENTS: [number, Seg][] = [[R.Es, Seg.ES], [R.Cs, Seg.CS], [R.Ss, Seg.SS], [R.Ds, Seg.DS], [R.Fs, Seg.FS], [R.Gs, Seg.GS]];
for (const [code, seg] of SEGMENTS) {
  add(code, 'HvX64Register', 'segment', (t) => segmentValue(t.cpu.getSegment(seg)),
    (t, v) => segmentOk(v) && attempt(() => t.cpu.setSegment(seg, valueSegment(v))));
}
add(R.Ldtr, 'HvX64Register', 'segment', (t) => segmentValue(t.cpu.getLdtr()), (t, v) => segmentOk(v) && attempt(() => t.cpu.setLdtr(valueSegment(v))));
add(R.Tr, 'HvX64Register', 'segment', (t) => segmentValue(t.cpu.getTr()), (t, v) => segmentOk(v) && attempt(() => t.cpu.setTr(valueSegment(v))));

// Table registers: Pad[3] is reserved (must be zero).
const tablePadZero = (v: HvRegisterValue) => v[0] === 0 && v[1] === 0 && v[2] === 0 && v[3] === 0 && v[4] === 0 && v[5] === 0;
add(R.Idtr, 'HvX64Register', 'table', (t) => tableValue(t.cpu.getIdtr()), (t, v) => tablePadZero(v) && attempt(() => t.cpu.setIdtr(valueTable(v))));
add(R.Gdtr, 'HvX64Register', 'table', (t) => tableValue(t.cpu.getGdtr()), (t, v) => tablePadZero(v) && attempt(() => t.cpu.setGdtr(valueTable(v))));

// Control registers.
const CRS: [number, 0 | 2 | 3 | 4 | 8][] = [[R.Cr0, 0], [R.Cr2, 2], [R.Cr3, 3], [R.Cr4, 4], [R.Cr8, 8]];
for (const [code, n] of CRS) {
  add64(code, 'HvX64Register', 'control', (t) => t.cpu.getCr(n), (t, v) => attempt(() => t.cpu.setCr(n, v)));
}
add64(R.Xfem, 'HvX64Register', 'control', (t) => t.cpu.getXcr0(), (t, v) => attempt(() => t.cpu.setXcr0(v)));

// Debug registers. DR6/DR7 bits 63:32 are reserved (must be zero).
const DRS: [number, number][] = [[R.Dr0, 0], [R.Dr1, 1], [R.Dr2, 2], [R.Dr3, 3], [R.Dr6, 6], [R.Dr7, 7]];
for (const [code, n] of DRS) {
  add64(code, 'HvX64Register', 'debug', (t) => t.cpu.getDr(n),
    (t, v) => (n < 6 || v >> 32n === 0n) && attempt(() => t.cpu.setDr(n, v)));
}

// MSR-backed registers: the CPU implements the architectural MSR (getMsr undefined: not on this VP).
const MSR_REGISTERS: [number, number][] = [
  [R.Tsc, 0x10], [R.Efer, 0xC0000080], [R.KernelGsBase, 0xC0000102], [R.ApicBase, 0x1B], [R.Pat, 0x277],
  [R.SysenterCs, 0x174], [R.SysenterEsp, 0x175], [R.SysenterEip, 0x176], [R.Star, 0xC0000081], [R.Lstar, 0xC0000082],
  [R.Cstar, 0xC0000083], [R.Sfmask, 0xC0000084], [R.MsrMtrrCap, 0xFE], [R.MsrMtrrDefType, 0x2FF],
  [R.MsrMtrrFix64k00000, 0x250], [R.MsrMtrrFix16k80000, 0x258], [R.MsrMtrrFix16kA0000, 0x259],
  [R.TscAux, 0xC0000103], [R.Bndcfgs, 0xD90], [R.DebugCtl, 0x1D9], [R.SpecCtrl, 0x48], [R.PredCmd, 0x49],
  [R.TscDeadline, 0x6E0], [R.TscAdjust, 0x3B], [R.Xss, 0xDA0], [R.UCet, 0x6A0], [R.SCet, 0x6A2], [R.Ssp, 0x7A0],
  [R.Pl0Ssp, 0x6A4], [R.Pl1Ssp, 0x6A5], [R.Pl2Ssp, 0x6A6], [R.Pl3Ssp, 0x6A7], [R.InterruptSspTableAddr, 0x6A8],
  [R.UmwaitControl, 0xE1], [R.Xfd, 0x1C4], [R.XfdErr, 0x1C5], [R.MsrIa32MiscEnable, 0x1A0], [R.Ia32FeatureControl, 0x3A],
];
for (let i = 0; i < 8; i++) MSR_REGISTERS.push([R.MsrMtrrFix4kC0000 + i, 0x268 + i]);
for (let i = 0; i < 16; i++) MSR_REGISTERS.push([R.MsrMtrrPhysBase0 + i, 0x200 + 2 * i], [R.MsrMtrrPhysMask0 + i, 0x201 + 2 * i]);
for (const [code, msr] of MSR_REGISTERS) {
  add64(code, 'HvX64Register', 'msr', (t) => t.cpu.getMsr(msr), (t, v) => t.cpu.setMsr(msr, v));
}
add64(R.InitialApicId, 'HvX64Register', 'msr', (t) => BigInt(t.index));

// SSE and x87 state.
for (let i = 0; i < 16; i++) {
  add(R.Xmm0 + i, 'HvX64Register', 'simd', (t) => { const [lo, hi] = t.cpu.getXmm(i); return u128Value(lo, hi); },
    (t, v) => { t.cpu.setXmm(i, valueU64(v), valueHigh64(v)); return true; });
}
// x87/MMX data registers: HV_X64_FP_REGISTER is the 10-byte FXSAVE slot (mantissa, sign/exponent)
// plus 6 reserved bytes; FpMmx<i> is slot i, i.e. ST(i) in stack order as FXSAVE stores it. The
// VirtualCpu contract has no accessor for them, so they are served when the VP runs the emulator's Cpu.
const FP_SLOT = 16, FP_BYTES = 10;
for (let i = 0; i < 8; i++) {
  add(R.FpMmx0 + i, 'HvX64Register', 'fp',
    (t) => (t.cpu instanceof Cpu ? padValue(t.cpu.fpr.subarray(i * FP_SLOT, i * FP_SLOT + FP_BYTES)) : undefined),
    (t, v) => {
      if (!(t.cpu instanceof Cpu) || v.subarray(FP_BYTES).some((b) => b !== 0)) return false;
      t.cpu.fpr.set(v.subarray(0, FP_BYTES), i * FP_SLOT);
      return true;
    });
}

function padValue(bytes: Uint8Array): HvRegisterValue {
  const b = new Uint8Array(16);
  b.set(bytes);
  return b;
}

/** MXCSR_MASK reported in XmmControlStatus: every MXCSR bit including DAZ is supported. */
export const MXCSR_MASK = 0xFFFF;
add(R.FpControlStatus, 'HvX64Register', 'fp', (t) => fpControlStatusValue(t.cpu.getFpuControl()),
  (t, v) => {
    const f = valueFpControlStatus(v);
    if (f.reserved !== 0) return false;
    const old = t.cpu.getFpuControl();
    return attempt(() => t.cpu.setFpuControl({ ...old, fcw: f.fcw, fsw: f.fsw, ftw: f.ftw, fop: f.fop, fip: f.fip }));
  });
add(R.XmmControlStatus, 'HvX64Register', 'fp', (t) => xmmControlStatusValue(t.cpu.getFpuControl().fdp, t.cpu.getMxcsr(), MXCSR_MASK),
  (t, v) => {
    const x = valueXmmControlStatus(v);
    if ((x.mxcsr & ~MXCSR_MASK) !== 0) return false;
    const old = t.cpu.getFpuControl();
    return attempt(() => { t.cpu.setMxcsr(x.mxcsr); t.cpu.setFpuControl({ ...old, fdp: x.fdp }); });
  });

// Interrupt state. Only hardware exceptions (InterruptionType 3) can be made pending: the CPU
// contract has no external-interrupt or NMI injection.
const HARDWARE_EXCEPTION = 3;
add64(R.PendingInterruption, 'HvRegister', 'interrupt', (t) => {
  const e = t.cpu.getPendingEvent();
  if (!e) return 0n;
  return pendingInterruptionBits({
    InterruptionPending: true, InterruptionType: HARDWARE_EXCEPTION, DeliverErrorCode: e.hasErrorCode,
    InstructionLength: 0, NestedEvent: false, InterruptionVector: e.vector, ErrorCode: e.hasErrorCode ? e.errorCode : 0,
  });
}, (t, bits) => {
  const p = pendingInterruption(bits);
  if (!p.InterruptionPending) { t.cpu.clearPendingException(); return true; }
  if (p.reservedBits !== 0 || p.InterruptionType !== HARDWARE_EXCEPTION || p.InterruptionVector > 31 || p.NestedEvent) return false;
  t.cpu.clearPendingException();
  return attempt(() => t.cpu.injectException(p.InterruptionVector, p.DeliverErrorCode ? p.ErrorCode : undefined));
});
// PendingEvent0 in its exception form (HV_X64_PENDING_EXCEPTION_EVENT, 128-bit): bit 0 EventPending,
// 3:1 EventType (0 = exception, the only type the CPU contract can inject), bit 8 DeliverErrorCode,
// 31:16 Vector, 63:32 ErrorCode, 127:64 ExceptionParameter (CR2 for #PF, as in the exception intercept).
add(R.PendingEvent0, 'HvRegister', 'interrupt', (t) => {
  const e = t.cpu.getPendingEvent();
  if (!e) return u128Value(0n, 0n);
  const low = 1n | (e.hasErrorCode ? 0x100n : 0n) | (BigInt(e.vector) << 16n) | (BigInt(e.hasErrorCode ? e.errorCode >>> 0 : 0) << 32n);
  return u128Value(low, e.vector === 14 ? t.cpu.getCr(2) : 0n);
}, (t, v) => {
  const low = valueU64(v);
  if ((low & 1n) === 0n) { t.cpu.clearPendingException(); return true; }
  const vector = Number((low >> 16n) & 0xFFFFn);
  // EventType must be 0 (exception); bits 7:4 and 15:9 are reserved.
  if ((low & 0xFEFEn) !== 0n || vector > 31) return false;
  t.cpu.clearPendingException();
  return attempt(() => {
    if (vector === 14) t.cpu.setCr(2, valueHigh64(v));
    t.cpu.injectException(vector, (low & 0x100n) !== 0n ? Number(low >> 32n) : undefined);
  });
});

// HV_X64_INTERRUPT_STATE_REGISTER: bit 0 InterruptShadow, bit 1 NmiMasked (NMIs are not modelled: must be 0).
add64(R.InterruptState, 'HvRegister', 'interrupt', (t) => (t.cpu.getInterruptShadow() ? 1n : 0n),
  (t, v) => { if ((v & ~1n) !== 0n) return false; t.cpu.setInterruptShadow(v === 1n); return true; });
// DeliverabilityNotifications: only InterruptNotification (bit 1) is modelled; it asks for one X64InterruptWindow exit.
add64(R.DeliverabilityNotifications, 'HvRegister', 'interrupt', (t) => t.deliverabilityNotifications,
  (t, v) => { if ((v & ~2n) !== 0n) return false; t.deliverabilityNotifications = v; t.cpu.setInterruptWindowExiting(v !== 0n); return true; });

// Hypervisor-defined registers.
add64(R.VpIndex, 'HvRegister', 'synthetic', (t) => BigInt(t.index));
add64(R.GuestOsId, 'HvRegister', 'synthetic', (t) => t.readSyntheticMsr(HvX64Msr.GuestOsId), (t, v) => t.writeSyntheticMsr(HvX64Msr.GuestOsId, v));
add64(R.Hypercall, 'HvX64Register', 'synthetic', (t) => t.readSyntheticMsr(HvX64Msr.Hypercall), (t, v) => t.writeSyntheticMsr(HvX64Msr.Hypercall, v));

/** Every register row, in display order. */
export const REGISTER_TABLE: readonly RegisterRow[] = rows;
const byCode = new Map(rows.map((r) => [r.code, r]));

export function registerRow(code: number): RegisterRow | undefined { return byCode.get(code >>> 0); }

