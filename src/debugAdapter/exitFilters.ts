// Exit-reason breakpoints: one DAP exception filter per WHV_RUN_VP_EXIT_REASON (ids are
// the seed's names without the WHvRunVpExitReason prefix) plus ModeChange, the
// condition language over the decoded exit context, and one-line descriptions of exits.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EvalAccessor, evaluateCondition } from './expression/evaluate';
import { ExpressionError, parseExpression } from './expression/parser';

export interface ExitFilterDef {
  id: string;
  /** WHV_RUN_VP_EXIT_REASON code; undefined for vpdbg-only filters. */
  reason?: number;
  /** Name of the exit context's union member that holds this reason's payload. */
  member?: string;
  label: string;
  description: string;
  default: boolean;
  conditionDescription?: string;
}

export const EXIT_FILTERS: readonly ExitFilterDef[] = [
  { id: 'MemoryAccess', reason: 0x1, member: 'MemoryAccess', label: 'Memory access (unmapped/protected GPA, MMIO)', description: 'GPA access no mapping allows, including MMIO a device handles', default: false, conditionDescription: 'e.g. Gpa >= 0xFEE00000 && AccessInfo.AccessType == 1' },
  { id: 'X64IoPortAccess', reason: 0x2, member: 'IoPortAccess', label: 'I/O port access (IN/OUT)', description: 'IN, OUT, INS, OUTS — including ports a device handles', default: false, conditionDescription: 'e.g. PortNumber == 0x3f8 && AccessInfo.IsWrite' },
  { id: 'UnrecoverableException', reason: 0x4, label: 'Unrecoverable exception (triple fault)', description: 'Triple fault / shutdown: the VP cannot continue', default: true },
  { id: 'InvalidVpRegisterValue', reason: 0x5, label: 'Invalid VP register value', description: 'The VP state is invalid and cannot run', default: true },
  { id: 'UnsupportedFeature', reason: 0x6, member: 'UnsupportedFeature', label: 'Unsupported feature', description: 'The guest used something the emulator does not model', default: true, conditionDescription: 'e.g. FeatureCode == 1' },
  { id: 'X64InterruptWindow', reason: 0x7, member: 'InterruptWindow', label: 'Interrupt window', description: 'Interrupts became deliverable while a window was requested', default: false },
  { id: 'X64Halt', reason: 0x8, label: 'HLT', description: 'HLT with no interrupt deliverable', default: false, conditionDescription: 'e.g. Rip == 0x7c10' },
  { id: 'X64MsrAccess', reason: 0x1000, member: 'MsrAccess', label: 'MSR access (RDMSR/WRMSR)', description: 'RDMSR/WRMSR of an MSR in the exit set or not implemented', default: false, conditionDescription: 'e.g. MsrNumber == 0xC0000080 && AccessInfo.IsWrite' },
  { id: 'X64Cpuid', reason: 0x1001, member: 'CpuidAccess', label: 'CPUID', description: 'CPUID (the VMM supplies the result)', default: false, conditionDescription: 'e.g. Rax == 0x40000000' },
  { id: 'Exception', reason: 0x1002, member: 'VpException', label: 'Guest exception (exception exit bitmap)', description: 'An exception whose vector is in the exception-exit bitmap, before delivery', default: true, conditionDescription: 'e.g. ExceptionType == 14' },
  { id: 'Canceled', reason: 0x2001, member: 'CancelReason', label: 'Canceled run', description: 'WHvCancelRunVirtualProcessor (other than the debugger\'s own pause)', default: false },
  { id: 'X64Rdtsc', reason: 0x1003, member: 'ReadTsc', label: 'RDTSC/RDTSCP', description: 'RDTSC/RDTSCP while rdtsc exiting is on', default: false, conditionDescription: 'e.g. RdtscInfo.IsRdtscp' },
  { id: 'X64ApicEoi', reason: 0x9, member: 'ApicEoi', label: 'APIC EOI', description: 'Write to the local APIC EOI register', default: false, conditionDescription: 'e.g. InterruptVector == 0x20' },
  { id: 'Hypercall', reason: 0x1005, member: 'Hypercall', label: 'Hypercall (VMCALL)', description: 'VMCALL from CPL 0', default: false, conditionDescription: 'e.g. (Rcx & 0xffff) == 0x50' },
  { id: 'ModeChange', label: 'Mode change (real/protected/long)', description: 'Transitions between real, protected, compatibility and 64-bit mode (like Bochs modebp)', default: false, conditionDescription: 'From/To: 0 real, 1 protected16, 2 protected32, 3 compatibility, 4 long64, 5 v8086; e.g. To == 4' },
];

