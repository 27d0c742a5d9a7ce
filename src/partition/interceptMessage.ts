// The same exits in the Hyper-V form: an HV_MESSAGE (256 bytes: 16-byte header + 240-byte
// payload) whose payload starts with HV_X64_INTERCEPT_MESSAGE_HEADER (40 bytes) for the
// intercept kinds. Layout choices where sources disagree (reference section 8):
// - header byte 4: low nibble InstructionLength, high nibble Cr8 (openvmm/Linux);
// - memory intercepts: the current 80-byte layout with TprPriority at 46 (openvmm/Linux), not the old 240-byte one;
// - hypercall intercept: openvmm's 208 bytes (12 reserved bytes at the end), not Linux's packed 196.
// X64Rdtsc has no published HV message layout, and Canceled/None are host-side: they have no message.
import { LayoutView } from './binary';
import { HvMessageType as T, WhvRunVpExitReason as X, HV_MESSAGE_SIZE, HV_MESSAGE_PAYLOAD_BYTES, HvInterceptAccessType, HvCacheType } from './hvdef';
import { executionState, executionStateBits, type RunVpExitContext, type WhvExecutionState, type WhvUint128 } from './exitContext';
import { readSegment, writeSegment, type WhvSegmentRegister } from './segment';

/** HV_X64_INTERCEPT_MESSAGE_HEADER. ExecutionState uses the bits WHP and HV share. */
export interface HvX64InterceptMessageHeader {
  VpIndex: number;
  InstructionLength: number;
  Cr8: number;
  InterceptAccessType: HvInterceptAccessType;
  ExecutionState: WhvExecutionState;
  CsSegment: WhvSegmentRegister;
  Rip: bigint;
  Rflags: bigint;
}

export interface HvX64IoPortInterceptMessage {
  Header: HvX64InterceptMessageHeader;
  PortNumber: number;
  /** HV layout: AccessSize 2:0, StringOp bit 3, RepPrefix bit 4 (direction is the header's access type). */
  AccessInfo: { AccessSize: number; StringOp: boolean; RepPrefix: boolean };
  InstructionByteCount: number;
  Rax: bigint;
  InstructionBytes: Uint8Array;
  DsSegment: WhvSegmentRegister;
  EsSegment: WhvSegmentRegister;
  Rcx: bigint;
  Rsi: bigint;
  Rdi: bigint;
}

export interface HvX64MsrInterceptMessage { Header: HvX64InterceptMessageHeader; MsrNumber: number; Rdx: bigint; Rax: bigint }

export interface HvX64CpuidInterceptMessage {
  Header: HvX64InterceptMessageHeader;
  Rax: bigint; Rcx: bigint; Rdx: bigint; Rbx: bigint;
  DefaultResultRax: bigint; DefaultResultRcx: bigint; DefaultResultRdx: bigint; DefaultResultRbx: bigint;
}

export interface HvX64MemoryInterceptMessage {
  Header: HvX64InterceptMessageHeader;
  CacheType: HvCacheType;
  InstructionByteCount: number;
  MemoryAccessInfo: { GvaValid: boolean; GvaGpaValid: boolean; HypercallOutputPending: boolean; TlbLocked: boolean };
  TprPriority: number;
  GuestVirtualAddress: bigint;
  GuestPhysicalAddress: bigint;
  InstructionBytes: Uint8Array;
}

