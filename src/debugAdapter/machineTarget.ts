// The VpTarget the adapter uses: src/machine's Machine (partition + devices + image +
// symbols) configured from a validated launch configuration.
import { Machine } from '../machine/machine';
import { HvRegisterName, HvStatus, WhvRunVpExitReason } from '../partition/hvdef';
import type { RunVpExitContext } from '../partition/exitContext';
import { u64Value } from '../partition/registerValue';
import { Symbols } from '../machine/symbols/symbols';
import { readFileSync } from 'node:fs';
import type { LaunchConfig } from './launchConfig';
import type { CpuMode, TargetWatchpoint, VpTarget } from './target';
import type { PortRange } from '../machine/devices/device';

const PAGE = 4096n;
/** Exceptions that stop when the launch configuration lists none: the ones no guest handler recovers from. */
const DEFAULT_EXCEPTION_EXITS = (1 << 8) | (1 << 18); // #DF, #MC

export function createMachineTarget(config: LaunchConfig, log: (text: string) => void): VpTarget {
  return new MachineTarget(config, log);
}

class MachineTarget implements VpTarget {
  private machine: Machine;
  private readonly serialListeners: ((bytes: Uint8Array) => void)[] = [];
  private pendingSerial: number[] = [];
  private reported: ReadonlySet<number> = new Set();
  private reportedPorts: readonly PortRange[] | undefined;
  readonly symbols: Symbols;
  readonly image: VpTarget['image'];

  constructor(private readonly config: LaunchConfig, log: (text: string) => void) {
    const entry = typeof config.entry === 'bigint' ? config.entry : undefined;
    if (entry !== undefined && entry > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`entry 0x${entry.toString(16)} is too large`);
    this.machine = new Machine({
      image: config.program,
      format: config.format,
      load: config.loadAddress === undefined ? undefined : Number(config.loadAddress),
      entry: entry === undefined ? undefined : Number(entry),
      mode: config.mode,
      commandLine: config.cmdline,
      memoryBytes: config.memoryBytes,
      processors: config.processors,
      serialOutput: (b) => { this.pendingSerial.push(b); },
    });
    let symbols = this.machine.symbols;
    if (config.symbols) {
      symbols = Symbols.fromElf(readFileSync(config.symbols), config.symbols);
      if (symbols.all().length === 0 && !symbols.hasLines) log(`vpdbg: ${config.symbols} has no symbols or line information`);
    }
    this.symbols = symbols;
    this.configure();
    const plan = this.machine.plan;
    this.image = { path: config.program, format: plan.format, entry: plan.entry, notes: plan.notes };
  }

  /** Applies the configuration's intercept settings and a symbolic entry point to a fresh machine. */
  private configure(): void {
    const p = this.machine.partition;
    if (this.config.msrExits.length) p.setMsrExits(this.config.msrExits);
    if (this.config.cpuid.length) {
      p.setCpuidResults(this.config.cpuid.map((c) => ({ Function: c.leaf, Eax: c.eax ?? 0, Ebx: c.ebx ?? 0, Ecx: c.ecx ?? 0, Edx: c.edx ?? 0 })));
    }
    if (typeof this.config.entry === 'string') {
      const a = this.symbols.lookup(this.config.entry);
      if (a === undefined) throw new RangeError(`entry: no symbol '${this.config.entry}' in the image`);
      this.machine.setRegisters(0, [HvRegisterName.Rip], [u64Value(a)]);
    }
    this.applyReported();
  }

  private applyReported(): void {
    const bitmap = this.config.exceptionExits.length ? this.config.exceptionExits.reduce((m, v) => m | (1 << v), 0) : DEFAULT_EXCEPTION_EXITS;
    this.machine.setReportedExits(this.reported, bitmap >>> 0, this.reportedPorts);
  }

  get processorCount(): number { return this.machine.processorCount; }

  private cpu(vp: number) { return this.machine.partition.virtualProcessors[vp].cpu; }

  run(vp: number, budget: number): RunVpExitContext {
    try {
      return this.machine.runVp(vp, budget);
    } finally {
      this.deliverSerial();
    }
  }

  private deliverSerial(): void {
    if (this.pendingSerial.length === 0) return;
    const bytes = Uint8Array.from(this.pendingSerial);
    this.pendingSerial = [];
    for (const l of this.serialListeners) l(bytes);
  }

  completeExit(vp: number, exit: RunVpExitContext): void {
    if (!this.completeOwnMsr(vp, exit)) this.machine.completeExit(vp, exit);
    this.deliverSerial();
  }

