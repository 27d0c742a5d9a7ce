// WHV_RUN_VP_EXIT_CONTEXT (224 bytes) as a plain object with the WHP header's field names, and
// its encoder/decoder. Layout: ExitReason(4) Reserved(4) VpContext(40) union(176 at offset 48).
import { LayoutView } from './binary';
import { WhvRunVpExitReason, WHV_RUN_VP_EXIT_CONTEXT_SIZE } from './hvdef';
import { readSegment, writeSegment, type WhvSegmentRegister } from './segment';

/** WHV_X64_VP_EXECUTION_STATE (16 bits). */
export interface WhvExecutionState {
  Cpl: number;
  Cr0Pe: boolean;
  Cr0Am: boolean;
  EferLma: boolean;
  DebugActive: boolean;
  InterruptionPending: boolean;
  InterruptShadow: boolean;
  AsUINT16: number;
}

export function executionState(bits: number): WhvExecutionState {
  return {
    Cpl: bits & 3, Cr0Pe: (bits & 0x4) !== 0, Cr0Am: (bits & 0x8) !== 0, EferLma: (bits & 0x10) !== 0,
    DebugActive: (bits & 0x20) !== 0, InterruptionPending: (bits & 0x40) !== 0, InterruptShadow: (bits & 0x1000) !== 0,
    AsUINT16: bits & 0xFFFF,
  };
}

export function executionStateBits(s: WhvExecutionState): number {
  return (s.Cpl & 3) | (s.Cr0Pe ? 0x4 : 0) | (s.Cr0Am ? 0x8 : 0) | (s.EferLma ? 0x10 : 0)
    | (s.DebugActive ? 0x20 : 0) | (s.InterruptionPending ? 0x40 : 0) | (s.InterruptShadow ? 0x1000 : 0);
}

/** WHV_VP_EXIT_CONTEXT (40 bytes). */
export interface WhvVpExitContext {
  ExecutionState: WhvExecutionState;
  /** 4 bits. */
  InstructionLength: number;
  /** 4 bits (TPR priority class). */
  Cr8: number;
  Cs: WhvSegmentRegister;
  Rip: bigint;
  Rflags: bigint;
}

export interface WhvMemoryAccessContext {
  InstructionByteCount: number;
  /** 16 bytes; only the first InstructionByteCount are meaningful. */
  InstructionBytes: Uint8Array;
  AccessInfo: { AccessType: number; GpaUnmapped: boolean; GvaValid: boolean; AsUINT32: number };
  Gpa: bigint;
  Gva: bigint;
}

export interface WhvIoPortAccessContext {
  InstructionByteCount: number;
  InstructionBytes: Uint8Array;
  /** WHP layout: IsWrite bit 0, AccessSize 3:1 (bytes), StringOp bit 4, RepPrefix bit 5. */
  AccessInfo: { IsWrite: boolean; AccessSize: number; StringOp: boolean; RepPrefix: boolean; AsUINT32: number };
  PortNumber: number;
  Rax: bigint;
  Rcx: bigint;
  Rsi: bigint;
  Rdi: bigint;
  Ds: WhvSegmentRegister;
  Es: WhvSegmentRegister;
}

export interface WhvMsrAccessContext {
  AccessInfo: { IsWrite: boolean; AsUINT32: number };
  MsrNumber: number;
  Rax: bigint;
  Rdx: bigint;
}

export interface WhvCpuidAccessContext {
  Rax: bigint;
  Rcx: bigint;
  Rdx: bigint;
  Rbx: bigint;
  DefaultResultRax: bigint;
  DefaultResultRcx: bigint;
  DefaultResultRdx: bigint;
  DefaultResultRbx: bigint;
}

export interface WhvVpExceptionContext {
  InstructionByteCount: number;
  InstructionBytes: Uint8Array;
  ExceptionInfo: { ErrorCodeValid: boolean; SoftwareException: boolean; AsUINT32: number };
  ExceptionType: number;
  ErrorCode: number;
  ExceptionParameter: bigint;
}

