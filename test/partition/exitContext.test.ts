import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRunVpExitContext, decodeRunVpExitContext, executionState, type RunVpExitContext, type WhvVpExitContext } from '../../src/partition/exitContext';
import { WhvRunVpExitReason as X } from '../../src/partition/hvdef';
import { whvSegment } from '../../src/partition/segment';
import { vec } from './bytes';

// Common VpContext: CPL 0, CR0.PE, EFER.LMA, interrupt shadow; length 2, CR8 5; 64-bit CS 0x08; RIP 0x1234; RFLAGS 0x202.
const VP: WhvVpExitContext = {
  ExecutionState: executionState(0x1014), InstructionLength: 2, Cr8: 5,
  Cs: whvSegment(0n, 0xFFFFFFFF, 0x08, 0xA09B), Rip: 0x1234n, Rflags: 0x202n,
};
// Offsets 8..47 for VP (WHV_VP_EXIT_CONTEXT at absolute offset 8).
const VP_BYTES: [number, string][] = [
  [8, '14 10'], [10, '52'], [24, 'ff ff ff ff'], [28, '08 00'], [30, '9b a0'], [32, '34 12'], [40, '02 02'],
];
const DS = whvSegment(0x10000n, 0xFFFF, 0x10, 0x0093);
const DS_BYTES = '00 00 01 00 00 00 00 00 ff ff 00 00 10 00 93 00';
const ES = whvSegment(0n, 0xFFFFF, 0x18, 0x8093);
const ES_BYTES = '00 00 00 00 00 00 00 00 ff ff 0f 00 18 00 93 80';

function check(ctx: RunVpExitContext, expected: Uint8Array): void {
  assert.deepEqual(encodeRunVpExitContext(ctx), expected);
  assert.deepEqual(decodeRunVpExitContext(expected), ctx);
}

function ib(...b: number[]): Uint8Array { const r = new Uint8Array(16); r.set(b); return r; }

test('WHV_RUN_VP_EXIT_CONTEXT is 224 bytes; header-only reasons encode the VpContext only', () => {
  for (const r of [X.None, X.X64Halt, X.UnrecoverableException, X.InvalidVpRegisterValue]) {
    const ctx: RunVpExitContext = { ExitReason: r, VpContext: VP };
    const hexReason = [r & 0xFF, r >> 8].map((x) => x.toString(16)).join(' ');
    check(ctx, vec(224, [[0, hexReason], ...VP_BYTES]));
  }
});

test('X64IoPortAccess (string OUTSB with REP): every field at its offset', () => {
  const ctx: RunVpExitContext = {
    ExitReason: X.X64IoPortAccess, VpContext: VP,
    IoPortAccess: {
      InstructionByteCount: 2, InstructionBytes: ib(0xF3, 0x6E),
      AccessInfo: { IsWrite: true, AccessSize: 1, StringOp: true, RepPrefix: true, AsUINT32: 0x33 },
      PortNumber: 0x3F8, Rax: 0x41n, Rcx: 3n, Rsi: 0x2000n, Rdi: 0x3000n, Ds: DS, Es: ES,
    },
  };
  check(ctx, vec(224, [[0, '02'], ...VP_BYTES,
    [48, '02'], [52, 'f3 6e'], [68, '33 00 00 00'], [72, 'f8 03'], [80, '41'], [88, '03'], [96, '00 20'], [104, '00 30'],
    [112, DS_BYTES], [128, ES_BYTES]]));
});

test('X64IoPortAccess (IN AX): size 2 in bits 3:1, read', () => {
  const ctx: RunVpExitContext = {
    ExitReason: X.X64IoPortAccess, VpContext: VP,
    IoPortAccess: {
      InstructionByteCount: 0, InstructionBytes: new Uint8Array(16),
      AccessInfo: { IsWrite: false, AccessSize: 2, StringOp: false, RepPrefix: false, AsUINT32: 4 },
      PortNumber: 0x60, Rax: 0xFFFF_0000_1111_2222n, Rcx: 0n, Rsi: 0n, Rdi: 0n, Ds: DS, Es: ES,
    },
  };
  check(ctx, vec(224, [[0, '02'], ...VP_BYTES, [68, '04'], [72, '60 00'], [80, '22 22 11 11 00 00 ff ff'], [112, DS_BYTES], [128, ES_BYTES]]));
});

