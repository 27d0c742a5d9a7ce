// Builds a RunVpExitContext from the CPU's state after run() returned: the common VpContext,
// then the union member of the reason (one builder per reason, in a table).
import { CpuExitReason, Seg, type VirtualCpu } from '../emulator/vcpu';
import { WhvRunVpExitReason as X, WhvX64UnsupportedFeatureCode, WhvRunVpCancelReason, WhvX64PendingInterruptionType } from './hvdef';
import type { RunVpExitContext, WhvVpExitContext } from './exitContext';
import { executionState } from './exitContext';
import { fromCpuSegment } from './segment';

const EFER = 0xC0000080;
const TSC = 0x10;
const TSC_AUX = 0xC0000103;

/** What exit builders need besides the CPU. */
export interface ExitSource {
  readonly cpu: VirtualCpu;
  /** Partition reference time (100 ns units) for X64Rdtsc. */
  referenceTime(): bigint;
  /** Vector being EOI'd for X64ApicEoi (from the interrupt controller), or 0 if unknown. */
  eoiVector(): number;
}

export function vpExitContext(cpu: VirtualCpu, instructionLength: number): WhvVpExitContext {
  const cr0 = cpu.getCr(0);
  const efer = cpu.getMsr(EFER) ?? 0n;
  const bits = (cpu.getCpl() & 3) | ((cr0 & 1n) ? 0x4 : 0) | ((cr0 & (1n << 18n)) ? 0x8 : 0) | ((efer & (1n << 10n)) ? 0x10 : 0)
    | ((cpu.getDr(7) & 0xFFn) ? 0x20 : 0) | (cpu.getPendingEvent() ? 0x40 : 0) | (cpu.getInterruptShadow() ? 0x1000 : 0);
  return {
    ExecutionState: executionState(bits),
    InstructionLength: instructionLength & 0xF,
    Cr8: Number(cpu.getCr(8) & 0xFn),
    Cs: fromCpuSegment(cpu.getSegment(Seg.CS)),
    Rip: cpu.getRip(),
    Rflags: cpu.getRflags(),
  };
}

/** Instruction bytes padded to the 16-byte field. */
function bytes16(src: Uint8Array): Uint8Array {
  const b = new Uint8Array(16);
  b.set(src.subarray(0, 16));
  return b;
}

type Builder = (s: ExitSource, c: RunVpExitContext) => void;

const RDTSCP = [0x0F, 0x01, 0xF9];