export interface WhvInterruptionDeliverableContext { DeliverableType: number }
export interface WhvUnsupportedFeatureContext { FeatureCode: number; FeatureParameter: bigint }
export interface WhvCanceledContext { CancelReason: number }
export interface WhvApicEoiContext { InterruptVector: number }

export interface WhvRdtscContext {
  TscAux: bigint;
  VirtualOffset: bigint;
  Tsc: bigint;
  ReferenceTime: bigint;
  RdtscInfo: { IsRdtscp: boolean; AsUINT64: bigint };
}

export interface WhvUint128 { Low64: bigint; High64: bigint }

export interface WhvHypercallContext {
  Rax: bigint;
  Rbx: bigint;
  Rcx: bigint;
  Rdx: bigint;
  R8: bigint;
  Rsi: bigint;
  Rdi: bigint;
  /** Xmm0..Xmm5. */
  XmmRegisters: WhvUint128[];
}

/** vpdbg union member for VpdbgBreakpoint: 0 Gva(8), the linear address of the breakpoint. */
export interface VpdbgBreakpointContext { Gva: bigint }

/** vpdbg union member for VpdbgWatchpoint: 0 Address(8), 8 Size(4), 12 AccessInfo(4: bit 0 IsWrite, bit 1 Physical). */
export interface VpdbgWatchpointContext {
  Address: bigint;
  Size: number;
  AccessInfo: { IsWrite: boolean; Physical: boolean; AsUINT32: number };
}

/** vpdbg union member for VpdbgInternalError: the message, UTF-8, NUL-padded to 176 bytes (truncated). */
export interface VpdbgInternalErrorContext { Message: string }

/**
 * WHV_RUN_VP_EXIT_CONTEXT. Exactly one union member is present, the one the reason uses
 * (none for None, UnrecoverableException, InvalidVpRegisterValue and X64Halt).
 */
export interface RunVpExitContext {
  ExitReason: WhvRunVpExitReason;
  VpContext: WhvVpExitContext;
  MemoryAccess?: WhvMemoryAccessContext;
  IoPortAccess?: WhvIoPortAccessContext;
  MsrAccess?: WhvMsrAccessContext;
  CpuidAccess?: WhvCpuidAccessContext;
  VpException?: WhvVpExceptionContext;
  InterruptWindow?: WhvInterruptionDeliverableContext;
  UnsupportedFeature?: WhvUnsupportedFeatureContext;
  CancelReason?: WhvCanceledContext;
  ApicEoi?: WhvApicEoiContext;
  ReadTsc?: WhvRdtscContext;
  Hypercall?: WhvHypercallContext;
  Breakpoint?: VpdbgBreakpointContext;
  Watchpoint?: VpdbgWatchpointContext;
  InternalError?: VpdbgInternalErrorContext;
}

const UNION = 48;

function writeBytes16(v: LayoutView, off: number, count: number, bytes: Uint8Array): void {
  v.setU8(off, count);
  v.setBytes(off + 4, bytes, Math.min(16, count, bytes.length));
}

/** One encoder and one decoder per union member (offsets relative to the union). */
interface UnionCodec {
  encode(v: LayoutView, o: number, c: RunVpExitContext): void;
  decode(v: LayoutView, o: number, c: RunVpExitContext): void;
}

const memoryAccessCodec: UnionCodec = {
  encode(v, o, c) {
    const m = c.MemoryAccess!;
    writeBytes16(v, o, m.InstructionByteCount, m.InstructionBytes);
    v.setU32(o + 20, (m.AccessInfo.AccessType & 3) | (m.AccessInfo.GpaUnmapped ? 4 : 0) | (m.AccessInfo.GvaValid ? 8 : 0));
    v.setU64(o + 24, m.Gpa);
    v.setU64(o + 32, m.Gva);
  },
  decode(v, o, c) {
    const info = v.u32(o + 20);
    c.MemoryAccess = {
      InstructionByteCount: v.u8(o), InstructionBytes: v.slice(o + 4, 16),
      AccessInfo: { AccessType: info & 3, GpaUnmapped: (info & 4) !== 0, GvaValid: (info & 8) !== 0, AsUINT32: info },
      Gpa: v.u64(o + 24), Gva: v.u64(o + 32),
    };
  },
};

