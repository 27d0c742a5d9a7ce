// A child partition as its root (the VMM) sees it, shaped on the Windows Hypervisor Platform
// (properties, GPA map, run -> exit context, completion) and on the Hyper-V hypercall ABI
// (Get/SetVpRegisters by HV_REGISTER_NAME, from the root and from the guest itself).
import { CpuExitReason, MemoryAccessType, Seg, type VirtualCpu, type GpaPermissions, type PortIoHandler } from '../emulator/vcpu';
import { PhysicalMemory } from '../emulator/physicalMemory';
import { Cpu } from '../emulator/cpu';
import {
  HvStatus, HvCallCode, HvInputVtl, HvPartitionPrivilege, HV_PARTITION_ID_SELF, HV_PARTITION_ID_INVALID, HV_VP_INDEX_SELF,
  HV_REGISTER_VALUE_SIZE, WhvRunVpExitReason, WhvMapGpaRangeFlags, WhvMemoryAccessType, WhvExtendedVmExit, WhvPartitionPropertyCode,
} from './hvdef';
import { type RunVpExitContext } from './exitContext';
import { buildExitContext, vpExitContext } from './exitBuilder';
import { registerRow } from './registers';
import type { HvRegisterValue } from './registerValue';
import { HypervisorState, DEFAULT_PRIVILEGES, hasPrivilege, type CpuidResult, type CpuidRegisters } from './synthetic';
import { VirtualProcessor, type EoiSource } from './virtualProcessor';
import { dispatchHypercall, type HypercallDef, type HypercallHost, type HypercallRequest } from './hypercalls';
import { invalidStateReason } from './vpState';
import { interceptMessageFromExit, EXCEPTION_MESSAGE_GPRS, type Gpr, type HvMessage } from './interceptMessage';
import { fromCpuSegment } from './segment';

/** Builds the CPU of one VP over the partition's memory. */
export type CpuFactory = (vpIndex: number, memory: PhysicalMemory) => VirtualCpu;

/** WHV_EXTENDED_VM_EXITS, the exits the VMM asked for beyond the always-on ones. */
export interface ExtendedVmExits {
  /** X64Cpuid exits for the leaves in cpuidExitLeaves. */
  cpuid: boolean;
  /** X64MsrAccess exits for the MSRs in msrExits and for MSRs nothing implements. */
  msr: boolean;
  /** Exception exits for the vectors set in exceptionExitBitmap. */
  exception: boolean;
  rdtsc: boolean;
  /** Every VMCALL surfaces as a Hypercall exit instead of being handled by the partition. */
  hypercall: boolean;
  apicEoi: boolean;
}

export interface PartitionOptions {
  /** 1..2048 (HV_MAXIMUM_PROCESSORS). */
  processorCount: number;
  /** If given, RAM is mapped read/write/execute at GPA 0..memoryBytes (page multiple). Sparse: only touched pages cost memory. */
  memoryBytes?: number;
  /** Width of the GPA space (default 48, at most 52). */
  physicalAddressWidth?: number;
  /** This partition's HV_PARTITION_ID (default 1). */
  partitionId?: bigint;
  extendedVmExits?: Partial<ExtendedVmExits>;
  /** Bit n = exit on exception vector n (needs extendedVmExits.exception). */
  exceptionExitBitmap?: number;
  /** MSRs that exit even though the CPU or the partition implements them (needs extendedVmExits.msr). */
  msrExits?: Iterable<number>;
  /** CPUID leaves that exit, or 'all' (needs extendedVmExits.cpuid). */
  cpuidExitLeaves?: Iterable<number> | 'all';
  /** WHV_X64_CPUID_RESULT list: what the guest sees for these leaves (any subleaf). */
  cpuidResults?: readonly CpuidResult[];
  /** HV_PARTITION_PRIVILEGE_MASK reported in CPUID 0x40000003 and enforced (default: hypercall MSRs, VP index, AccessVpRegisters). */
  privileges?: bigint;
  /** The CPU of each VP. Default: the emulator's Cpu. */
  createCpu?: CpuFactory;
}

export interface RunOptions {
  /** Instructions to run before returning a None exit (default DEFAULT_INSTRUCTION_BUDGET). */
  instructionBudget?: number;
}

/** Result of Get/SetVpRegisters, as a rep hypercall reports it. */
export interface VpRegistersResult {
  status: HvStatus;
  /** Elements completed before the status (absolute, counting from 0). */
  repsCompleted: number;
  /** Get only: one 16-byte HV_REGISTER_VALUE per completed name. */
  values: HvRegisterValue[];
}

/** The access an intercepted instruction makes, for VMMs that complete it without decoding. */
export type PendingAccess =
  | { kind: 'io'; port: number; size: 1 | 2 | 4; isWrite: boolean; value: number }
  | { kind: 'mmio'; gpa: number; size: number; isWrite: boolean; data: Uint8Array }
  | { kind: 'msr'; index: number; isWrite: boolean; value: bigint };

