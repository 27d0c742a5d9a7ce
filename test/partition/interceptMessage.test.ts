import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHvMessage, decodeHvMessage, interceptMessageFromExit, interceptPayloadSize, type HvMessage, type HvX64InterceptMessageHeader, type InterceptExtraState } from '../../src/partition/interceptMessage';
import { executionState, type RunVpExitContext } from '../../src/partition/exitContext';
import { HvMessageType as T, HvInterceptAccessType, HvCacheType, WhvRunVpExitReason as X } from '../../src/partition/hvdef';
import { whvSegment } from '../../src/partition/segment';
import { vec } from './bytes';

// Header: VP 1, length 2, CR8 3 (byte 4 = 0x32), access type in byte 5, state 0x0015 (CPL 1, PE, LMA), CS 0x33, RIP 0x401000, RFLAGS 0x246.
function hdr(access: HvInterceptAccessType): HvX64InterceptMessageHeader {
  return {
    VpIndex: 1, InstructionLength: 2, Cr8: 3, InterceptAccessType: access, ExecutionState: executionState(0x0015),
    CsSegment: whvSegment(0n, 0xFFFFFFFF, 0x33, 0xA0FB), Rip: 0x401000n, Rflags: 0x246n,
  };
}
/** HV_MESSAGE header at 0 (type, payload size, flags, sender = partition 7) and the intercept header at 16. */
function hdrBytes(type: string, size: string, access: string): [number, string][] {
  return [[0, type], [4, size], [8, '07'], [16, '01 00 00 00 32'], [21, access], [22, '15 00'],
    [24, '00 00 00 00 00 00 00 00 ff ff ff ff 33 00 fb a0'], [40, '00 10 40'], [48, '46 02']];
}
const DS = whvSegment(0x1000n, 0xFFFF, 0x10, 0x93);
const DS_BYTES = '00 10 00 00 00 00 00 00 ff ff 00 00 10 00 93 00';

function check(m: HvMessage, expected: Uint8Array): void {
  assert.deepEqual(encodeHvMessage(m), expected);
  assert.deepEqual(decodeHvMessage(expected), m);
}
const msg = (type: T, size: number, Payload: HvMessage['Payload']): HvMessage => ({ MessageType: type, PayloadSize: size, MessageFlags: { MessagePending: false }, Sender: 7n, Payload });
function ib(...b: number[]): Uint8Array { const r = new Uint8Array(16); r.set(b); return r; }

test('HV_X64_IO_PORT_INTERCEPT_MESSAGE (128 bytes): HV access-info layout, string fields', () => {
  check(msg(T.X64IoPortIntercept, 128, {
    Header: hdr(HvInterceptAccessType.Write), PortNumber: 0x3F8, AccessInfo: { AccessSize: 1, StringOp: true, RepPrefix: true },
    InstructionByteCount: 2, Rax: 0x41n, InstructionBytes: ib(0xF3, 0x6E), DsSegment: DS, EsSegment: DS, Rcx: 5n, Rsi: 0x2000n, Rdi: 0x3000n,
  }), vec(256, [...hdrBytes('00 00 01 80', '80', '01'), [56, 'f8 03 19 02'], [64, '41'], [72, 'f3 6e'], [88, DS_BYTES], [104, DS_BYTES],
    [120, '05'], [128, '00 20'], [136, '00 30']]));
});

test('HV_X64_MSR_INTERCEPT_MESSAGE (64 bytes): Rdx before Rax', () => {
  check(msg(T.MsrIntercept, 64, { Header: hdr(HvInterceptAccessType.Read), MsrNumber: 0x40000001, Rdx: 0x11n, Rax: 0x22n }),
    vec(256, [...hdrBytes('01 00 01 80', '40', '00'), [56, '01 00 00 40'], [64, '11'], [72, '22']]));
});

