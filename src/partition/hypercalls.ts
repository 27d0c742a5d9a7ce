// Hypercalls made by the guest (VMCALL through the hypercall page): decoding the input value,
// validating it and the parameter pages as the TLFS says, running the call, writing the
// result value. Each call is a row of HYPERCALLS; unknown codes get INVALID_HYPERCALL_CODE.
import { Seg, type VirtualCpu } from '../emulator/vcpu';
import { HvCallCode, HvStatus, HvHypercallInput as In, HvHypercallOutput as Out, HV_PAGE_SIZE } from './hvdef';
import { LayoutView } from './binary';

/** Where a call's parameters live and where its output goes (already validated). */
export interface HypercallRequest {
  /** Fixed header bytes followed by the rep elements (rep start..count), as one buffer. */
  readonly input: LayoutView;
  readonly repStart: number;
  readonly repCount: number;
  /** Output bytes for elements [0, repCount): the handler fills [repStart, done). */
  readonly output: Uint8Array;
}

export interface HypercallResult { status: HvStatus; repsCompleted: number }

/** One implemented call. */
export interface HypercallDef {
  readonly code: HvCallCode;
  readonly rep: boolean;
  readonly headerSize: number;
  readonly inputElementSize: number;
  readonly outputElementSize: number;
  run(req: HypercallRequest): HypercallResult;
}

/** What a hypercall needs from its VP and partition. */
export interface HypercallHost {
  readonly cpu: VirtualCpu;
  /** Guest-physical memory access (false: not mapped / not permitted). */
  readGpa(gpa: number, dst: Uint8Array): boolean;
  /** Whether the GPA range can take a write (mapped and writable). */
  canWriteGpa(gpa: number, size: number): boolean;
  writeGpa(gpa: number, src: Uint8Array): boolean;
  /** GPAs at or above this are outside the GPA space. */
  readonly gpaLimit: number;
  lookupCall(code: number): HypercallDef | undefined;
}

/** A hypercall that could not run because a parameter page is not accessible: the VMM sees a memory intercept. */
export interface HypercallMemoryIntercept { gpa: number; isWrite: boolean }

export type HypercallOutcome = { kind: 'completed'; status: HvStatus; repsCompleted: number } | { kind: 'memoryIntercept'; intercept: HypercallMemoryIntercept };

/** Bytes of fast-call input: RDX and R8 (no XMM input: CPUID 0x40000003 EDX bit 4 is clear). */
const FAST_INPUT_BYTES = 16;
const EFER = 0xC0000080;

/** A 64-bit caller has EFER.LMA = 1 and CS.L = 1 (TLFS); otherwise the x86 register pairs are used. */
function is64BitCaller(cpu: VirtualCpu): boolean {
  return ((cpu.getMsr(EFER) ?? 0n) & 0x400n) !== 0n && (cpu.getSegment(Seg.CS).attributes & 0x2000) !== 0;
}

const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSI = 6, RDI = 7, R8 = 8;
const lo32 = (cpu: VirtualCpu, r: number) => cpu.getGpr(r) & 0xFFFF_FFFFn;
const pair = (cpu: VirtualCpu, hi: number, lo: number) => (lo32(cpu, hi) << 32n) | lo32(cpu, lo);

/** The caller's registers for the input value, the two parameter GPAs / fast inputs, and the result. */
interface CallingConvention { control(c: VirtualCpu): bigint; param1(c: VirtualCpu): bigint; param2(c: VirtualCpu): bigint; setResult(c: VirtualCpu, v: bigint, newControl: bigint | undefined): void }

const X64: CallingConvention = {
  control: (c) => c.getGpr(RCX),
  param1: (c) => c.getGpr(RDX),
  param2: (c) => c.getGpr(R8),
  setResult: (c, v, newControl) => { c.setGpr(RAX, v); if (newControl !== undefined) c.setGpr(RCX, newControl); },
};
const X86: CallingConvention = {
  control: (c) => pair(c, RDX, RAX),
  param1: (c) => pair(c, RBX, RCX),
  param2: (c) => pair(c, RDI, RSI),
  // The result replaces EDX:EAX; a 32-bit caller keeps its input value there too, so no separate rep-start update.
  setResult: (c, v) => { c.setGpr(RAX, v & 0xFFFF_FFFFn); c.setGpr(RDX, v >> 32n); },
};

function field(v: bigint, shift: bigint, mask: bigint): number { return Number((v >> shift) & mask); }