/** Who calls Get/SetVpRegisters: the root (the parent of this partition) or a guest VP through a hypercall. */
type RegisterCaller = { kind: 'parent' } | { kind: 'guest'; vp: VirtualProcessor };

const IA32_APIC_BASE = 0x1B;
const DEFAULT_APIC_BASE = 0xFEE00000n;
const XAPIC_EOI_OFFSET = 0xB0n;
const X2APIC_EOI_MSR = 0x80B;

/** A run without a budget returns a None exit after this many instructions, so a spinning guest never hangs its caller. */
export const DEFAULT_INSTRUCTION_BUDGET = 1_000_000;
const MAX_PROCESSORS = 2048;

export class Partition {
  readonly id: bigint;
  readonly processorCount: number;
  readonly memory: PhysicalMemory;
  readonly physicalAddressWidth: number;
  readonly virtualProcessors: readonly VirtualProcessor[];
  private readonly hv: HypervisorState;
  private exits: ExtendedVmExits = { cpuid: false, msr: false, exception: false, rdtsc: false, hypercall: false, apicEoi: false };
  private exceptionBitmap = 0;
  private msrExitSet = new Set<number>();
  private cpuidExitSet: Set<number> | 'all' = new Set();
  private cpuidOverrides = new Map<number, CpuidResult>();
  private privilegeMask: bigint;
  private readonly hypercalls: ReadonlyMap<number, HypercallDef>;

  constructor(options: PartitionOptions) {
    const n = options.processorCount;
    if (!Number.isInteger(n) || n < 1 || n > MAX_PROCESSORS) throw new RangeError(`processorCount must be 1..${MAX_PROCESSORS}, got ${n}`);
    const width = options.physicalAddressWidth ?? 48;
    if (!Number.isInteger(width) || width < 32 || width > 52) throw new RangeError(`physicalAddressWidth must be 32..52, got ${width}`);
    const id = options.partitionId ?? 1n;
    if (id === HV_PARTITION_ID_INVALID || id === HV_PARTITION_ID_SELF) throw new RangeError('partitionId must not be 0 (invalid) or HV_PARTITION_ID_SELF');
    this.id = id;
    this.processorCount = n;
    this.physicalAddressWidth = width;
    this.memory = new PhysicalMemory();
    this.privilegeMask = options.privileges ?? DEFAULT_PRIVILEGES;
    this.hv = new HypervisorState(this.memory, 2 ** width, () => this.privilegeMask, n, width);
    if (options.memoryBytes !== undefined) this.mapGpaRange(0, options.memoryBytes, WhvMapGpaRangeFlags.Read | WhvMapGpaRangeFlags.Write | WhvMapGpaRangeFlags.Execute);
    const factory = options.createCpu ?? defaultCpuFactory;
    this.virtualProcessors = Array.from({ length: n }, (_, i) => new VirtualProcessor(i, factory(i, this.memory), this.hv));
    this.hypercalls = new Map(this.hypercallTable().map((d) => [d.code, d]));
    this.setExtendedVmExits(options.extendedVmExits ?? {});
    if (options.exceptionExitBitmap !== undefined) this.setExceptionExitBitmap(options.exceptionExitBitmap);
    if (options.msrExits) this.setMsrExits(options.msrExits);
    if (options.cpuidExitLeaves) this.setCpuidExitLeaves(options.cpuidExitLeaves);
    if (options.cpuidResults) this.setCpuidResults(options.cpuidResults);
  }

  // ---- properties -------------------------------------------------------------------------

  get extendedVmExits(): Readonly<ExtendedVmExits> { return { ...this.exits }; }
  get exceptionExitBitmap(): number { return this.exceptionBitmap; }
  get msrExits(): readonly number[] { return [...this.msrExitSet]; }
  get cpuidExitLeaves(): readonly number[] | 'all' { return this.cpuidExitSet === 'all' ? 'all' : [...this.cpuidExitSet]; }
  get cpuidResults(): readonly CpuidResult[] { return [...this.cpuidOverrides.values()]; }
  get privileges(): bigint { return this.privilegeMask; }

  setExtendedVmExits(e: Partial<ExtendedVmExits>): void {
    this.exits = { ...this.exits, ...e };
    this.applyCpuConfig();
  }
  setExceptionExitBitmap(bitmap: number): void { this.exceptionBitmap = bitmap >>> 0; this.applyCpuConfig(); }
  setMsrExits(indices: Iterable<number>): void { this.msrExitSet = new Set([...indices].map((i) => i >>> 0)); this.applyCpuConfig(); }
  setCpuidExitLeaves(leaves: Iterable<number> | 'all'): void { this.cpuidExitSet = leaves === 'all' ? 'all' : new Set([...leaves].map((l) => l >>> 0)); }
  setCpuidResults(results: readonly CpuidResult[]): void { this.cpuidOverrides = new Map(results.map((r) => [r.Function >>> 0, { ...r }])); }
  setPrivileges(mask: bigint): void { this.privilegeMask = BigInt.asUintN(64, mask); }

