// Human-readable views of a RunVpExitContext: the one-line description shown in stop
// events, traces and the CLI, and a plain (JSON-able, hex) form of the whole context.
// These read only the WHP-shaped context, so every front end (CLI, debug adapter) shares them.
import { WhvRunVpExitReason as R } from './hvdef';

/** A RunVpExitContext, or any object with the same field names (e.g. a decoded copy). */
export type ExitContextLike = Readonly<Record<string, any>>;

/** The union member of the exit context that holds each reason's payload. */
export const EXIT_REASON_MEMBER: Readonly<Partial<Record<R, string>>> = {
  [R.MemoryAccess]: 'MemoryAccess',
  [R.X64IoPortAccess]: 'IoPortAccess',
  [R.UnsupportedFeature]: 'UnsupportedFeature',
  [R.X64InterruptWindow]: 'InterruptWindow',
  [R.X64MsrAccess]: 'MsrAccess',
  [R.X64Cpuid]: 'CpuidAccess',
  [R.Exception]: 'VpException',
  [R.Canceled]: 'CancelReason',
  [R.X64Rdtsc]: 'ReadTsc',
  [R.X64ApicEoi]: 'ApicEoi',
  [R.Hypercall]: 'Hypercall',
  [R.VpdbgBreakpoint]: 'Breakpoint',
  [R.VpdbgWatchpoint]: 'Watchpoint',
  [R.VpdbgInternalError]: 'InternalError',
};

/** The seed's name of an exit reason without the WHvRunVpExitReason prefix (e.g. X64IoPortAccess). */
export function exitReasonName(reason: number): string {
  return R[reason] ?? `ExitReason ${hex(reason)}`;
}

/** Union member holding the payload of this exit (e.g. IoPortAccess), if any. */
export function exitPayload(ctx: ExitContextLike): Record<string, unknown> | undefined {
  const member = EXIT_REASON_MEMBER[ctx.ExitReason as R];
  return member ? ctx[member] : undefined;
}