test('HV_X64_CPUID_INTERCEPT_MESSAGE (104 bytes)', () => {
  check(msg(T.X64CpuidIntercept, 104, {
    Header: hdr(HvInterceptAccessType.Execute), Rax: 1n, Rcx: 2n, Rdx: 3n, Rbx: 4n,
    DefaultResultRax: 5n, DefaultResultRcx: 6n, DefaultResultRdx: 7n, DefaultResultRbx: 8n,
  }), vec(256, [...hdrBytes('02 00 01 80', '68', '02'), [56, '01'], [64, '02'], [72, '03'], [80, '04'], [88, '05'], [96, '06'], [104, '07'], [112, '08']]));
});

test('HV_X64_MEMORY_INTERCEPT_MESSAGE (80-byte layout): cache type, access info, TPR, GVA, GPA, bytes', () => {
  check(msg(T.UnmappedGpa, 80, {
    Header: hdr(HvInterceptAccessType.Write), CacheType: HvCacheType.WriteBack, InstructionByteCount: 2,
    MemoryAccessInfo: { GvaValid: true, GvaGpaValid: true, HypercallOutputPending: false, TlbLocked: false }, TprPriority: 3,
    GuestVirtualAddress: 0xFFFF_8000_0000_1000n, GuestPhysicalAddress: 0xFEE000B0n, InstructionBytes: ib(0x89, 0x08),
  }), vec(256, [...hdrBytes('00 00 00 80', '50', '01'), [56, '06'], [60, '02 03 03'], [64, '00 10 00 00 00 80 ff ff'], [72, 'b0 00 e0 fe'], [80, '89 08']]));
});