  /**
   * WHvSetPartitionProperty for the codes this partition models: ExtendedVmExits (bigint,
   * WHV_EXTENDED_VM_EXITS bits), ExceptionExitBitmap (bigint), CpuidExitList (number[]),
   * CpuidResultList (CpuidResult[]). Anything else throws (WHV_E_UNKNOWN_PROPERTY).
   */
  setPartitionProperty(code: WhvPartitionPropertyCode, value: bigint | readonly number[] | readonly CpuidResult[]): void {
    const setter = PROPERTY_SETTERS.get(code);
    if (!setter) throw new RangeError(`partition property 0x${code.toString(16)} is not supported (WHV_E_UNKNOWN_PROPERTY)`);
    setter(this, value);
  }

  getPartitionProperty(code: WhvPartitionPropertyCode): bigint | number | readonly number[] | readonly CpuidResult[] {
    const getter = PROPERTY_GETTERS.get(code);
    if (!getter) throw new RangeError(`partition property 0x${code.toString(16)} is not supported (WHV_E_UNKNOWN_PROPERTY)`);
    return getter(this);
  }

  private applyCpuConfig(): void {
    for (const vp of this.virtualProcessors ?? []) {
      vp.cpu.setExceptionExitBitmap(this.exits.exception ? this.exceptionBitmap : 0);
      // Unknown MSRs always come to the partition: it implements the synthetic ones and injects #GP for the rest.
      vp.cpu.setMsrExits(this.exits.msr ? this.msrExitSet : [], true);
      vp.cpu.setRdtscExiting(this.exits.rdtsc);
    }
  }

  // ---- GPA map ----------------------------------------------------------------------------

  /** WHvMapGpaRange for RAM: page-aligned range, WHV_MAP_GPA_RANGE_FLAGS permissions. */
  mapGpaRange(gpa: number, size: number, flags: WhvMapGpaRangeFlags): void {
    this.checkGpaRange(gpa, size);
    this.memory.mapRam(gpa, size, permissions(flags));
  }

  /** Maps a ROM range holding `data` (default read + execute). */
  mapRom(gpa: number, data: Uint8Array, flags: WhvMapGpaRangeFlags = WhvMapGpaRangeFlags.Read | WhvMapGpaRangeFlags.Execute): void {
    this.checkGpaRange(gpa, Math.max(1, data.length));
    this.memory.mapRom(gpa, data, permissions(flags));
  }

  unmapGpaRange(gpa: number, size: number): void { this.memory.unmap(gpa, size); }

  private checkGpaRange(gpa: number, size: number): void {
    if (gpa + size > 2 ** this.physicalAddressWidth) throw new RangeError(`GPA range 0x${gpa.toString(16)}+0x${size.toString(16)} is beyond the ${this.physicalAddressWidth}-bit GPA space`);
  }

  // ---- running ----------------------------------------------------------------------------

  virtualProcessor(vpIndex: number): VirtualProcessor {
    const vp = this.virtualProcessors[vpIndex];
    if (!vp) throw new RangeError(`VP index ${vpIndex} does not exist (processor count ${this.processorCount})`);
    return vp;
  }

  /** Attaches the local interrupt controller of a VP (external interrupts, and the vector of X64ApicEoi exits). */
  setInterruptController(vpIndex: number, source: Parameters<VirtualCpu['setInterruptSource']>[0], eoi?: EoiSource): void {
    const vp = this.virtualProcessor(vpIndex);
    vp.cpu.setInterruptSource(source);
    vp.eoiSource = eoi;
  }

  /**
   * Serves port I/O in-process on every VP (vcpu.ts PortIoHandler; not a WHP call — the
   * counterpart of a KVM VMM's in-kernel I/O bus): a plain IN/OUT the handler takes retires
   * inside runVirtualProcessor without an X64IoPortAccess exit; the ports it declines exit as
   * before. undefined turns it off. A VP whose CPU lacks the in-process path (a custom
   * createCpu) keeps exiting for every access.
   */
  setPortIoHandler(handler: PortIoHandler | undefined): void {
    for (const vp of this.virtualProcessors) vp.cpu.setPortIoHandler?.(handler);
  }