const ioPortCodec: UnionCodec = {
  encode(v, o, c) {
    const m = c.IoPortAccess!;
    writeBytes16(v, o, m.InstructionByteCount, m.InstructionBytes);
    const a = m.AccessInfo;
    v.setU32(o + 20, (a.IsWrite ? 1 : 0) | ((a.AccessSize & 7) << 1) | (a.StringOp ? 0x10 : 0) | (a.RepPrefix ? 0x20 : 0));
    v.setU16(o + 24, m.PortNumber);
    v.setU64(o + 32, m.Rax);
    v.setU64(o + 40, m.Rcx);
    v.setU64(o + 48, m.Rsi);
    v.setU64(o + 56, m.Rdi);
    writeSegment(v, o + 64, m.Ds);
    writeSegment(v, o + 80, m.Es);
  },
  decode(v, o, c) {
    const info = v.u32(o + 20);
    c.IoPortAccess = {
      InstructionByteCount: v.u8(o), InstructionBytes: v.slice(o + 4, 16),
      AccessInfo: { IsWrite: (info & 1) !== 0, AccessSize: (info >> 1) & 7, StringOp: (info & 0x10) !== 0, RepPrefix: (info & 0x20) !== 0, AsUINT32: info },
      PortNumber: v.u16(o + 24), Rax: v.u64(o + 32), Rcx: v.u64(o + 40), Rsi: v.u64(o + 48), Rdi: v.u64(o + 56),
      Ds: readSegment(v, o + 64), Es: readSegment(v, o + 80),
    };
  },
};

const msrCodec: UnionCodec = {
  encode(v, o, c) {
    const m = c.MsrAccess!;
    v.setU32(o, m.AccessInfo.IsWrite ? 1 : 0);
    v.setU32(o + 4, m.MsrNumber);
    v.setU64(o + 8, m.Rax);
    v.setU64(o + 16, m.Rdx);
  },
  decode(v, o, c) {
    const info = v.u32(o);
    c.MsrAccess = { AccessInfo: { IsWrite: (info & 1) !== 0, AsUINT32: info }, MsrNumber: v.u32(o + 4), Rax: v.u64(o + 8), Rdx: v.u64(o + 16) };
  },
};

const CPUID_FIELDS = ['Rax', 'Rcx', 'Rdx', 'Rbx', 'DefaultResultRax', 'DefaultResultRcx', 'DefaultResultRdx', 'DefaultResultRbx'] as const;

const cpuidCodec: UnionCodec = {
  encode(v, o, c) { CPUID_FIELDS.forEach((f, i) => v.setU64(o + 8 * i, c.CpuidAccess![f])); },
  decode(v, o, c) {
    const r = {} as WhvCpuidAccessContext;
    CPUID_FIELDS.forEach((f, i) => { r[f] = v.u64(o + 8 * i); });
    c.CpuidAccess = r;
  },
};

const exceptionCodec: UnionCodec = {
  encode(v, o, c) {
    const m = c.VpException!;
    writeBytes16(v, o, m.InstructionByteCount, m.InstructionBytes);
    v.setU32(o + 20, (m.ExceptionInfo.ErrorCodeValid ? 1 : 0) | (m.ExceptionInfo.SoftwareException ? 2 : 0));
    v.setU8(o + 24, m.ExceptionType);
    v.setU32(o + 28, m.ErrorCode);
    v.setU64(o + 32, m.ExceptionParameter);
  },
  decode(v, o, c) {
    const info = v.u32(o + 20);
    c.VpException = {
      InstructionByteCount: v.u8(o), InstructionBytes: v.slice(o + 4, 16),
      ExceptionInfo: { ErrorCodeValid: (info & 1) !== 0, SoftwareException: (info & 2) !== 0, AsUINT32: info },
      ExceptionType: v.u8(o + 24), ErrorCode: v.u32(o + 28), ExceptionParameter: v.u64(o + 32),
    };
  },
};

const interruptWindowCodec: UnionCodec = {
  encode(v, o, c) { v.setU32(o, c.InterruptWindow!.DeliverableType); },
  decode(v, o, c) { c.InterruptWindow = { DeliverableType: v.u32(o) }; },
};