function num(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

export const EXCEPTION_NAMES: Record<number, string> = {
  0: 'DE', 1: 'DB', 2: 'NMI', 3: 'BP', 4: 'OF', 5: 'BR', 6: 'UD', 7: 'NM', 8: 'DF', 10: 'TS', 11: 'NP', 12: 'SS',
  13: 'GP', 14: 'PF', 16: 'MF', 17: 'AC', 18: 'MC', 19: 'XM', 20: 'VE', 21: 'CP',
};

const MSR_NAMES: Record<number, string> = {
  0x10: 'IA32_TIME_STAMP_COUNTER', 0x1b: 'IA32_APIC_BASE', 0x3a: 'IA32_FEATURE_CONTROL', 0x174: 'IA32_SYSENTER_CS',
  0x175: 'IA32_SYSENTER_ESP', 0x176: 'IA32_SYSENTER_EIP', 0x277: 'IA32_PAT', 0xc0000080: 'IA32_EFER', 0xc0000081: 'IA32_STAR',
  0xc0000082: 'IA32_LSTAR', 0xc0000083: 'IA32_CSTAR', 0xc0000084: 'IA32_FMASK', 0xc0000100: 'IA32_FS_BASE',
  0xc0000101: 'IA32_GS_BASE', 0xc0000102: 'IA32_KERNEL_GS_BASE', 0xc0000103: 'IA32_TSC_AUX',
  0x40000000: 'HV_X64_MSR_GUEST_OS_ID', 0x40000001: 'HV_X64_MSR_HYPERCALL', 0x40000002: 'HV_X64_MSR_VP_INDEX',
};

export function hex(v: bigint | number): string {
  const n = typeof v === 'bigint' ? v : BigInt(v);
  return '0x' + n.toString(16).toUpperCase();
}


const ACCESS = ['read', 'write', 'execute'];

/** One-line description of an exit, as shown in the stopped event and the console. */
export function describeExit(ctx: ExitContextLike): string {
  const reason = ctx.ExitReason as R;
  const id = exitReasonName(reason);
  const p: any = exitPayload(ctx) ?? {};
  const rip = hex(num(ctx.VpContext?.Rip));
  switch (reason) {
    case R.X64IoPortAccess: {
      const ai = p.AccessInfo ?? {};
      const size = Number(num(ai.AccessSize)) || 1;
      const port = hex(num(p.PortNumber));
      const bytes = `(${size} byte${size === 1 ? '' : 's'}${ai.RepPrefix ? ', REP' : ''})`;
      const mask = (1n << BigInt(size * 8)) - 1n;
      if (ai.StringOp) return `${id}: ${ai.IsWrite ? `OUTS ${port} ← [RSI ${hex(num(p.Rsi))}]` : `INS [RDI ${hex(num(p.Rdi))}] ← ${port}`} ${bytes}`;
      return `${id}: ${ai.IsWrite ? `OUT ${port} ← ${hex(num(p.Rax) & mask)}` : `IN ${port}`} ${bytes}`;
    }
    case R.X64MsrAccess: {
      const n = Number(num(p.MsrNumber));
      const name = MSR_NAMES[n] ? ` (${MSR_NAMES[n]})` : '';
      const value = ((num(p.Rdx) & 0xffffffffn) << 32n) | (num(p.Rax) & 0xffffffffn);
      return p.AccessInfo?.IsWrite ? `${id}: WRMSR ${hex(n)}${name} ← ${hex(value)}` : `${id}: RDMSR ${hex(n)}${name}`;
    }
    case R.X64Cpuid: return `${id}: CPUID leaf ${hex(num(p.Rax) & 0xffffffffn)} subleaf ${hex(num(p.Rcx) & 0xffffffffn)}`;
    case R.Exception: {
      const v = Number(num(p.ExceptionType));
      const name = EXCEPTION_NAMES[v] ? `#${EXCEPTION_NAMES[v]}` : `vector ${v}`;
      const err = p.ExceptionInfo?.ErrorCodeValid ? ` error code ${hex(num(p.ErrorCode))}` : '';
      const param = v === 14 ? ` CR2 ${hex(num(p.ExceptionParameter))}` : '';
      return `${id}: ${name} (${v})${err}${param} at RIP ${rip}`;
    }
    case R.MemoryAccess: {
      const ai = p.AccessInfo ?? {};
      const what = ACCESS[Number(num(ai.AccessType))] ?? 'access';
      const gva = ai.GvaValid ? ` (GVA ${hex(num(p.Gva))})` : '';
      return `${id}: ${what} of ${ai.GpaUnmapped ? 'unmapped' : 'protected'} GPA ${hex(num(p.Gpa))}${gva} at RIP ${rip}`;
    }
    case R.X64Halt: return `${id}: HLT at RIP ${rip}`;
    case R.Hypercall: {
      // A 64-bit caller passes the input value in RCX, a 32-bit one in EDX:EAX (TLFS).
      const long = ctx.VpContext?.ExecutionState?.EferLma && ctx.VpContext?.Cs?.Long;
      const input = long ? num(p.Rcx) : ((num(p.Rdx) & 0xffffffffn) << 32n) | (num(p.Rax) & 0xffffffffn);
      return `${id}: VMCALL call code ${hex(input & 0xffffn)} (input ${hex(input)}${long ? ' in RCX' : ' in EDX:EAX'}) at RIP ${rip}`;
    }
    case R.X64Rdtsc: return `${id}: ${p.RdtscInfo?.IsRdtscp ? 'RDTSCP' : 'RDTSC'} at RIP ${rip}`;
    case R.X64ApicEoi: return `${id}: EOI of vector ${hex(num(p.InterruptVector))}`;
    case R.X64InterruptWindow: return `${id}: interrupts deliverable at RIP ${rip}`;
    case R.UnsupportedFeature: return `${id}: feature ${num(p.FeatureCode)} parameter ${hex(num(p.FeatureParameter))} at RIP ${rip}${ctx.Message ? ` — ${ctx.Message}` : ''}`;
    case R.UnrecoverableException: return `${id}: triple fault at RIP ${rip}`;
    case R.Canceled: return `${id}: run canceled`;
    default: return `${id} at RIP ${rip}${ctx.Message ? ` — ${ctx.Message}` : ''}`;
  }
}

/** The decoded exit as plain JSON-able text (exceptionInfo details, Exit Context scope). */
export function exitToPlain(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return hex(value);
  if (typeof value === 'number') return Number.isInteger(value) ? hex(value) : value;
  if (value instanceof Uint8Array) return Array.from(value, (b) => b.toString(16).padStart(2, '0')).join(' ');
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = exitToPlain(v, depth + 1);
  return out;
}