  /**
   * WHvRunVirtualProcessor: runs until an exit the VMM must see, or until the budget is used
   * (reason None). CPUID, synthetic MSRs, unknown MSRs (#GP) and hypercalls that the extended
   * exits do not claim are handled here and do not end the run.
   */
  runVirtualProcessor(vpIndex: number, options: RunOptions = {}): RunVpExitContext {
    const vp = this.virtualProcessor(vpIndex);
    const cpu = vp.cpu;
    vp.pendingExit = undefined;
    if (vp.stateDirty) {
      vp.stateDirty = false;
      const why = invalidStateReason(cpu);
      vp.invalidStateReason = why;
      if (why) return { ExitReason: WhvRunVpExitReason.InvalidVpRegisterValue, VpContext: vpExitContext(cpu, 0) };
    }
    let budget = options.instructionBudget ?? DEFAULT_INSTRUCTION_BUDGET;
    for (;;) {
      const before = cpu.instructionCount;
      let reason: CpuExitReason;
      let handled: boolean | RunVpExitContext;
      try {
        reason = cpu.run(Math.max(0, budget));
        handled = this.handleInPartition(vp, reason);
      } catch (e) {
        // An emulator bug must not take the VMM down: it becomes an exit the debugger can show.
        return { ExitReason: WhvRunVpExitReason.VpdbgInternalError, VpContext: vpExitContext(cpu, 0), InternalError: { Message: `emulator error: ${e instanceof Error ? e.message : String(e)}` } };
      }
      // An exit the partition handles costs at least one unit of budget, so a guest that keeps
      // re-executing an intercepted instruction still returns to the caller.
      budget -= Math.max(handled === true ? 1 : 0, cpu.instructionCount - before);
      if (handled === true) {
        if (budget > 0) continue;
        reason = CpuExitReason.BudgetExhausted;
      } else if (handled) {
        return handled;
      }
      if (reason !== CpuExitReason.BudgetExhausted && reason !== CpuExitReason.Canceled) vp.pendingExit = reason;
      return buildExitContext(vp, reason);
    }
  }

  /** true: handled, keep running; a context: return it; false: surface the CPU exit as is. */
  private handleInPartition(vp: VirtualProcessor, reason: CpuExitReason): boolean | RunVpExitContext {
    const cpu = vp.cpu;
    switch (reason) {
      case CpuExitReason.Cpuid: {
        const { leaf, defaultEax, defaultEbx, defaultEcx, defaultEdx } = cpu.exit.cpuid;
        const result = this.cpuidResult(leaf, [defaultEax, defaultEbx, defaultEcx, defaultEdx]);
        if (this.exits.cpuid && (this.cpuidExitSet === 'all' || this.cpuidExitSet.has(leaf >>> 0))) {
          vp.cpuidDefault = result;
          vp.pendingExit = reason;
          return this.cpuidExitContext(vp, result);
        }
        cpu.completeCpuid(...result);
        return true;
      }
      case CpuExitReason.MemoryAccess: {
        if (!this.exits.apicEoi) return false;
        const m = cpu.exit.memory;
        const apicBase = (cpu.getMsr(IA32_APIC_BASE) ?? DEFAULT_APIC_BASE) & ~0xFFFn;
        if (m.accessType === MemoryAccessType.Write && m.gpa === apicBase + XAPIC_EOI_OFFSET) return this.apicEoiExit(vp, () => cpu.completeMemoryAccess());
        return false;
      }
      case CpuExitReason.MsrAccess: {
        const { index, isWrite, value } = cpu.exit.msr;
        if (this.exits.msr && this.msrExitSet.has(index >>> 0)) return false;
        if (isWrite && index === X2APIC_EOI_MSR) {
          const eoi = this.apicEoiExit(vp, () => cpu.completeMsr());
          if (eoi) return eoi;
        }
        const current = vp.readSyntheticMsr(index);
        if (current !== undefined) {
          if (!isWrite) cpu.completeMsr(current);
          else if (vp.writeSyntheticMsr(index, value)) cpu.completeMsr();
          else cpu.injectException(13, 0);
          return true;
        }
        if (this.exits.msr) return false;
        cpu.injectException(13, 0);
        return true;
      }
      case CpuExitReason.Hypercall: {
        if (this.exits.hypercall) return false;
        return this.runHypercall(vp);
      }
      case CpuExitReason.InterruptWindow:
        // Deliverability notifications are one-shot: the exit clears the request.
        vp.deliverabilityNotifications &= ~2n;
        cpu.setInterruptWindowExiting(false);
        return false;
      case CpuExitReason.ApicEoi:
        if (this.exits.apicEoi) return false;
        cpu.skipInstruction();
        return true;
      default:
        return false;
    }
  }

  /** With the ApicEoi exit on and an APIC model attached: performs the EOI, completes the write and reports X64ApicEoi. */
  private apicEoiExit(vp: VirtualProcessor, complete: () => void): RunVpExitContext | false {
    if (!this.exits.apicEoi || !vp.eoiSource) return false;
    const c: RunVpExitContext = {
      ExitReason: WhvRunVpExitReason.X64ApicEoi,
      VpContext: vpExitContext(vp.cpu, vp.cpu.exit.instructionLength),
      ApicEoi: { InterruptVector: vp.eoiSource.eoi() >>> 0 },
    };
    complete();
    return c;
  }

  /** CPUID result the guest sees: CPU defaults, the hypervisor leaves, then CpuidResultList overrides. */
  cpuidResult(leaf: number, defaults: CpuidRegisters): CpuidRegisters {
    const o = this.cpuidOverrides.get(leaf >>> 0);
    if (o) return [o.Eax >>> 0, o.Ebx >>> 0, o.Ecx >>> 0, o.Edx >>> 0];
    return this.hv.cpuid(leaf >>> 0, defaults);
  }

