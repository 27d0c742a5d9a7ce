// Exit-reason breakpoints: one DAP exception filter per WHV_RUN_VP_EXIT_REASON (ids are
// the seed's names without the WHvRunVpExitReason prefix) plus ModeChange, the
// condition language over the decoded exit context (descriptions: partition/exitDescription.ts).
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EvalAccessor, evaluateCondition } from './expression/evaluate';
import { ExpressionError, parseExpression } from './expression/parser';
import { WhvRunVpExitReason as R } from '../partition/hvdef';
import { exitPayload } from '../partition/exitDescription';

export interface ExitFilterDef {
  id: string;
  /** WHV_RUN_VP_EXIT_REASON code; undefined for vpdbg-only filters. */
  reason?: number;
  label: string;
  description: string;
  default: boolean;
  conditionDescription?: string;
}

export const EXIT_FILTERS: readonly ExitFilterDef[] = [
  { id: 'MemoryAccess', reason: R.MemoryAccess, label: 'Memory access (unmapped/protected GPA, MMIO)', description: 'GPA access no mapping allows, including MMIO a device handles', default: false, conditionDescription: 'e.g. Gpa >= 0xFEE00000 && AccessInfo.AccessType == 1' },
  { id: 'X64IoPortAccess', reason: R.X64IoPortAccess, label: 'I/O port access (IN/OUT)', description: 'IN, OUT, INS, OUTS — including ports a device handles', default: false, conditionDescription: 'e.g. PortNumber == 0x3f8 && AccessInfo.IsWrite' },
  { id: 'UnrecoverableException', reason: R.UnrecoverableException, label: 'Unrecoverable exception (triple fault)', description: 'Triple fault / shutdown: the VP cannot continue', default: true },
  { id: 'InvalidVpRegisterValue', reason: R.InvalidVpRegisterValue, label: 'Invalid VP register value', description: 'The VP state is invalid and cannot run', default: true },
  { id: 'UnsupportedFeature', reason: R.UnsupportedFeature, label: 'Unsupported feature', description: 'The guest used something the emulator does not model', default: true, conditionDescription: 'e.g. FeatureCode == 1' },
  { id: 'X64InterruptWindow', reason: R.X64InterruptWindow, label: 'Interrupt window', description: 'A device interrupt pending while IF=0 or in an interrupt shadow: stops where the VP can take it (after STI and its shadow), before it is delivered', default: false, conditionDescription: 'e.g. ExecutionState.Cpl == 0' },
  { id: 'X64Halt', reason: R.X64Halt, label: 'HLT', description: 'HLT with no interrupt deliverable', default: false, conditionDescription: 'e.g. Rip == 0x7c10' },
  { id: 'X64MsrAccess', reason: R.X64MsrAccess, label: 'MSR access (RDMSR/WRMSR)', description: 'RDMSR/WRMSR of an MSR in the exit set or not implemented', default: false, conditionDescription: 'e.g. MsrNumber == 0xC0000080 && AccessInfo.IsWrite' },
  { id: 'X64Cpuid', reason: R.X64Cpuid, label: 'CPUID', description: 'CPUID (the VMM supplies the result)', default: false, conditionDescription: 'e.g. Rax == 0x40000000' },
  { id: 'Exception', reason: R.Exception, label: 'Guest exception (exception exit bitmap)', description: 'An exception whose vector is in the exception-exit bitmap, before delivery', default: true, conditionDescription: 'e.g. ExceptionType == 14' },
  { id: 'Canceled', reason: R.Canceled, label: 'Canceled run', description: 'WHvCancelRunVirtualProcessor (other than the debugger\'s own pause)', default: false },
  { id: 'X64Rdtsc', reason: R.X64Rdtsc, label: 'RDTSC/RDTSCP', description: 'RDTSC/RDTSCP while rdtsc exiting is on', default: false, conditionDescription: 'e.g. RdtscInfo.IsRdtscp' },
  { id: 'X64ApicEoi', reason: R.X64ApicEoi, label: 'APIC EOI', description: 'Write to the local APIC EOI register', default: false, conditionDescription: 'e.g. InterruptVector == 0x20' },
  { id: 'Hypercall', reason: R.Hypercall, label: 'Hypercall (VMCALL)', description: 'VMCALL from CPL 0', default: false, conditionDescription: 'e.g. (Rcx & 0xffff) == 0x50' },
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