const BUILDERS: ReadonlyMap<CpuExitReason, [X, Builder | undefined]> = new Map<CpuExitReason, [X, Builder | undefined]>([
  [CpuExitReason.BudgetExhausted, [X.None, undefined]],
  [CpuExitReason.IoPort, [X.X64IoPortAccess, ({ cpu }, c) => {
    const io = cpu.exit.io;
    c.IoPortAccess = {
      // WHP reports instruction bytes for string I/O only; plain IN/OUT are complete from the other fields.
      InstructionByteCount: io.isString ? Math.min(16, cpu.exit.instructionBytes.length) : 0,
      InstructionBytes: io.isString ? bytes16(cpu.exit.instructionBytes) : new Uint8Array(16),
      AccessInfo: { IsWrite: io.isWrite, AccessSize: io.size, StringOp: io.isString, RepPrefix: io.rep, AsUINT32: 0 },
      PortNumber: io.port,
      Rax: cpu.getGpr(0), Rcx: cpu.getGpr(1), Rsi: cpu.getGpr(6), Rdi: cpu.getGpr(7),
      Ds: fromCpuSegment(cpu.getSegment(io.segment)), Es: fromCpuSegment(cpu.getSegment(Seg.ES)),
    };
    const a = c.IoPortAccess.AccessInfo;
    a.AsUINT32 = (a.IsWrite ? 1 : 0) | (a.AccessSize << 1) | (a.StringOp ? 0x10 : 0) | (a.RepPrefix ? 0x20 : 0);
  }]],
  [CpuExitReason.MsrAccess, [X.X64MsrAccess, ({ cpu }, c) => {
    const m = cpu.exit.msr;
    c.MsrAccess = { AccessInfo: { IsWrite: m.isWrite, AsUINT32: m.isWrite ? 1 : 0 }, MsrNumber: m.index >>> 0, Rax: cpu.getGpr(0), Rdx: cpu.getGpr(2) };
  }]],
  [CpuExitReason.Cpuid, [X.X64Cpuid, undefined]], // built by the VP, which knows the partition's default result
  [CpuExitReason.Halt, [X.X64Halt, undefined]],
  [CpuExitReason.MemoryAccess, [X.MemoryAccess, ({ cpu }, c) => {
    const m = cpu.exit.memory;
    const info = m.accessType | (m.gpaUnmapped ? 4 : 0) | (m.gvaValid ? 8 : 0);
    c.MemoryAccess = {
      InstructionByteCount: Math.min(16, cpu.exit.instructionBytes.length), InstructionBytes: bytes16(cpu.exit.instructionBytes),
      AccessInfo: { AccessType: m.accessType, GpaUnmapped: m.gpaUnmapped, GvaValid: m.gvaValid, AsUINT32: info },
      Gpa: m.gpa, Gva: m.gvaValid ? m.gva : 0n,
    };
  }]],
  [CpuExitReason.Exception, [X.Exception, ({ cpu }, c) => {
    const e = cpu.exit.exception;
    const soft = isSoftwareException(cpu.exit.instructionBytes, e.vector);
    c.VpException = {
      InstructionByteCount: Math.min(16, cpu.exit.instructionBytes.length), InstructionBytes: bytes16(cpu.exit.instructionBytes),
      ExceptionInfo: { ErrorCodeValid: e.hasErrorCode, SoftwareException: soft, AsUINT32: (e.hasErrorCode ? 1 : 0) | (soft ? 2 : 0) },
      ExceptionType: e.vector, ErrorCode: e.hasErrorCode ? e.errorCode >>> 0 : 0, ExceptionParameter: e.parameter,
    };
  }]],
  [CpuExitReason.Hypercall, [X.Hypercall, ({ cpu }, c) => {
    const xmm = [];
    for (let i = 0; i < 6; i++) { const [Low64, High64] = cpu.getXmm(i); xmm.push({ Low64, High64 }); }
    c.Hypercall = {
      Rax: cpu.getGpr(0), Rbx: cpu.getGpr(3), Rcx: cpu.getGpr(1), Rdx: cpu.getGpr(2), R8: cpu.getGpr(8),
      Rsi: cpu.getGpr(6), Rdi: cpu.getGpr(7), XmmRegisters: xmm,
    };
  }]],
  [CpuExitReason.Rdtsc, [X.X64Rdtsc, (s, c) => {
    const b = s.cpu.exit.instructionBytes;
    const isRdtscp = RDTSCP.every((x, i) => b[b.length - 3 + i] === x);
    c.ReadTsc = {
      TscAux: s.cpu.getMsr(TSC_AUX) ?? 0n, VirtualOffset: 0n, Tsc: s.cpu.getMsr(TSC) ?? 0n, ReferenceTime: s.referenceTime(),
      RdtscInfo: { IsRdtscp: isRdtscp, AsUINT64: isRdtscp ? 1n : 0n },
    };
  }]],
  [CpuExitReason.TripleFault, [X.UnrecoverableException, undefined]],
  [CpuExitReason.UnsupportedFeature, [X.UnsupportedFeature, ({ cpu }, c) => {
    c.UnsupportedFeature = {
      FeatureCode: /task switch/i.test(cpu.exit.message) ? WhvX64UnsupportedFeatureCode.TaskSwitchTss : WhvX64UnsupportedFeatureCode.Intercept,
      FeatureParameter: 0n,
    };
  }]],
  [CpuExitReason.InterruptWindow, [X.X64InterruptWindow, (_s, c) => { c.InterruptWindow = { DeliverableType: WhvX64PendingInterruptionType.Interrupt }; }]],
  [CpuExitReason.Canceled, [X.Canceled, (_s, c) => { c.CancelReason = { CancelReason: WhvRunVpCancelReason.User }; }]],
  [CpuExitReason.Breakpoint, [X.VpdbgBreakpoint, ({ cpu }, c) => {
    c.Breakpoint = { Gva: BigInt.asUintN(64, cpu.getSegment(Seg.CS).base + cpu.getRip()) };
  }]],
  [CpuExitReason.Watchpoint, [X.VpdbgWatchpoint, ({ cpu }, c) => {
    const w = cpu.exit.watch;
    c.Watchpoint = { Address: w.address, Size: w.size, AccessInfo: { IsWrite: w.isWrite, Physical: w.physical, AsUINT32: (w.isWrite ? 1 : 0) | (w.physical ? 2 : 0) } };
  }]],
  [CpuExitReason.InternalError, [X.VpdbgInternalError, ({ cpu }, c) => { c.InternalError = { Message: cpu.exit.message }; }]],
  [CpuExitReason.ApicEoi, [X.X64ApicEoi, (s, c) => { c.ApicEoi = { InterruptVector: s.eoiVector() }; }]],
]);

/** INT n / INT3 / INTO / INT1 raise "software" exceptions: the exiting instruction ends in CD n, CC, CE or F1. */
function isSoftwareException(bytes: Uint8Array, vector: number): boolean {
  const n = bytes.length;
  if (n >= 2 && bytes[n - 2] === 0xCD) return bytes[n - 1] === vector;
  const last = bytes[n - 1];
  return (last === 0xCC && vector === 3) || (last === 0xCE && vector === 4) || (last === 0xF1 && vector === 1);
}

/** Exit reasons whose VpContext reports the length of the intercepted instruction. */
const HAS_INSTRUCTION = new Set<CpuExitReason>([
  CpuExitReason.IoPort, CpuExitReason.MsrAccess, CpuExitReason.Cpuid, CpuExitReason.MemoryAccess, CpuExitReason.Exception,
  CpuExitReason.Hypercall, CpuExitReason.Rdtsc, CpuExitReason.Halt,
]);

export function buildExitContext(s: ExitSource, reason: CpuExitReason): RunVpExitContext {
  const entry = BUILDERS.get(reason);
  const len = HAS_INSTRUCTION.has(reason) ? s.cpu.exit.instructionLength : 0;
  if (!entry) {
    return { ExitReason: X.VpdbgInternalError, VpContext: vpExitContext(s.cpu, 0), InternalError: { Message: `unknown CPU exit reason ${reason}` } };
  }
  const c: RunVpExitContext = { ExitReason: entry[0], VpContext: vpExitContext(s.cpu, len) };
  entry[1]?.(s, c);
  return c;
}