  private cpuidExitContext(vp: VirtualProcessor, result: CpuidRegisters): RunVpExitContext {
    const cpu = vp.cpu;
    return {
      ExitReason: WhvRunVpExitReason.X64Cpuid,
      VpContext: vpExitContext(cpu, cpu.exit.instructionLength),
      CpuidAccess: {
        Rax: cpu.getGpr(0), Rcx: cpu.getGpr(1), Rdx: cpu.getGpr(2), Rbx: cpu.getGpr(3),
        DefaultResultRax: BigInt(result[0]), DefaultResultRcx: BigInt(result[2]), DefaultResultRdx: BigInt(result[3]), DefaultResultRbx: BigInt(result[1]),
      },
    };
  }

  private runHypercall(vp: VirtualProcessor): true | RunVpExitContext {
    const outcome = this.withHypercallVp(vp, () => dispatchHypercall(this.hypercallHost(vp)));
    if (outcome.kind === 'completed') return true;
    // A parameter page the guest cannot reach: the VMM gets a memory intercept at the VMCALL, which stays pending.
    const cpu = vp.cpu;
    const { gpa, isWrite } = outcome.intercept;
    vp.pendingExit = undefined;
    const unmapped = this.memory.lookup(gpa) === undefined;
    const accessType = isWrite ? WhvMemoryAccessType.Write : WhvMemoryAccessType.Read;
    const bytes = new Uint8Array(16);
    bytes.set(cpu.exit.instructionBytes.subarray(0, 16));
    return {
      ExitReason: WhvRunVpExitReason.MemoryAccess,
      VpContext: vpExitContext(cpu, cpu.exit.instructionLength),
      MemoryAccess: {
        InstructionByteCount: Math.min(16, cpu.exit.instructionBytes.length), InstructionBytes: bytes,
        AccessInfo: { AccessType: accessType, GpaUnmapped: unmapped, GvaValid: false, AsUINT32: accessType | (unmapped ? 4 : 0) },
        Gpa: BigInt(gpa), Gva: 0n,
      },
    };
  }

  private hypercallHost(vp: VirtualProcessor): HypercallHost {
    const memory = this.memory;
    return {
      cpu: vp.cpu,
      gpaLimit: 2 ** this.physicalAddressWidth,
      readGpa: (gpa, dst) => readable(memory, gpa, dst.length) && memory.read(gpa, dst),
      canWriteGpa: (gpa, size) => writable(memory, gpa, size),
      writeGpa: (gpa, src) => memory.write(gpa, src),
      lookupCall: (code) => this.hypercalls.get(code),
    };
  }

  private hypercallTable(): HypercallDef[] {
    const header = (req: HypercallRequest) => ({
      partitionId: req.input.u64(0), vpIndex: req.input.u32(8), vtl: req.input.u8(12), rsvd: req.input.u8(13) | req.input.u16(14),
    });
    const caller = (vp: VirtualProcessor): RegisterCaller => ({ kind: 'guest', vp });
    return [
      {
        code: HvCallCode.GetVpRegisters, rep: true, headerSize: 16, inputElementSize: 4, outputElementSize: 16,
        run: (req) => {
          const h = header(req);
          const vp = this.currentHypercallVp!;
          if (h.rsvd !== 0) return { status: HvStatus.InvalidParameter, repsCompleted: req.repStart };
          const names = Array.from({ length: req.repCount }, (_, i) => req.input.u32(16 + 4 * i));
          const r = this.getRegisters(caller(vp), h.partitionId, h.vpIndex, h.vtl, names, req.repStart);
          r.values.forEach((v, i) => req.output.set(v, (req.repStart + i) * HV_REGISTER_VALUE_SIZE));
          return r;
        },
      },
      {
        code: HvCallCode.SetVpRegisters, rep: true, headerSize: 16, inputElementSize: 32, outputElementSize: 0,
        run: (req) => {
          const h = header(req);
          const vp = this.currentHypercallVp!;
          if (h.rsvd !== 0) return { status: HvStatus.InvalidParameter, repsCompleted: req.repStart };
          const names: number[] = [];
          const values: HvRegisterValue[] = [];
          const reserved: boolean[] = [];
          for (let i = 0; i < req.repCount; i++) {
            const off = 16 + 32 * i;
            names.push(req.input.u32(off));
            // HV_REGISTER_ASSOC bytes 4..15 are RsvdZ.
            reserved.push(req.input.u32(off + 4) !== 0 || req.input.u64(off + 8) !== 0n);
            values.push(req.input.slice(off + 16, 16));
          }
          return this.setRegisters(caller(vp), h.partitionId, h.vpIndex, h.vtl, names, values, req.repStart, reserved);
        },
      },
    ];
  }