const unsupportedFeatureCodec: UnionCodec = {
  encode(v, o, c) { v.setU32(o, c.UnsupportedFeature!.FeatureCode); v.setU64(o + 8, c.UnsupportedFeature!.FeatureParameter); },
  decode(v, o, c) { c.UnsupportedFeature = { FeatureCode: v.u32(o), FeatureParameter: v.u64(o + 8) }; },
};

const canceledCodec: UnionCodec = {
  encode(v, o, c) { v.setU32(o, c.CancelReason!.CancelReason); },
  decode(v, o, c) { c.CancelReason = { CancelReason: v.u32(o) }; },
};

const apicEoiCodec: UnionCodec = {
  encode(v, o, c) { v.setU32(o, c.ApicEoi!.InterruptVector); },
  decode(v, o, c) { c.ApicEoi = { InterruptVector: v.u32(o) }; },
};

const rdtscCodec: UnionCodec = {
  encode(v, o, c) {
    const m = c.ReadTsc!;
    v.setU64(o, m.TscAux);
    v.setU64(o + 8, m.VirtualOffset);
    v.setU64(o + 16, m.Tsc);
    v.setU64(o + 24, m.ReferenceTime);
    v.setU64(o + 32, m.RdtscInfo.IsRdtscp ? 1n : 0n);
  },
  decode(v, o, c) {
    const info = v.u64(o + 32);
    c.ReadTsc = {
      TscAux: v.u64(o), VirtualOffset: v.u64(o + 8), Tsc: v.u64(o + 16), ReferenceTime: v.u64(o + 24),
      RdtscInfo: { IsRdtscp: (info & 1n) !== 0n, AsUINT64: info },
    };
  },
};

const HYPERCALL_GPRS = ['Rax', 'Rbx', 'Rcx', 'Rdx', 'R8', 'Rsi', 'Rdi'] as const;

const hypercallCodec: UnionCodec = {
  encode(v, o, c) {
    const m = c.Hypercall!;
    HYPERCALL_GPRS.forEach((f, i) => v.setU64(o + 8 * i, m[f]));
    m.XmmRegisters.slice(0, 6).forEach((x, i) => { v.setU64(o + 64 + 16 * i, x.Low64); v.setU64(o + 72 + 16 * i, x.High64); });
  },
  decode(v, o, c) {
    const m = { XmmRegisters: [] as WhvUint128[] } as unknown as WhvHypercallContext;
    HYPERCALL_GPRS.forEach((f, i) => { m[f] = v.u64(o + 8 * i); });
    for (let i = 0; i < 6; i++) m.XmmRegisters.push({ Low64: v.u64(o + 64 + 16 * i), High64: v.u64(o + 72 + 16 * i) });
    c.Hypercall = m;
  },
};

const breakpointCodec: UnionCodec = {
  encode(v, o, c) { v.setU64(o, c.Breakpoint!.Gva); },
  decode(v, o, c) { c.Breakpoint = { Gva: v.u64(o) }; },
};

const watchpointCodec: UnionCodec = {
  encode(v, o, c) {
    const m = c.Watchpoint!;
    v.setU64(o, m.Address);
    v.setU32(o + 8, m.Size);
    v.setU32(o + 12, (m.AccessInfo.IsWrite ? 1 : 0) | (m.AccessInfo.Physical ? 2 : 0));
  },
  decode(v, o, c) {
    const info = v.u32(o + 12);
    c.Watchpoint = { Address: v.u64(o), Size: v.u32(o + 8), AccessInfo: { IsWrite: (info & 1) !== 0, Physical: (info & 2) !== 0, AsUINT32: info } };
  },
};

const INTERNAL_ERROR_BYTES = 176;

const internalErrorCodec: UnionCodec = {
  encode(v, o, c) {
    let bytes = new TextEncoder().encode(c.InternalError!.Message);
    // Truncate on a character boundary so the stored text is still valid UTF-8.
    if (bytes.length > INTERNAL_ERROR_BYTES) {
      let end = INTERNAL_ERROR_BYTES;
      while (end > 0 && (bytes[end] & 0xC0) === 0x80) end--;
      bytes = bytes.subarray(0, end);
    }
    v.setBytes(o, bytes, INTERNAL_ERROR_BYTES);
  },
  decode(v, o, c) {
    const raw = v.slice(o, INTERNAL_ERROR_BYTES);
    const end = raw.indexOf(0);
    c.InternalError = { Message: new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end)) };
  },
};

