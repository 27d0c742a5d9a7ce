// HV_REGISTER_VALUE: 16 bytes, narrower values zero-extended. Helpers to build and read the
// value forms (Reg64/Reg128, segment, table, FP/XMM control-status, pending interruption).
import { LayoutView } from './binary';
import { HV_REGISTER_VALUE_SIZE } from './hvdef';
import { readSegment, readTable, writeSegment, writeTable, fromCpuSegment, toCpuSegment } from './segment';
import type { SegmentValue, TableValue } from '../emulator/vcpu';

export type HvRegisterValue = Uint8Array;

export function newRegisterValue(): HvRegisterValue { return new Uint8Array(HV_REGISTER_VALUE_SIZE); }

export function u64Value(v: bigint | number): HvRegisterValue {
  const b = newRegisterValue();
  new LayoutView(b).setU64(0, BigInt(v));
  return b;
}

export function u128Value(low: bigint, high: bigint): HvRegisterValue {
  const b = newRegisterValue();
  const v = new LayoutView(b);
  v.setU64(0, low);
  v.setU64(8, high);
  return b;
}

/** Low 64 bits (Reg64). */
export function valueU64(b: HvRegisterValue): bigint { return new LayoutView(b).u64(0); }
/** High 64 bits of Reg128. */
export function valueHigh64(b: HvRegisterValue): bigint { return new LayoutView(b).u64(8); }

export function segmentValue(s: SegmentValue): HvRegisterValue {
  const b = newRegisterValue();
  writeSegment(new LayoutView(b), 0, fromCpuSegment(s));
  return b;
}

export function valueSegment(b: HvRegisterValue): SegmentValue { return toCpuSegment(readSegment(new LayoutView(b), 0)); }

export function tableValue(t: TableValue): HvRegisterValue {
  const b = newRegisterValue();
  writeTable(new LayoutView(b), 0, t);
  return b;
}

export function valueTable(b: HvRegisterValue): TableValue { return readTable(new LayoutView(b), 0); }

/** x87 state as HV_X64_FP_CONTROL_STATUS_REGISTER and HV_X64_XMM_CONTROL_STATUS_REGISTER split it. */
export interface FpControlStatus { fcw: number; fsw: number; ftw: number; fop: number; fip: bigint }

/** FpControl(2) FpStatus(2) FpTag(1, abridged) Reserved(1) LastFpOp(2) LastFpRip(8). */
export function fpControlStatusValue(f: FpControlStatus): HvRegisterValue {
  const b = newRegisterValue();
  const v = new LayoutView(b);
  v.setU16(0, f.fcw);
  v.setU16(2, f.fsw);
  v.setU8(4, f.ftw);
  v.setU16(6, f.fop);
  v.setU64(8, f.fip);
  return b;
}

export function valueFpControlStatus(b: HvRegisterValue): FpControlStatus & { reserved: number } {
  const v = new LayoutView(b);
  return { fcw: v.u16(0), fsw: v.u16(2), ftw: v.u8(4), reserved: v.u8(5), fop: v.u16(6), fip: v.u64(8) };
}

/** LastFpRdp(8) XmmStatusControl = MXCSR (4) XmmStatusControlMask = MXCSR_MASK (4). */
export function xmmControlStatusValue(fdp: bigint, mxcsr: number, mxcsrMask: number): HvRegisterValue {
  const b = newRegisterValue();
  const v = new LayoutView(b);
  v.setU64(0, fdp);
  v.setU32(8, mxcsr);
  v.setU32(12, mxcsrMask);
  return b;
}

export function valueXmmControlStatus(b: HvRegisterValue): { fdp: bigint; mxcsr: number; mxcsrMask: number } {
  const v = new LayoutView(b);
  return { fdp: v.u64(0), mxcsr: v.u32(8), mxcsrMask: v.u32(12) };
}

/** HV_X64_PENDING_INTERRUPTION_REGISTER (8 bytes). */
export interface PendingInterruption {
  InterruptionPending: boolean;
  InterruptionType: number;
  DeliverErrorCode: boolean;
  InstructionLength: number;
  NestedEvent: boolean;
  InterruptionVector: number;
  ErrorCode: number;
}

export function pendingInterruptionBits(p: PendingInterruption): bigint {
  const low = (p.InterruptionPending ? 1 : 0) | ((p.InterruptionType & 7) << 1) | (p.DeliverErrorCode ? 0x10 : 0)
    | ((p.InstructionLength & 0xF) << 5) | (p.NestedEvent ? 0x200 : 0) | ((p.InterruptionVector & 0xFFFF) << 16);
  return (BigInt(p.ErrorCode >>> 0) << 32n) | BigInt(low >>> 0);
}

export function pendingInterruption(bits: bigint): PendingInterruption & { reservedBits: number } {
  const low = Number(bits & 0xFFFFFFFFn);
  return {
    InterruptionPending: (low & 1) !== 0, InterruptionType: (low >> 1) & 7, DeliverErrorCode: (low & 0x10) !== 0,
    InstructionLength: (low >> 5) & 0xF, NestedEvent: (low & 0x200) !== 0, InterruptionVector: low >>> 16,
    ErrorCode: Number(bits >> 32n), reservedBits: low & 0xFC00,
  };
}