test('MemoryAccess: access type, GpaUnmapped, GvaValid, GPA, GVA', () => {
  const ctx: RunVpExitContext = {
    ExitReason: X.MemoryAccess, VpContext: VP,
    MemoryAccess: {
      InstructionByteCount: 3, InstructionBytes: ib(0x89, 0x48, 0x10),
      AccessInfo: { AccessType: 1, GpaUnmapped: true, GvaValid: true, AsUINT32: 0xD },
      Gpa: 0xFEE000B0n, Gva: 0xFFFF_8000_FEE0_00B0n,
    },
  };
  check(ctx, vec(224, [[0, '01'], ...VP_BYTES, [48, '03'], [52, '89 48 10'], [68, '0d'], [72, 'b0 00 e0 fe'], [80, 'b0 00 e0 fe 00 80 ff ff']]));
});

test('X64MsrAccess: AccessInfo, MsrNumber, then Rax before Rdx', () => {
  const ctx: RunVpExitContext = {
    ExitReason: X.X64MsrAccess, VpContext: VP,
    MsrAccess: { AccessInfo: { IsWrite: true, AsUINT32: 1 }, MsrNumber: 0xC0000080, Rax: 0x500n, Rdx: 0x1n },
  };
  check(ctx, vec(224, [[0, '00 10'], ...VP_BYTES, [48, '01'], [52, '80 00 00 c0'], [56, '00 05'], [64, '01']]));
});

test('X64Cpuid: Rax, Rcx, Rdx, Rbx then the four default results', () => {
  const ctx: RunVpExitContext = {
    ExitReason: X.X64Cpuid, VpContext: VP,
    CpuidAccess: { Rax: 0x40000000n, Rcx: 0n, Rdx: 0xDn, Rbx: 0xBn, DefaultResultRax: 0x40000006n, DefaultResultRcx: 0x666F736Fn, DefaultResultRdx: 0x76482074n, DefaultResultRbx: 0x7263694Dn },
  };
  check(ctx, vec(224, [[0, '01 10'], ...VP_BYTES, [48, '00 00 00 40'], [64, '0d'], [72, '0b'],
    [80, '06 00 00 40'], [88, '6f 73 6f 66'], [96, '74 20 48 76'], [104, '4d 69 63 72']]));
});

test('Exception: ExceptionInfo, ExceptionType at 24, ErrorCode at 28, parameter at 32', () => {
  const ctx: RunVpExitContext = {
    ExitReason: X.Exception, VpContext: VP,
    VpException: {
      InstructionByteCount: 2, InstructionBytes: ib(0x8B, 0x03),
      ExceptionInfo: { ErrorCodeValid: true, SoftwareException: false, AsUINT32: 1 },
      ExceptionType: 14, ErrorCode: 0x2, ExceptionParameter: 0xDEAD000n,
    },
  };
  check(ctx, vec(224, [[0, '02 10'], ...VP_BYTES, [48, '02'], [52, '8b 03'], [68, '01'], [72, '0e'], [76, '02'], [80, '00 d0 ea 0d']]));
});