  /** The VP whose VMCALL is being dispatched (the hypercall rows need their caller). */
  private currentHypercallVp: VirtualProcessor | undefined;

  // ---- completing an exit -------------------------------------------------------------------

  private expectExit(vpIndex: number, ...reasons: CpuExitReason[]): VirtualProcessor {
    const vp = this.virtualProcessor(vpIndex);
    if (vp.pendingExit === undefined || !reasons.includes(vp.pendingExit)) {
      throw new Error(`VP ${vpIndex} has no pending ${reasons.map((r) => CpuExitReason[r]).join('/')} exit to complete`);
    }
    vp.pendingExit = undefined;
    return vp;
  }

  /** Completes an X64IoPortAccess exit: `readValue` is what IN/INS receives (ignored for OUT). */
  completeIoPortAccess(vpIndex: number, readValue?: number): void { this.expectExit(vpIndex, CpuExitReason.IoPort).cpu.completeIo(readValue); }

  /** Completes an X64MsrAccess exit: `readValue` is what RDMSR returns (EDX:EAX). */
  completeMsrAccess(vpIndex: number, readValue?: bigint): void { this.expectExit(vpIndex, CpuExitReason.MsrAccess).cpu.completeMsr(readValue); }

  /** Completes an X64Cpuid exit; without a result the DefaultResult values are used. */
  completeCpuid(vpIndex: number, result?: { eax: number; ebx: number; ecx: number; edx: number }): void {
    const vp = this.expectExit(vpIndex, CpuExitReason.Cpuid);
    const r = result ? [result.eax, result.ebx, result.ecx, result.edx] as CpuidRegisters : vp.cpuidDefault;
    vp.cpu.completeCpuid(...r);
  }

  /** Completes a MemoryAccess (MMIO) exit: `readData` supplies a read; a write is accepted. */
  completeMemoryAccess(vpIndex: number, readData?: Uint8Array): void { this.expectExit(vpIndex, CpuExitReason.MemoryAccess).cpu.completeMemoryAccess(readData); }

  /** Completes an X64Rdtsc exit: EDX:EAX = tsc (and ECX = TSC_AUX for RDTSCP). */
  completeRdtsc(vpIndex: number, tsc: bigint, tscAux?: bigint): void {
    const vp = this.expectExit(vpIndex, CpuExitReason.Rdtsc);
    const t = BigInt.asUintN(64, tsc);
    vp.cpu.setGpr(0, t & 0xFFFF_FFFFn);
    vp.cpu.setGpr(2, t >> 32n);
    if (tscAux !== undefined) vp.cpu.setGpr(1, tscAux & 0xFFFF_FFFFn);
    vp.cpu.skipInstruction();
  }

  /**
   * Completes a Hypercall exit. With a result value, RAX = result and the VMCALL retires; without
   * one the partition runs the call itself as if the Hypercall exit were off.
   */
  completeHypercall(vpIndex: number, result?: bigint): void {
    const vp = this.expectExit(vpIndex, CpuExitReason.Hypercall);
    if (result === undefined) {
      this.withHypercallVp(vp, () => dispatchHypercall(this.hypercallHost(vp)));
      return;
    }
    vp.cpu.setGpr(0, BigInt.asUintN(64, result));
    vp.cpu.skipInstruction();
  }

  private withHypercallVp<T>(vp: VirtualProcessor, f: () => T): T {
    this.currentHypercallVp = vp;
    try { return f(); } finally { this.currentHypercallVp = undefined; }
  }

  /** Retires the intercepted instruction without doing anything else (RIP += its length). */
  skipInstruction(vpIndex: number): void {
    const vp = this.virtualProcessor(vpIndex);
    vp.pendingExit = undefined;
    vp.cpu.skipInstruction();
  }