/** General registers in the order the exception message stores them. */
export const EXCEPTION_MESSAGE_GPRS = ['Rax', 'Rcx', 'Rdx', 'Rbx', 'Rsp', 'Rbp', 'Rsi', 'Rdi', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'] as const;
export type Gpr = typeof EXCEPTION_MESSAGE_GPRS[number];

export type HvX64ExceptionInterceptMessage = {
  Header: HvX64InterceptMessageHeader;
  ExceptionVector: number;
  ExceptionInfo: { ErrorCodeValid: boolean; SoftwareException: boolean };
  InstructionByteCount: number;
  ErrorCode: number;
  ExceptionParameter: bigint;
  InstructionBytes: Uint8Array;
  DsSegment: WhvSegmentRegister;
  SsSegment: WhvSegmentRegister;
} & Record<Gpr, bigint>;

export interface HvX64InterruptionDeliverableMessage { Header: HvX64InterceptMessageHeader; DeliverableType: number }

export interface HvX64HypercallInterceptMessage {
  Header: HvX64InterceptMessageHeader;
  Rax: bigint; Rbx: bigint; Rcx: bigint; Rdx: bigint; R8: bigint; Rsi: bigint; Rdi: bigint;
  XmmRegisters: WhvUint128[];
  Flags: { IsIsolated: boolean };
}

/** Header-only messages (X64Halt, UnrecoverableException). */
export interface HvX64HeaderOnlyMessage { Header: HvX64InterceptMessageHeader }
export interface HvInvalidVpRegisterValueMessage { VpIndex: number }
export interface HvUnsupportedFeatureMessage { VpIndex: number; FeatureCode: number; FeatureParameter: bigint }
export interface HvX64ApicEoiMessage { VpIndex: number; InterruptVector: number }

export type HvMessagePayload =
  | HvX64IoPortInterceptMessage | HvX64MsrInterceptMessage | HvX64CpuidInterceptMessage | HvX64MemoryInterceptMessage
  | HvX64ExceptionInterceptMessage | HvX64InterruptionDeliverableMessage | HvX64HypercallInterceptMessage | HvX64HeaderOnlyMessage
  | HvInvalidVpRegisterValueMessage | HvUnsupportedFeatureMessage | HvX64ApicEoiMessage;

/** HV_MESSAGE: header (MessageType, PayloadSize, MessageFlags, Sender) and the typed payload. */
export interface HvMessage {
  MessageType: T;
  PayloadSize: number;
  MessageFlags: { MessagePending: boolean };
  /** OriginationId: the partition ID for intercepts. */
  Sender: bigint;
  Payload: HvMessagePayload;
}

const P = 16; // payload offset inside HV_MESSAGE

function writeHeader(v: LayoutView, o: number, h: HvX64InterceptMessageHeader): void {
  v.setU32(o, h.VpIndex);
  v.setU8(o + 4, (h.InstructionLength & 0xF) | ((h.Cr8 & 0xF) << 4));
  v.setU8(o + 5, h.InterceptAccessType);
  v.setU16(o + 6, executionStateBits(h.ExecutionState));
  writeSegment(v, o + 8, h.CsSegment);
  v.setU64(o + 24, h.Rip);
  v.setU64(o + 32, h.Rflags);
}

function readHeader(v: LayoutView, o: number): HvX64InterceptMessageHeader {
  const b = v.u8(o + 4);
  return {
    VpIndex: v.u32(o), InstructionLength: b & 0xF, Cr8: b >> 4, InterceptAccessType: v.u8(o + 5),
    ExecutionState: executionState(v.u16(o + 6)), CsSegment: readSegment(v, o + 8), Rip: v.u64(o + 24), Rflags: v.u64(o + 32),
  };
}

interface PayloadCodec { size: number; encode(v: LayoutView, o: number, p: HvMessagePayload): void; decode(v: LayoutView, o: number): HvMessagePayload }

function u64Fields<K extends string>(names: readonly K[], base: number, stride = 8) {
  return {
    encode: (v: LayoutView, o: number, p: Record<K, bigint>) => names.forEach((n, i) => v.setU64(o + base + stride * i, p[n])),
    decode: (v: LayoutView, o: number, into: Record<K, bigint>) => names.forEach((n, i) => { into[n] = v.u64(o + base + stride * i); }),
  };
}

const CPUID_FIELDS = u64Fields(['Rax', 'Rcx', 'Rdx', 'Rbx', 'DefaultResultRax', 'DefaultResultRcx', 'DefaultResultRdx', 'DefaultResultRbx'], 40);
const EXCEPTION_GPRS = u64Fields(EXCEPTION_MESSAGE_GPRS, 112);
const HYPERCALL_GPRS = u64Fields(['Rax', 'Rbx', 'Rcx', 'Rdx', 'R8', 'Rsi', 'Rdi'], 40);

const headerOnly: PayloadCodec = {
  size: 40,
  encode: (v, o, p) => writeHeader(v, o, (p as HvX64HeaderOnlyMessage).Header),
  decode: (v, o) => ({ Header: readHeader(v, o) }),
};

const CODECS = new Map<T, PayloadCodec>([
  [T.X64IoPortIntercept, {
    size: 128,
    encode(v, o, p) {
      const m = p as HvX64IoPortInterceptMessage;
      writeHeader(v, o, m.Header);
      v.setU16(o + 40, m.PortNumber);
      v.setU8(o + 42, (m.AccessInfo.AccessSize & 7) | (m.AccessInfo.StringOp ? 8 : 0) | (m.AccessInfo.RepPrefix ? 0x10 : 0));
      v.setU8(o + 43, m.InstructionByteCount);
      v.setU64(o + 48, m.Rax);
      v.setBytes(o + 56, m.InstructionBytes, Math.min(16, m.InstructionByteCount));
      writeSegment(v, o + 72, m.DsSegment);
      writeSegment(v, o + 88, m.EsSegment);
      v.setU64(o + 104, m.Rcx);
      v.setU64(o + 112, m.Rsi);
      v.setU64(o + 120, m.Rdi);
    },
    decode(v, o) {
      const a = v.u8(o + 42);
      return {
        Header: readHeader(v, o), PortNumber: v.u16(o + 40), AccessInfo: { AccessSize: a & 7, StringOp: (a & 8) !== 0, RepPrefix: (a & 0x10) !== 0 },
        InstructionByteCount: v.u8(o + 43), Rax: v.u64(o + 48), InstructionBytes: v.slice(o + 56, 16),
        DsSegment: readSegment(v, o + 72), EsSegment: readSegment(v, o + 88), Rcx: v.u64(o + 104), Rsi: v.u64(o + 112), Rdi: v.u64(o + 120),
      };
    },
  }],
  [T.MsrIntercept, {
    size: 64,
    encode(v, o, p) {
      const m = p as HvX64MsrInterceptMessage;
      writeHeader(v, o, m.Header);
      v.setU32(o + 40, m.MsrNumber);
      v.setU64(o + 48, m.Rdx);
      v.setU64(o + 56, m.Rax);
    },
    decode: (v, o) => ({ Header: readHeader(v, o), MsrNumber: v.u32(o + 40), Rdx: v.u64(o + 48), Rax: v.u64(o + 56) }),
  }],
  [T.X64CpuidIntercept, {
    size: 104,
    encode(v, o, p) {
      const m = p as HvX64CpuidInterceptMessage;
      writeHeader(v, o, m.Header);
      CPUID_FIELDS.encode(v, o, m);
    },
    decode(v, o) {
      const m = { Header: readHeader(v, o) } as HvX64CpuidInterceptMessage;
      CPUID_FIELDS.decode(v, o, m);
      return m;
    },
  }],
  ...([T.UnmappedGpa, T.GpaIntercept] as const).map((t): [T, PayloadCodec] => [t, {
    size: 80,
    encode(v, o, p) {
      const m = p as HvX64MemoryInterceptMessage;
      writeHeader(v, o, m.Header);
      v.setU32(o + 40, m.CacheType);
      v.setU8(o + 44, m.InstructionByteCount);
      const a = m.MemoryAccessInfo;
      v.setU8(o + 45, (a.GvaValid ? 1 : 0) | (a.GvaGpaValid ? 2 : 0) | (a.HypercallOutputPending ? 4 : 0) | (a.TlbLocked ? 8 : 0));
      v.setU8(o + 46, m.TprPriority);
      v.setU64(o + 48, m.GuestVirtualAddress);
      v.setU64(o + 56, m.GuestPhysicalAddress);
      v.setBytes(o + 64, m.InstructionBytes, Math.min(16, m.InstructionByteCount));
    },
    decode(v, o) {
      const a = v.u8(o + 45);
      return {
        Header: readHeader(v, o), CacheType: v.u32(o + 40), InstructionByteCount: v.u8(o + 44),
        MemoryAccessInfo: { GvaValid: (a & 1) !== 0, GvaGpaValid: (a & 2) !== 0, HypercallOutputPending: (a & 4) !== 0, TlbLocked: (a & 8) !== 0 },
        TprPriority: v.u8(o + 46), GuestVirtualAddress: v.u64(o + 48), GuestPhysicalAddress: v.u64(o + 56), InstructionBytes: v.slice(o + 64, 16),
      };
    },
  }]),
  [T.ExceptionIntercept, {
    size: 240,
    encode(v, o, p) {
      const m = p as HvX64ExceptionInterceptMessage;
      writeHeader(v, o, m.Header);
      v.setU16(o + 40, m.ExceptionVector);
      v.setU8(o + 42, (m.ExceptionInfo.ErrorCodeValid ? 1 : 0) | (m.ExceptionInfo.SoftwareException ? 2 : 0));
      v.setU8(o + 43, m.InstructionByteCount);
      v.setU32(o + 44, m.ErrorCode);
      v.setU64(o + 48, m.ExceptionParameter);
      v.setBytes(o + 64, m.InstructionBytes, Math.min(16, m.InstructionByteCount));
      writeSegment(v, o + 80, m.DsSegment);
      writeSegment(v, o + 96, m.SsSegment);
      EXCEPTION_GPRS.encode(v, o, m);
    },
    decode(v, o) {
      const info = v.u8(o + 42);
      const m = {
        Header: readHeader(v, o), ExceptionVector: v.u16(o + 40), ExceptionInfo: { ErrorCodeValid: (info & 1) !== 0, SoftwareException: (info & 2) !== 0 },
        InstructionByteCount: v.u8(o + 43), ErrorCode: v.u32(o + 44), ExceptionParameter: v.u64(o + 48), InstructionBytes: v.slice(o + 64, 16),
        DsSegment: readSegment(v, o + 80), SsSegment: readSegment(v, o + 96),
      } as HvX64ExceptionInterceptMessage;
      EXCEPTION_GPRS.decode(v, o, m);
      return m;
    },
  }],
  [T.X64InterruptionDeliverable, {
    size: 48,
    encode(v, o, p) {
      writeHeader(v, o, (p as HvX64InterruptionDeliverableMessage).Header);
      v.setU8(o + 40, (p as HvX64InterruptionDeliverableMessage).DeliverableType);
    },
    decode: (v, o) => ({ Header: readHeader(v, o), DeliverableType: v.u8(o + 40) }),
  }],
  [T.HypercallIntercept, {
    size: 208,
    encode(v, o, p) {
      const m = p as HvX64HypercallInterceptMessage;
      writeHeader(v, o, m.Header);
      HYPERCALL_GPRS.encode(v, o, m);
      m.XmmRegisters.slice(0, 6).forEach((x, i) => { v.setU64(o + 96 + 16 * i, x.Low64); v.setU64(o + 104 + 16 * i, x.High64); });
      v.setU32(o + 192, m.Flags.IsIsolated ? 1 : 0);
    },
    decode(v, o) {
      const m = { Header: readHeader(v, o), XmmRegisters: [] as WhvUint128[], Flags: { IsIsolated: (v.u32(o + 192) & 1) !== 0 } } as HvX64HypercallInterceptMessage;
      HYPERCALL_GPRS.decode(v, o, m);
      for (let i = 0; i < 6; i++) m.XmmRegisters.push({ Low64: v.u64(o + 96 + 16 * i), High64: v.u64(o + 104 + 16 * i) });
      return m;
    },
  }],
  [T.X64Halt, headerOnly],
  [T.UnrecoverableException, headerOnly],
  [T.InvalidVpRegisterValue, {
    size: 8,
    encode: (v, o, p) => v.setU32(o, (p as HvInvalidVpRegisterValueMessage).VpIndex),
    decode: (v, o) => ({ VpIndex: v.u32(o) }),
  }],
  [T.UnsupportedFeature, {
    size: 16,
    encode(v, o, p) {
      const m = p as HvUnsupportedFeatureMessage;
      v.setU32(o, m.VpIndex);
      v.setU32(o + 4, m.FeatureCode);
      v.setU64(o + 8, m.FeatureParameter);
    },
    decode: (v, o) => ({ VpIndex: v.u32(o), FeatureCode: v.u32(o + 4), FeatureParameter: v.u64(o + 8) }),
  }],
  [T.X64ApicEoi, {
    size: 8,
    encode(v, o, p) { v.setU32(o, (p as HvX64ApicEoiMessage).VpIndex); v.setU32(o + 4, (p as HvX64ApicEoiMessage).InterruptVector); },
    decode: (v, o) => ({ VpIndex: v.u32(o), InterruptVector: v.u32(o + 4) }),
  }],
]);

/** Payload size of a message type this layer encodes (undefined: not supported). */
export function interceptPayloadSize(type: T): number | undefined { return CODECS.get(type)?.size; }

/** Encodes into a 256-byte HV_MESSAGE (PayloadSize is taken from the layout, not the object). Unused payload bytes are zero. */
export function encodeHvMessage(m: HvMessage, out?: Uint8Array): Uint8Array {
  const codec = CODECS.get(m.MessageType);
  if (!codec) throw new RangeError(`no payload layout for message type 0x${(m.MessageType >>> 0).toString(16)}`);
  const bytes = out ?? new Uint8Array(HV_MESSAGE_SIZE);
  if (bytes.length < HV_MESSAGE_SIZE) throw new RangeError(`HV_MESSAGE buffer is ${bytes.length} bytes; 256 needed`);
  bytes.fill(0, 0, HV_MESSAGE_SIZE);
  const v = new LayoutView(bytes);
  v.setU32(0, m.MessageType);
  v.setU8(4, codec.size);
  v.setU8(5, m.MessageFlags.MessagePending ? 1 : 0);
  v.setU64(8, m.Sender);
  codec.encode(v, P, m.Payload);
  return bytes;
}

export function decodeHvMessage(bytes: Uint8Array): HvMessage {
  if (bytes.length < HV_MESSAGE_SIZE) throw new RangeError(`HV_MESSAGE is ${bytes.length} bytes; 256 expected`);
  const v = new LayoutView(bytes);
  const type = v.u32(0) as T;
  const size = v.u8(4);
  const codec = CODECS.get(type);
  if (!codec) throw new RangeError(`no payload layout for message type 0x${(type >>> 0).toString(16)}`);
  if (size > HV_MESSAGE_PAYLOAD_BYTES) throw new RangeError(`PayloadSize ${size} exceeds 240`);
  return { MessageType: type, PayloadSize: size, MessageFlags: { MessagePending: (v.u8(5) & 1) !== 0 }, Sender: v.u64(8), Payload: codec.decode(v, P) };
}

/** Registers the exception message carries beyond the WHP exit context. */
export interface InterceptExtraState { Ds: WhvSegmentRegister; Ss: WhvSegmentRegister; Gprs: Record<Gpr, bigint> }

function header(c: RunVpExitContext, vpIndex: number, access: HvInterceptAccessType): HvX64InterceptMessageHeader {
  const p = c.VpContext;
  return {
    VpIndex: vpIndex, InstructionLength: p.InstructionLength, Cr8: p.Cr8, InterceptAccessType: access,
    ExecutionState: p.ExecutionState, CsSegment: p.Cs, Rip: p.Rip, Rflags: p.Rflags,
  };
}

type MessageBuilder = (c: RunVpExitContext, vp: number, extra: InterceptExtraState) => [T, HvMessagePayload];
const RD = HvInterceptAccessType.Read, WR = HvInterceptAccessType.Write, EX = HvInterceptAccessType.Execute;

/** HV message kind and payload for each WHP exit reason that has one. */
const MESSAGE_BUILDERS = new Map<X, MessageBuilder>([
  [X.X64IoPortAccess, (c, vp) => {
    const m = c.IoPortAccess!;
    return [T.X64IoPortIntercept, {
      Header: header(c, vp, m.AccessInfo.IsWrite ? WR : RD), PortNumber: m.PortNumber,
      AccessInfo: { AccessSize: m.AccessInfo.AccessSize, StringOp: m.AccessInfo.StringOp, RepPrefix: m.AccessInfo.RepPrefix },
      InstructionByteCount: m.InstructionByteCount, Rax: m.Rax, InstructionBytes: m.InstructionBytes,
      DsSegment: m.Ds, EsSegment: m.Es, Rcx: m.Rcx, Rsi: m.Rsi, Rdi: m.Rdi,
    }];
  }],
  [X.X64MsrAccess, (c, vp) => {
    const m = c.MsrAccess!;
    return [T.MsrIntercept, { Header: header(c, vp, m.AccessInfo.IsWrite ? WR : RD), MsrNumber: m.MsrNumber, Rdx: m.Rdx, Rax: m.Rax }];
  }],
  // The CPUID intercept reports the execute access type (openvmm).
  [X.X64Cpuid, (c, vp) => [T.X64CpuidIntercept, { Header: header(c, vp, EX), ...c.CpuidAccess! }]],
  [X.MemoryAccess, (c, vp) => {
    const m = c.MemoryAccess!;
    return [m.AccessInfo.GpaUnmapped ? T.UnmappedGpa : T.GpaIntercept, {
      Header: header(c, vp, m.AccessInfo.AccessType), CacheType: HvCacheType.WriteBack, InstructionByteCount: m.InstructionByteCount,
      MemoryAccessInfo: { GvaValid: m.AccessInfo.GvaValid, GvaGpaValid: m.AccessInfo.GvaValid, HypercallOutputPending: false, TlbLocked: false },
      TprPriority: c.VpContext.Cr8, GuestVirtualAddress: m.Gva, GuestPhysicalAddress: m.Gpa, InstructionBytes: m.InstructionBytes,
    }];
  }],
  [X.Exception, (c, vp, extra) => {
    const m = c.VpException!;
    return [T.ExceptionIntercept, {
      Header: header(c, vp, RD), ExceptionVector: m.ExceptionType,
      ExceptionInfo: { ErrorCodeValid: m.ExceptionInfo.ErrorCodeValid, SoftwareException: m.ExceptionInfo.SoftwareException },
      InstructionByteCount: m.InstructionByteCount, ErrorCode: m.ErrorCode, ExceptionParameter: m.ExceptionParameter,
      InstructionBytes: m.InstructionBytes, DsSegment: extra.Ds, SsSegment: extra.Ss, ...extra.Gprs,
    }];
  }],
  [X.X64InterruptWindow, (c, vp) => [T.X64InterruptionDeliverable, { Header: header(c, vp, RD), DeliverableType: c.InterruptWindow!.DeliverableType }]],
  [X.Hypercall, (c, vp) => [T.HypercallIntercept, { Header: header(c, vp, EX), ...c.Hypercall!, Flags: { IsIsolated: false } }]],
  [X.X64Halt, (c, vp) => [T.X64Halt, { Header: header(c, vp, EX) }]],
  [X.UnrecoverableException, (c, vp) => [T.UnrecoverableException, { Header: header(c, vp, RD) }]],
  [X.InvalidVpRegisterValue, (_c, vp) => [T.InvalidVpRegisterValue, { VpIndex: vp }]],
  [X.UnsupportedFeature, (c, vp) => [T.UnsupportedFeature, { VpIndex: vp, ...c.UnsupportedFeature! }]],
  [X.X64ApicEoi, (c, vp) => [T.X64ApicEoi, { VpIndex: vp, InterruptVector: c.ApicEoi!.InterruptVector }]],
]);

/**
 * The HV intercept message for a WHP exit of `vpIndex` in partition `sender`, or undefined for
 * exits with no HV message (None, Canceled, X64Rdtsc, vpdbg's own reasons).
 */
export function interceptMessageFromExit(c: RunVpExitContext, vpIndex: number, sender: bigint, extra: InterceptExtraState): HvMessage | undefined {
  const build = MESSAGE_BUILDERS.get(c.ExitReason);
  if (!build) return undefined;
  const [type, payload] = build(c, vpIndex, extra);
  return { MessageType: type, PayloadSize: CODECS.get(type)!.size, MessageFlags: { MessagePending: false }, Sender: sender, Payload: payload };
}