test('small members: InterruptWindow, UnsupportedFeature, Canceled, X64ApicEoi', () => {
  check({ ExitReason: X.X64InterruptWindow, VpContext: VP, InterruptWindow: { DeliverableType: 2 } }, vec(224, [[0, '07'], ...VP_BYTES, [48, '02']]));
  check({ ExitReason: X.UnsupportedFeature, VpContext: VP, UnsupportedFeature: { FeatureCode: 2, FeatureParameter: 0x1234n } },
    vec(224, [[0, '06'], ...VP_BYTES, [48, '02'], [56, '34 12']]));
  check({ ExitReason: X.Canceled, VpContext: VP, CancelReason: { CancelReason: 0 } }, vec(224, [[0, '01 20'], ...VP_BYTES]));
  check({ ExitReason: X.X64ApicEoi, VpContext: VP, ApicEoi: { InterruptVector: 0x31 } }, vec(224, [[0, '09'], ...VP_BYTES, [48, '31']]));
});

test('X64Rdtsc: TscAux, VirtualOffset, Tsc, ReferenceTime, RdtscInfo', () => {
  const ctx: RunVpExitContext = {
    ExitReason: X.X64Rdtsc, VpContext: VP,
    ReadTsc: { TscAux: 7n, VirtualOffset: 0n, Tsc: 0x1_0000_0000n, ReferenceTime: 0x64n, RdtscInfo: { IsRdtscp: true, AsUINT64: 1n } },
  };
  check(ctx, vec(224, [[0, '03 10'], ...VP_BYTES, [48, '07'], [64, '00 00 00 00 01'], [72, '64'], [80, '01']]));
});

test('Hypercall: GPRs in Rax Rbx Rcx Rdx R8 Rsi Rdi order, XMM0-5 from offset 64', () => {
  const xmm = Array.from({ length: 6 }, (_, i) => ({ Low64: BigInt(0x10 + i), High64: BigInt(0x20 + i) }));
  const ctx: RunVpExitContext = {
    ExitReason: X.Hypercall, VpContext: VP,
    Hypercall: { Rax: 1n, Rbx: 2n, Rcx: 0x1_0000_0050n, Rdx: 0x3000n, R8: 0x4000n, Rsi: 6n, Rdi: 7n, XmmRegisters: xmm },
  };
  const parts: [number, string][] = [[0, '05 10'], ...VP_BYTES, [48, '01'], [56, '02'], [64, '50 00 00 00 01'], [72, '00 30'], [80, '00 40'], [88, '06'], [96, '07']];
  for (let i = 0; i < 6; i++) parts.push([112 + 16 * i, (0x10 + i).toString(16)], [120 + 16 * i, (0x20 + i).toString(16)]);
  check(ctx, vec(224, parts));
});

test('vpdbg reasons 0xF001-0xF003: breakpoint GVA, watchpoint, internal error text', () => {
  check({ ExitReason: X.VpdbgBreakpoint, VpContext: VP, Breakpoint: { Gva: 0x7C00n } }, vec(224, [[0, '01 f0'], ...VP_BYTES, [48, '00 7c']]));
  check({ ExitReason: X.VpdbgWatchpoint, VpContext: VP, Watchpoint: { Address: 0x9000n, Size: 4, AccessInfo: { IsWrite: true, Physical: true, AsUINT32: 3 } } },
    vec(224, [[0, '02 f0'], ...VP_BYTES, [48, '00 90'], [56, '04'], [60, '03']]));
  check({ ExitReason: X.VpdbgInternalError, VpContext: VP, InternalError: { Message: 'AB' } }, vec(224, [[0, '03 f0'], ...VP_BYTES, [48, '41 42']]));
  // Over-long messages are cut on a UTF-8 character boundary within the 176-byte union.
  const long = encodeRunVpExitContext({ ExitReason: X.VpdbgInternalError, VpContext: VP, InternalError: { Message: 'é'.repeat(100) } });
  assert.equal(decodeRunVpExitContext(long).InternalError!.Message, 'é'.repeat(88));
});

test('decoding rejects a short buffer; unknown reasons decode with no union member', () => {
  assert.throws(() => decodeRunVpExitContext(new Uint8Array(100)), RangeError);
  const c = decodeRunVpExitContext(vec(224, [[0, '34 12']]));
  assert.equal(c.ExitReason, 0x1234);
  assert.equal(Object.keys(c).length, 2);
});