  /** Queues an exception for delivery at the next run (e.g. #GP for a rejected MSR). */
  injectException(vpIndex: number, vector: number, errorCode?: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector > 31) throw new RangeError(`exception vector must be 0..31, got ${vector}`);
    const vp = this.virtualProcessor(vpIndex);
    vp.pendingExit = undefined;
    vp.cpu.injectException(vector, errorCode);
  }

  /** After an Exception exit: drop the exception instead of delivering it. */
  clearPendingException(vpIndex: number): void {
    const vp = this.virtualProcessor(vpIndex);
    vp.pendingExit = undefined;
    vp.cpu.clearPendingException();
  }

  /** WHvCancelRunVirtualProcessor: the running (or the next) run returns Canceled. */
  cancelRunVirtualProcessor(vpIndex: number): void { this.virtualProcessor(vpIndex).cpu.cancel(); }

  /** The access of the pending I/O, MMIO or MSR exit, with the written value/bytes. */
  getPendingAccess(vpIndex: number): PendingAccess | undefined {
    const vp = this.virtualProcessor(vpIndex);
    const x = vp.cpu.exit;
    switch (vp.pendingExit) {
      case CpuExitReason.IoPort: return { kind: 'io', port: x.io.port, size: x.io.size, isWrite: x.io.isWrite, value: x.io.value };
      case CpuExitReason.MemoryAccess: return { kind: 'mmio', gpa: Number(x.memory.gpa), size: x.memory.size, isWrite: x.memory.accessType === MemoryAccessType.Write, data: x.memory.data.slice(0, x.memory.size) };
      case CpuExitReason.MsrAccess: return { kind: 'msr', index: x.msr.index >>> 0, isWrite: x.msr.isWrite, value: x.msr.value };
      default: return undefined;
    }
  }

  /** The Hyper-V intercept message (HV_MESSAGE) equivalent to an exit of this VP, or undefined if the exit has none. */
  interceptMessage(vpIndex: number, exit: RunVpExitContext): HvMessage | undefined {
    const cpu = this.virtualProcessor(vpIndex).cpu;
    const Gprs = Object.fromEntries(EXCEPTION_MESSAGE_GPRS.map((name, i) => [name, cpu.getGpr(i)])) as Record<Gpr, bigint>;
    return interceptMessageFromExit(exit, vpIndex, this.id, { Ds: fromCpuSegment(cpu.getSegment(Seg.DS)), Ss: fromCpuSegment(cpu.getSegment(Seg.SS)), Gprs });
  }

  // ---- debugger hooks -----------------------------------------------------------------------

  setInstructionBreakpoints(vpIndex: number, addresses: Iterable<bigint>): void { this.virtualProcessor(vpIndex).cpu.setInstructionBreakpoints(addresses); }
  setWatchpoints(vpIndex: number, list: Parameters<VirtualCpu['setWatchpoints']>[0]): void { this.virtualProcessor(vpIndex).cpu.setWatchpoints(list); }

  /** WHvTranslateGva-like: guest-linear to guest-physical through the VP's current paging, no A/D updates. */
  translateGva(vpIndex: number, gva: bigint, access: WhvMemoryAccessType = WhvMemoryAccessType.Read): bigint | undefined {
    return this.virtualProcessor(vpIndex).cpu.translate(gva, access as number as MemoryAccessType, true);
  }

  // ---- Get/SetVpRegisters -------------------------------------------------------------------

  /** HvCallGetVpRegisters as the root (this partition's parent) issues it. */
  getVpRegisters(partitionId: bigint, vpIndex: number, inputVtl: number, names: readonly number[]): VpRegistersResult {
    return this.getRegisters({ kind: 'parent' }, partitionId, vpIndex, inputVtl, names, 0);
  }

  /** HvCallSetVpRegisters as the root issues it; `values[i]` (16 bytes) goes to `names[i]`. */
  setVpRegisters(partitionId: bigint, vpIndex: number, inputVtl: number, names: readonly number[], values: readonly HvRegisterValue[]): VpRegistersResult {
    if (names.length !== values.length) throw new RangeError(`setVpRegisters: ${names.length} names but ${values.length} values`);
    return this.setRegisters({ kind: 'parent' }, partitionId, vpIndex, inputVtl, names, values, 0);
  }

  /** The access rules of the seed: the parent may touch any VP; a guest only itself ("self") with AccessVpRegisters. */
  private resolveTarget(caller: RegisterCaller, partitionId: bigint, vpIndex: number, inputVtl: number): HvStatus | VirtualProcessor {
    const id = BigInt.asUintN(64, partitionId);
    if (caller.kind === 'parent') {
      // The root's own partition ("self" for the root) is not emulated.
      if (id !== this.id) return HvStatus.InvalidPartitionId;
    } else {
      // A guest is the parent of no partition: it may only name itself, and needs the privilege.
      if (id !== HV_PARTITION_ID_SELF && id !== this.id) return HvStatus.AccessDenied;
      if (!hasPrivilege(this.privilegeMask, HvPartitionPrivilege.AccessVpRegisters)) return HvStatus.AccessDenied;
    }
    // HV_INPUT_VTL: reserved bits 7:5 must be 0, and only VTL 0 exists.
    if ((inputVtl & HvInputVtl.ReservedMask) !== 0 || ((inputVtl & HvInputVtl.UseTargetVtl) !== 0 && (inputVtl & HvInputVtl.TargetVtlMask) !== 0)) return HvStatus.InvalidParameter;
    const index = vpIndex >>> 0;
    if (caller.kind === 'guest' && index === HV_VP_INDEX_SELF) return caller.vp;
    return this.virtualProcessors[index] ?? HvStatus.InvalidVpIndex;
  }

  private getRegisters(caller: RegisterCaller, partitionId: bigint, vpIndex: number, inputVtl: number, names: readonly number[], start: number): VpRegistersResult {
    const target = this.resolveTarget(caller, partitionId, vpIndex, inputVtl);
    if (!(target instanceof VirtualProcessor)) return { status: target, repsCompleted: start, values: [] };
    const values: HvRegisterValue[] = [];
    for (let i = start; i < names.length; i++) {
      const v = registerRow(names[i])?.read(target);
      // Unknown name (or not on this VP): TLFS-2.0 gives INVALID_PARAMETER (openvmm's UNKNOWN_REGISTER_NAME is not used).
      if (!v) return { status: HvStatus.InvalidParameter, repsCompleted: i, values };
      values.push(v);
    }
    return { status: HvStatus.Success, repsCompleted: names.length, values };
  }

  private setRegisters(caller: RegisterCaller, partitionId: bigint, vpIndex: number, inputVtl: number, names: readonly number[], values: readonly HvRegisterValue[], start: number, reserved?: readonly boolean[]): VpRegistersResult {
    const target = this.resolveTarget(caller, partitionId, vpIndex, inputVtl);
    if (!(target instanceof VirtualProcessor)) return { status: target, repsCompleted: start, values: [] };
    for (let i = start; i < names.length; i++) {
      const row = registerRow(names[i]);
      const v = values[i];
      // Unknown or read-only names, malformed values and illegal values: INVALID_PARAMETER (TLFS-2.0).
      if (!row?.write || reserved?.[i] || !(v instanceof Uint8Array) || v.length !== HV_REGISTER_VALUE_SIZE || row.read(target) === undefined || !row.write(target, v)) {
        return { status: HvStatus.InvalidParameter, repsCompleted: i, values: [] };
      }
      target.stateDirty = true;
    }
    return { status: HvStatus.Success, repsCompleted: names.length, values: [] };
  }
}

