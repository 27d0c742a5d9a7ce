// One virtual processor of a partition: its CPU plus the hypervisor-side state Hyper-V keeps
// per VP (deliverability notifications, the exit awaiting completion).
import type { CpuExitReason, VirtualCpu } from '../emulator/vcpu';
import type { RegisterTarget } from './registers';
import type { ExitSource } from './exitBuilder';
import type { CpuidRegisters, HypervisorState } from './synthetic';

/**
 * The local APIC model the machine attaches. With the ApicEoi extended exit on, the partition
 * claims the guest's EOI writes (xAPIC MMIO at APIC base + 0xB0, x2APIC MSR 0x80B), has the
 * model perform the EOI and reports the retired vector in an X64ApicEoi exit.
 */
export interface EoiSource {
  /** Performs an end-of-interrupt; returns the vector it retired (0 if none was in service). */
  eoi(): number;
}

const TSC = 0x10;
/** Nominal TSC frequency used to turn TSC ticks into 100 ns reference-time units. */
export const TSC_FREQUENCY_HZ = 1_000_000_000n;

export class VirtualProcessor implements RegisterTarget, ExitSource {
  deliverabilityNotifications = 0n;
  /** The CPU exit returned by the last run and not yet completed (undefined: none). */
  pendingExit: CpuExitReason | undefined;
  /** For a surfaced CPUID exit: what the partition would have returned. */
  cpuidDefault: CpuidRegisters = [0, 0, 0, 0];
  /** Registers were written since the last run: check the state's consistency before running. */
  stateDirty = true;
  /** Why the last run gave InvalidVpRegisterValue (WHP's exit has no payload to say it). */
  invalidStateReason: string | undefined;
  eoiSource: EoiSource | undefined;

  constructor(readonly index: number, readonly cpu: VirtualCpu, private readonly hv: HypervisorState) {}

  readSyntheticMsr(msr: number): bigint | undefined { return this.hv.readMsr(msr, this.index); }
  writeSyntheticMsr(msr: number, value: bigint): boolean {
    return this.hv.readMsr(msr, this.index) !== undefined && this.hv.writeMsr(msr, value);
  }

  /** Reference time in 100 ns units, derived from the (deterministic) TSC. */
  referenceTime(): bigint { return ((this.cpu.getMsr(TSC) ?? 0n) * 10_000_000n) / TSC_FREQUENCY_HZ; }
  eoiVector(): number { return this.eoiSource?.eoi() ?? 0; }
}