/** Checks a memory parameter block: 8-byte aligned, inside the GPA space, not crossing a page. */
function blockStatus(gpa: bigint, size: number, gpaLimit: number): HvStatus {
  if (size === 0) return HvStatus.Success;
  if ((gpa & 7n) !== 0n || gpa + BigInt(size) > BigInt(gpaLimit)) return HvStatus.InvalidAlignment;
  // TLFS: a list crossing a page boundary is INVALID_ALIGNMENT (openvmm returns INVALID_HYPERCALL_INPUT; we follow the TLFS).
  if (Number(gpa % BigInt(HV_PAGE_SIZE)) + size > HV_PAGE_SIZE) return HvStatus.InvalidAlignment;
  return HvStatus.Success;
}

/**
 * Runs the VMCALL the CPU intercepted. On completion RAX holds the result value (RCX the
 * updated rep start for a 64-bit rep call) and the VMCALL is retired, unless the call itself
 * moved RIP (HvCallSetVpRegisters on the caller's own RIP).
 */
export function dispatchHypercall(host: HypercallHost): HypercallOutcome {
  const cpu = host.cpu;
  const cc = is64BitCaller(cpu) ? X64 : X86;
  const control = cc.control(cpu);
  const code = Number(control & In.CallCodeMask);
  const repCount = field(control, In.RepCountShift, In.RepMask);
  const repStart = field(control, In.RepStartShift, In.RepMask);
  const def = host.lookupCall(code);

  const r = evaluate(host, cc, control, def, repCount, repStart);
  if (r.kind === 'memoryIntercept') return r;
  const result = BigInt(r.status) | (BigInt(r.repsCompleted) << Out.RepsCompletedShift);
  const newControl = def?.rep ? (control & ~(In.RepMask << In.RepStartShift)) | (BigInt(r.repsCompleted) << In.RepStartShift) : undefined;
  const rip = cpu.getRip();
  cc.setResult(cpu, result, newControl);
  if (cpu.getRip() === rip) cpu.skipInstruction();
  return r;
}

function evaluate(host: HypercallHost, cc: CallingConvention, control: bigint, def: HypercallDef | undefined, repCount: number, repStart: number): HypercallOutcome {
  const fail = (status: HvStatus, repsCompleted = 0): HypercallOutcome => ({ kind: 'completed', status, repsCompleted });
  if (!def) return fail(HvStatus.InvalidHypercallCode);
  const cpu = host.cpu;
  if ((control & In.ReservedMask) !== 0n || (control & In.NestedBit) !== 0n) return fail(HvStatus.InvalidHypercallInput);
  // None of the implemented calls takes a variable header.
  if (field(control, In.VarHeadShift, In.VarHeadMask) !== 0) return fail(HvStatus.InvalidHypercallInput);
  if (def.rep ? repCount === 0 || repStart >= repCount : repCount !== 0 || repStart !== 0) return fail(HvStatus.InvalidHypercallInput);

  const count = def.rep ? repCount : 0;
  const inSize = def.headerSize + def.inputElementSize * count;
  const outSize = def.outputElementSize * count;
  const input = new Uint8Array(inSize);
  const output = new Uint8Array(outSize);
  const fast = (control & In.FastBit) !== 0n;
  let outGpa = 0n;
  if (fast) {
    // Register input only: header and elements must fit RDX:R8, and there is no fast output.
    if (inSize > FAST_INPUT_BYTES || outSize > 0) return fail(HvStatus.InvalidHypercallInput);
    const regs = new LayoutView(new Uint8Array(FAST_INPUT_BYTES));
    regs.setU64(0, cc.param1(cpu));
    regs.setU64(8, cc.param2(cpu));
    input.set(regs.bytes.subarray(0, inSize));
  } else {
    const inGpa = cc.param1(cpu);
    outGpa = cc.param2(cpu);
    const inStatus = blockStatus(inGpa, inSize, host.gpaLimit);
    if (inStatus !== HvStatus.Success) return fail(inStatus);
    const outStatus = blockStatus(outGpa, outSize, host.gpaLimit);
    if (outStatus !== HvStatus.Success) return fail(outStatus);
    // An inaccessible parameter page is the VMM's business: the hypervisor raises a memory intercept (TLFS).
    if (inSize > 0 && !host.readGpa(Number(inGpa), input)) return { kind: 'memoryIntercept', intercept: { gpa: Number(inGpa), isWrite: false } };
    if (outSize > 0 && !host.canWriteGpa(Number(outGpa), outSize)) return { kind: 'memoryIntercept', intercept: { gpa: Number(outGpa), isWrite: true } };
  }

  const r = def.run({ input: new LayoutView(input), repStart, repCount: count, output });
  if (outSize > 0 && r.repsCompleted > repStart) {
    const from = repStart * def.outputElementSize;
    host.writeGpa(Number(outGpa) + from, output.subarray(from, r.repsCompleted * def.outputElementSize));
  }
  return { kind: 'completed', status: r.status, repsCompleted: r.repsCompleted };
}