function permissions(flags: WhvMapGpaRangeFlags): GpaPermissions {
  return { read: (flags & WhvMapGpaRangeFlags.Read) !== 0, write: (flags & WhvMapGpaRangeFlags.Write) !== 0, execute: (flags & WhvMapGpaRangeFlags.Execute) !== 0 };
}

function everyPage(memory: PhysicalMemory, gpa: number, size: number, ok: (p: GpaPermissions) => boolean): boolean {
  for (let a = gpa - (gpa % 4096); a < gpa + size; a += 4096) {
    const m = memory.lookup(a);
    if (!m || !ok(m.permissions)) return false;
  }
  return true;
}
const readable = (m: PhysicalMemory, gpa: number, size: number) => everyPage(m, gpa, size, (p) => p.read);
const writable = (m: PhysicalMemory, gpa: number, size: number) => everyPage(m, gpa, size, (p) => p.write);

type PropertyValue = bigint | readonly number[] | readonly CpuidResult[];
const EXIT_BITS: [keyof ExtendedVmExits, WhvExtendedVmExit][] = [
  ['cpuid', WhvExtendedVmExit.X64CpuidExit], ['msr', WhvExtendedVmExit.X64MsrExit], ['exception', WhvExtendedVmExit.ExceptionExit],
  ['rdtsc', WhvExtendedVmExit.X64RdtscExit], ['hypercall', WhvExtendedVmExit.HypercallExit],
];

const PROPERTY_SETTERS = new Map<WhvPartitionPropertyCode, (p: Partition, v: PropertyValue) => void>([
  [WhvPartitionPropertyCode.ExtendedVmExits, (p, v) => {
    const bits = v as bigint;
    p.setExtendedVmExits(Object.fromEntries(EXIT_BITS.map(([k, b]) => [k, ((bits >> BigInt(b)) & 1n) !== 0n])));
  }],
  [WhvPartitionPropertyCode.ExceptionExitBitmap, (p, v) => p.setExceptionExitBitmap(Number(BigInt.asUintN(32, v as bigint)))],
  [WhvPartitionPropertyCode.CpuidExitList, (p, v) => p.setCpuidExitLeaves(v as readonly number[])],
  [WhvPartitionPropertyCode.CpuidResultList, (p, v) => p.setCpuidResults(v as readonly CpuidResult[])],
]);

const PROPERTY_GETTERS = new Map<WhvPartitionPropertyCode, (p: Partition) => bigint | number | readonly number[] | readonly CpuidResult[]>([
  [WhvPartitionPropertyCode.ExtendedVmExits, (p) => EXIT_BITS.reduce((acc, [k, b]) => (p.extendedVmExits[k] ? acc | (1n << BigInt(b)) : acc), 0n)],
  [WhvPartitionPropertyCode.ExceptionExitBitmap, (p) => BigInt(p.exceptionExitBitmap)],
  [WhvPartitionPropertyCode.CpuidExitList, (p) => { const l = p.cpuidExitLeaves; return l === 'all' ? [] : l; }],
  [WhvPartitionPropertyCode.CpuidResultList, (p) => p.cpuidResults],
  [WhvPartitionPropertyCode.ProcessorCount, (p) => p.processorCount],
  [WhvPartitionPropertyCode.PhysicalAddressWidth, (p) => p.physicalAddressWidth],
]);

function defaultCpuFactory(vpIndex: number, memory: PhysicalMemory): VirtualCpu {
  return new Cpu(memory, { vpIndex });
}