export const FILTER_BY_ID = new Map(EXIT_FILTERS.map((f) => [f.id, f]));
export const FILTER_BY_REASON = new Map(EXIT_FILTERS.filter((f) => f.reason !== undefined).map((f) => [f.reason!, f]));

export function exceptionBreakpointFilters(): DebugProtocol.ExceptionBreakpointsFilter[] {
  return EXIT_FILTERS.map((f) => ({
    filter: f.id,
    label: f.label,
    description: f.description,
    default: f.default,
    supportsCondition: true,
    conditionDescription: f.conditionDescription ?? 'an expression over the decoded exit context, e.g. Rip == 0x1000',
  }));
}

export const CPU_MODES = ['real', 'protected16', 'protected32', 'compatibility', 'long64', 'v8086'] as const;

/** The exit context as the partition returns it: a plain object with WHP field names. */
export type ExitContext = Record<string, any>;

function toBig(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}

function walk(obj: unknown, path: readonly string[]): unknown {
  let cur: any = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = Object.keys(cur).find((k) => k.toLowerCase() === p.toLowerCase());
    if (key === undefined) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Union member holding the payload of this exit (e.g. IoPortAccess), if any. */
export function exitPayload(ctx: ExitContext): Record<string, unknown> | undefined {
  const f = FILTER_BY_REASON.get(ctx.ExitReason);
  return f?.member ? ctx[f.member] : undefined;
}

/**
 * Looks a dotted field up in the exit: the reason's payload first (PortNumber), then the
 * VP context (Rip, Cs.Selector, ExecutionState.Cpl), then the top level (ExitReason,
 * IoPortAccess.PortNumber). Case-insensitive. Extra fields (ModeChange From/To) come last.
 */
export function exitField(ctx: ExitContext, path: readonly string[], extra?: Record<string, unknown>): bigint | undefined {
  for (const root of [exitPayload(ctx), ctx.VpContext, ctx, extra]) {
    if (root === undefined) continue;
    const v = toBig(walk(root, path));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Field names a condition may use for this exit (for completions and error hints). */
export function exitFieldNames(ctx: ExitContext): string[] {
  const names: string[] = [];
  const add = (obj: unknown, prefix: string, depth: number): void => {
    if (obj === null || typeof obj !== 'object' || depth > 3 || obj instanceof Uint8Array || Array.isArray(obj)) return;
    for (const [k, v] of Object.entries(obj)) {
      if (toBig(v) !== undefined) names.push(prefix + k);
      else add(v, `${prefix}${k}.`, depth + 1);
    }
  };
  add(exitPayload(ctx), '', 0);
  add(ctx.VpContext, '', 0);
  return names;
}

export function exitAccessor(ctx: ExitContext, extra?: Record<string, unknown>): EvalAccessor {
  return {
    name: (path) => exitField(ctx, path, extra),
    readMemory: () => { throw new ExpressionError('exit-filter conditions cannot read memory; use the exit context fields'); },
    suggest: (path) => {
      const want = path.join('.').toLowerCase();
      return exitFieldNames(ctx).find((n) => n.toLowerCase().endsWith(want) || want.endsWith(n.toLowerCase()));
    },
  };
}

/** Checks a filter condition's syntax when the filter is set (its fields are checked at each exit). */
export function checkConditionSyntax(condition: string): string | undefined {
  try { parseExpression(condition); return undefined; } catch (e) { return (e as Error).message; }
}

export interface FilterState { enabled: boolean; condition?: string }

/** Decides whether an exit stops under the current filter settings. Condition errors stop (and say why). */
export function exitStops(filter: FilterState | undefined, ctx: ExitContext, extra?: Record<string, unknown>): { stop: boolean; error?: string } {
  if (!filter?.enabled) return { stop: false };
  if (!filter.condition) return { stop: true };
  try {
    return { stop: evaluateCondition(filter.condition, exitAccessor(ctx, extra)) };
  } catch (e) {
    return { stop: true, error: `condition '${filter.condition}' failed: ${(e as Error).message}` };
  }
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

function num(v: unknown): bigint { return toBig(v) ?? 0n; }

const ACCESS = ['read', 'write', 'execute'];

/** One-line description of an exit, as shown in the stopped event and the console. */
export function describeExit(ctx: ExitContext): string {
  const f = FILTER_BY_REASON.get(ctx.ExitReason);
  const id = f?.id ?? `ExitReason ${hex(num(ctx.ExitReason))}`;
  const p: any = exitPayload(ctx) ?? {};
  const rip = hex(num(ctx.VpContext?.Rip));
  switch (f?.id) {
    case 'X64IoPortAccess': {
      const ai = p.AccessInfo ?? {};
      const size = Number(num(ai.AccessSize)) || 1;
      const port = hex(num(p.PortNumber));
      const bytes = `(${size} byte${size === 1 ? '' : 's'}${ai.RepPrefix ? ', REP' : ''})`;
      const mask = (1n << BigInt(size * 8)) - 1n;
      if (ai.StringOp) return `${id}: ${ai.IsWrite ? `OUTS ${port} ← [RSI ${hex(num(p.Rsi))}]` : `INS [RDI ${hex(num(p.Rdi))}] ← ${port}`} ${bytes}`;
      return `${id}: ${ai.IsWrite ? `OUT ${port} ← ${hex(num(p.Rax) & mask)}` : `IN ${port}`} ${bytes}`;
    }
    case 'X64MsrAccess': {
      const n = Number(num(p.MsrNumber));
      const name = MSR_NAMES[n] ? ` (${MSR_NAMES[n]})` : '';
      const value = ((num(p.Rdx) & 0xffffffffn) << 32n) | (num(p.Rax) & 0xffffffffn);
      return p.AccessInfo?.IsWrite ? `${id}: WRMSR ${hex(n)}${name} ← ${hex(value)}` : `${id}: RDMSR ${hex(n)}${name}`;
    }
    case 'X64Cpuid': return `${id}: CPUID leaf ${hex(num(p.Rax) & 0xffffffffn)} subleaf ${hex(num(p.Rcx) & 0xffffffffn)}`;
    case 'Exception': {
      const v = Number(num(p.ExceptionType));
      const name = EXCEPTION_NAMES[v] ? `#${EXCEPTION_NAMES[v]}` : `vector ${v}`;
      const err = p.ExceptionInfo?.ErrorCodeValid ? ` error code ${hex(num(p.ErrorCode))}` : '';
      const param = v === 14 ? ` CR2 ${hex(num(p.ExceptionParameter))}` : '';
      return `${id}: ${name} (${v})${err}${param} at RIP ${rip}`;
    }
    case 'MemoryAccess': {
      const ai = p.AccessInfo ?? {};
      const what = ACCESS[Number(num(ai.AccessType))] ?? 'access';
      const gva = ai.GvaValid ? ` (GVA ${hex(num(p.Gva))})` : '';
      return `${id}: ${what} of ${ai.GpaUnmapped ? 'unmapped' : 'protected'} GPA ${hex(num(p.Gpa))}${gva} at RIP ${rip}`;
    }
    case 'X64Halt': return `${id}: HLT at RIP ${rip}`;
    case 'Hypercall': {
      // A 64-bit caller passes the input value in RCX, a 32-bit one in EDX:EAX (TLFS).
      const long = ctx.VpContext?.ExecutionState?.EferLma && ctx.VpContext?.Cs?.Long;
      const input = long ? num(p.Rcx) : ((num(p.Rdx) & 0xffffffffn) << 32n) | (num(p.Rax) & 0xffffffffn);
      return `${id}: VMCALL call code ${hex(input & 0xffffn)} (input ${hex(input)}${long ? ' in RCX' : ' in EDX:EAX'}) at RIP ${rip}`;
    }
    case 'X64Rdtsc': return `${id}: ${p.RdtscInfo?.IsRdtscp ? 'RDTSCP' : 'RDTSC'} at RIP ${rip}`;
    case 'X64ApicEoi': return `${id}: EOI of vector ${hex(num(p.InterruptVector))}`;
    case 'X64InterruptWindow': return `${id}: interrupts deliverable at RIP ${rip}`;
    case 'UnsupportedFeature': return `${id}: feature ${num(p.FeatureCode)} parameter ${hex(num(p.FeatureParameter))} at RIP ${rip}${ctx.Message ? ` — ${ctx.Message}` : ''}`;
    case 'UnrecoverableException': return `${id}: triple fault at RIP ${rip}`;
    case 'Canceled': return `${id}: run canceled`;
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