const NO_PAYLOAD: UnionCodec = { encode() { /* header-only reason */ }, decode() { /* header-only reason */ } };

/** Union member codec per exit reason. Reasons not listed here have no payload. */
const UNION_CODECS: ReadonlyMap<number, UnionCodec> = new Map<number, UnionCodec>([
  [WhvRunVpExitReason.MemoryAccess, memoryAccessCodec],
  [WhvRunVpExitReason.X64IoPortAccess, ioPortCodec],
  [WhvRunVpExitReason.UnsupportedFeature, unsupportedFeatureCodec],
  [WhvRunVpExitReason.X64InterruptWindow, interruptWindowCodec],
  [WhvRunVpExitReason.X64ApicEoi, apicEoiCodec],
  [WhvRunVpExitReason.X64MsrAccess, msrCodec],
  [WhvRunVpExitReason.X64Cpuid, cpuidCodec],
  [WhvRunVpExitReason.Exception, exceptionCodec],
  [WhvRunVpExitReason.X64Rdtsc, rdtscCodec],
  [WhvRunVpExitReason.Hypercall, hypercallCodec],
  [WhvRunVpExitReason.Canceled, canceledCodec],
  [WhvRunVpExitReason.VpdbgBreakpoint, breakpointCodec],
  [WhvRunVpExitReason.VpdbgWatchpoint, watchpointCodec],
  [WhvRunVpExitReason.VpdbgInternalError, internalErrorCodec],
]);

export function encodeVpExitContext(v: LayoutView, o: number, p: WhvVpExitContext): void {
  v.setU16(o, executionStateBits(p.ExecutionState));
  v.setU8(o + 2, (p.InstructionLength & 0xF) | ((p.Cr8 & 0xF) << 4));
  writeSegment(v, o + 8, p.Cs);
  v.setU64(o + 24, p.Rip);
  v.setU64(o + 32, p.Rflags);
}

export function decodeVpExitContext(v: LayoutView, o: number): WhvVpExitContext {
  const b = v.u8(o + 2);
  return {
    ExecutionState: executionState(v.u16(o)), InstructionLength: b & 0xF, Cr8: b >> 4,
    Cs: readSegment(v, o + 8), Rip: v.u64(o + 24), Rflags: v.u64(o + 32),
  };
}

/** Encodes into a new 224-byte buffer (or into `out`, which must hold 224 bytes). Reserved bytes are zero. */
export function encodeRunVpExitContext(c: RunVpExitContext, out?: Uint8Array): Uint8Array {
  const bytes = out ?? new Uint8Array(WHV_RUN_VP_EXIT_CONTEXT_SIZE);
  if (bytes.length < WHV_RUN_VP_EXIT_CONTEXT_SIZE) throw new RangeError(`exit context buffer is ${bytes.length} bytes; 224 needed`);
  bytes.fill(0, 0, WHV_RUN_VP_EXIT_CONTEXT_SIZE);
  const v = new LayoutView(bytes);
  v.setU32(0, c.ExitReason);
  encodeVpExitContext(v, 8, c.VpContext);
  (UNION_CODECS.get(c.ExitReason) ?? NO_PAYLOAD).encode(v, UNION, c);
  return bytes;
}

export function decodeRunVpExitContext(bytes: Uint8Array): RunVpExitContext {
  if (bytes.length < WHV_RUN_VP_EXIT_CONTEXT_SIZE) throw new RangeError(`exit context is ${bytes.length} bytes; 224 expected`);
  const v = new LayoutView(bytes);
  const c: RunVpExitContext = { ExitReason: v.u32(0), VpContext: decodeVpExitContext(v, 8) };
  (UNION_CODECS.get(c.ExitReason) ?? NO_PAYLOAD).decode(v, UNION, c);
  return c;
}