  /**
   * An MSR the configuration's msrExits made exit but that the CPU itself implements (EFER,
   * LSTAR...) and no device claims: after the stop it does what it would have done without
   * the intercept (the read returns the CPU's value, the write goes to the CPU).
   */
  private completeOwnMsr(vp: number, exit: RunVpExitContext): boolean {
    if (exit.ExitReason !== WhvRunVpExitReason.X64MsrAccess || this.machine.claimed(vp, exit)) return false;
    const p = this.machine.partition;
    const a = p.getPendingAccess(vp);
    const cpu = this.cpu(vp);
    if (a?.kind !== 'msr' || cpu.getMsr(a.index) === undefined) return false;
    if (a.isWrite) {
      if (cpu.setMsr(a.index, a.value)) p.completeMsrAccess(vp); else p.injectException(vp, 13, 0);
    } else {
      p.completeMsrAccess(vp, cpu.getMsr(a.index));
    }
    return true;
  }

  abandonExit(vp: number, exit: RunVpExitContext): void {
    if (exit.ExitReason === WhvRunVpExitReason.Exception) this.machine.partition.clearPendingException(vp);
  }

  guestEnded(): { status: number; reason: string } | undefined {
    const e = this.machine.guestEnd;
    return e ? { status: e.status, reason: e.reason } : undefined;
  }

  runnable(vp: number): boolean { return this.machine.vpState(vp) === 'running'; }

  cancel(vp: number): void { this.machine.partition.cancelRunVirtualProcessor(vp); }

  setReportedExits(reasons: ReadonlySet<number>, ioPorts?: readonly PortRange[]): void {
    this.reported = new Set(reasons);
    this.reportedPorts = ioPorts;
    this.applyReported();
  }

  instructionCount(vp: number): number { return this.cpu(vp).instructionCount; }

  getRegisters(vp: number, names: readonly number[]): Uint8Array[] {
    const p = this.machine.partition;
    const r = p.getVpRegisters(p.id, vp, 0, names);
    if (r.status !== HvStatus.Success) {
      const bad = names[r.repsCompleted];
      throw new RangeError(`GetVpRegisters failed at ${HvRegisterName[bad] ?? `0x${bad?.toString(16)}`}: ${HvStatus[r.status] ?? r.status}`);
    }
    return r.values;
  }

  setRegisters(vp: number, names: readonly number[], values: readonly Uint8Array[]): void {
    const p = this.machine.partition;
    const r = p.setVpRegisters(p.id, vp, 0, names, values);
    if (r.status !== HvStatus.Success) {
      const bad = names[r.repsCompleted];
      throw new RangeError(`SetVpRegisters refused ${HvRegisterName[bad] ?? bad}: ${HvStatus[r.status] ?? r.status} (the value is not valid for this register in the current state)`);
    }
  }

  mode(vp: number): CpuMode { return this.cpu(vp).getMode(); }

  /** Copies page by page, translating each; stops at the first byte with no mapping. */
  private copyVirtual(vp: number, address: bigint, buf: Uint8Array, write: boolean): number {
    let done = 0;
    while (done < buf.length) {
      const va = (address + BigInt(done)) & ((1n << 64n) - 1n);
      const chunk = Math.min(buf.length - done, Number(PAGE - (va & (PAGE - 1n))));
      const pa = this.cpu(vp).translate(va, write ? 1 : 0, true);
      if (pa === undefined) break;
      const part = buf.subarray(done, done + chunk);
      const n = this.copyPhysical(pa, part, write);
      done += n;
      if (n < chunk) break;
    }
    return done;
  }

  private copyPhysical(gpa: bigint, buf: Uint8Array, write: boolean): number {
    const mem = this.machine.partition.memory;
    let done = 0;
    while (done < buf.length) {
      const pa = gpa + BigInt(done);
      if (pa >= 1n << 52n) break;
      const chunk = Math.min(buf.length - done, Number(PAGE - (pa & (PAGE - 1n))));
      const part = buf.subarray(done, done + chunk);
      if (!(write ? mem.write(Number(pa), part) : mem.read(Number(pa), part))) break;
      done += chunk;
    }
    return done;
  }

  readVirtual(vp: number, address: bigint, dst: Uint8Array): number { return this.copyVirtual(vp, address, dst, false); }
  writeVirtual(vp: number, address: bigint, src: Uint8Array): number { return this.copyVirtual(vp, address, src.slice(), true); }
  readPhysical(gpa: bigint, dst: Uint8Array): number { return this.copyPhysical(gpa, dst, false); }
  writePhysical(gpa: bigint, src: Uint8Array): number { return this.copyPhysical(gpa, src.slice(), true); }

  setInstructionBreakpoints(vp: number, addresses: Iterable<bigint>): void { this.machine.partition.setInstructionBreakpoints(vp, addresses); }
  setWatchpoints(vp: number, list: readonly TargetWatchpoint[]): void { this.machine.partition.setWatchpoints(vp, list); }

  onSerial(listener: (bytes: Uint8Array) => void): void { this.serialListeners.push(listener); }
  feedSerial(bytes: Uint8Array): void { this.machine.uart.feed(bytes); }


  dispose(): void {
    this.serialListeners.length = 0;
    this.pendingSerial = [];
  }
}