test('HV_X64_EXCEPTION_INTERCEPT_MESSAGE (240 bytes): vector, info, error code, parameter, DS, SS, 16 GPRs', () => {
  const gprs = Object.fromEntries(['Rax', 'Rcx', 'Rdx', 'Rbx', 'Rsp', 'Rbp', 'Rsi', 'Rdi', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'].map((n, i) => [n, BigInt(0xA0 + i)]));
  const parts = [...hdrBytes('03 00 01 80', 'f0', '00'), [56, '0e 00 01 02'], [60, '02'], [64, '00 f0'], [80, 'ff 01'], [96, DS_BYTES], [112, DS_BYTES]] as [number, string][];
  for (let i = 0; i < 16; i++) parts.push([128 + 8 * i, (0xA0 + i).toString(16)]);
  check(msg(T.ExceptionIntercept, 240, {
    Header: hdr(HvInterceptAccessType.Read), ExceptionVector: 14, ExceptionInfo: { ErrorCodeValid: true, SoftwareException: false },
    InstructionByteCount: 2, ErrorCode: 2, ExceptionParameter: 0xF000n, InstructionBytes: ib(0xFF, 0x01), DsSegment: DS, SsSegment: DS, ...gprs,
  } as HvMessage['Payload']), vec(256, parts));
});

test('HypercallIntercept (openvmm 208 bytes), InterruptionDeliverable, Halt, ApicEoi, UnsupportedFeature, InvalidVpRegisterValue', () => {
  const xmm = Array.from({ length: 6 }, (_, i) => ({ Low64: BigInt(i + 1), High64: BigInt(0x80 + i) }));
  const hc: [number, string][] = [...hdrBytes('50 00 00 80', 'd0', '02'), [56, '01'], [64, '02'], [72, '50 00 00 00 01'], [80, '04'], [88, '05'], [96, '06'], [104, '07'], [208, '01']];
  for (let i = 0; i < 6; i++) hc.push([112 + 16 * i, (i + 1).toString(16)], [120 + 16 * i, (0x80 + i).toString(16)]);
  check(msg(T.HypercallIntercept, 208, {
    Header: hdr(HvInterceptAccessType.Execute), Rax: 1n, Rbx: 2n, Rcx: 0x1_0000_0050n, Rdx: 4n, R8: 5n, Rsi: 6n, Rdi: 7n, XmmRegisters: xmm, Flags: { IsIsolated: true },
  }), vec(256, hc));
  check(msg(T.X64InterruptionDeliverable, 48, { Header: hdr(HvInterceptAccessType.Read), DeliverableType: 2 }), vec(256, [...hdrBytes('08 00 01 80', '30', '00'), [56, '02']]));
  check(msg(T.X64Halt, 40, { Header: hdr(HvInterceptAccessType.Execute) }), vec(256, hdrBytes('07 00 01 80', '28', '02')));
  check(msg(T.X64ApicEoi, 8, { VpIndex: 1, InterruptVector: 0x30 }), vec(256, [[0, '04 00 01 80'], [4, '08'], [8, '07'], [16, '01 00 00 00 30']]));
  check(msg(T.UnsupportedFeature, 16, { VpIndex: 2, FeatureCode: 2, FeatureParameter: 9n }), vec(256, [[0, '22 00 00 80'], [4, '10'], [8, '07'], [16, '02 00 00 00 02'], [24, '09']]));
  check(msg(T.InvalidVpRegisterValue, 8, { VpIndex: 3 }), vec(256, [[0, '20 00 00 80'], [4, '08'], [8, '07'], [16, '03']]));
});

test('MessagePending flag and payload sizes; unknown types are refused', () => {
  const m = msg(T.X64Halt, 40, { Header: hdr(HvInterceptAccessType.Execute) });
  m.MessageFlags.MessagePending = true;
  assert.equal(encodeHvMessage(m)[5], 1);
  assert.equal(interceptPayloadSize(T.X64IoPortIntercept), 128);
  assert.equal(interceptPayloadSize(T.TimerExpired), undefined);
  assert.throws(() => decodeHvMessage(vec(256, [[0, '10 00 00 80']])), RangeError);
});

test('every WHP exit with an HV form converts to the matching message type and access type', () => {
  const VP = { ExecutionState: executionState(0x14), InstructionLength: 1, Cr8: 0, Cs: whvSegment(0n, 0xFFFFFFFF, 8, 0xA09B), Rip: 0x1000n, Rflags: 2n };
  const extra: InterceptExtraState = { Ds: DS, Ss: DS, Gprs: Object.fromEntries(['Rax', 'Rcx', 'Rdx', 'Rbx', 'Rsp', 'Rbp', 'Rsi', 'Rdi', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'].map((n) => [n, 0n])) as InterceptExtraState['Gprs'] };
  const cases: [RunVpExitContext, T | undefined, number?][] = [
    [{ ExitReason: X.X64IoPortAccess, VpContext: VP, IoPortAccess: { InstructionByteCount: 0, InstructionBytes: new Uint8Array(16), AccessInfo: { IsWrite: true, AccessSize: 1, StringOp: false, RepPrefix: false, AsUINT32: 3 }, PortNumber: 0xF4, Rax: 0n, Rcx: 0n, Rsi: 0n, Rdi: 0n, Ds: DS, Es: DS } }, T.X64IoPortIntercept, 1],
    [{ ExitReason: X.MemoryAccess, VpContext: VP, MemoryAccess: { InstructionByteCount: 0, InstructionBytes: new Uint8Array(16), AccessInfo: { AccessType: 0, GpaUnmapped: false, GvaValid: false, AsUINT32: 0 }, Gpa: 0n, Gva: 0n } }, T.GpaIntercept, 0],
    [{ ExitReason: X.X64Halt, VpContext: VP }, T.X64Halt, 2],
    [{ ExitReason: X.X64ApicEoi, VpContext: VP, ApicEoi: { InterruptVector: 0x20 } }, T.X64ApicEoi],
    [{ ExitReason: X.Canceled, VpContext: VP, CancelReason: { CancelReason: 0 } }, undefined],
    [{ ExitReason: X.None, VpContext: VP }, undefined],
  ];
  for (const [exit, type, access] of cases) {
    const m = interceptMessageFromExit(exit, 0, 1n, extra);
    assert.equal(m?.MessageType, type);
    if (m && access !== undefined) assert.equal((m.Payload as { Header: HvX64InterceptMessageHeader }).Header.InterceptAccessType, access);
    if (m) assert.deepEqual(decodeHvMessage(encodeHvMessage(m)), m);
  }
});
