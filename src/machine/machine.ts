// A PC-like machine: a partition, the devices wired to its exits, the loaded image and its
// symbols, and the VMM run loop. The loop runs the virtual processors round-robin in
// instruction slices that end at the next device timer event, hands each exit a device
// claims to that device and completes it, idles halted processors until an interrupt can
// wake them (skipping virtual time), and returns every other exit — and device-handled
// exits the caller asked to see — to its caller uncompleted.
//
// Time is virtual: one retired instruction is one nanosecond, summed over processors, plus
// the time skipped while every processor waited in HLT. The same image and inputs therefore
// give the same exits, output and instruction counts on every run.

import { readFileSync } from 'node:fs';
import { Partition, type CpuFactory } from '../partition/partition';
import { HvRegisterName as R, WhvRunVpExitReason as X, WhvMemoryAccessType, WhvMapGpaRangeFlags } from '../partition/hvdef';
import type { RunVpExitContext } from '../partition/exitContext';
import { vpExitContext } from '../partition/exitBuilder';
import { segmentValue, u64Value, valueU64, type HvRegisterValue } from '../partition/registerValue';
import type { BootPlan, LoadOptions } from './loaders/bootPlan';
import { realModeState } from './loaders/bootPlan';
import { loadImageBytes } from './loaders/loadImage';
import { applyBootPlan } from './loaders/applyBootPlan';
import { ImageError } from './loaders/imageError';
import { Symbols } from './symbols/symbols';
import { DeviceBus } from './deviceBus';
import { InProcessPorts } from './inProcessPorts';
import type { Clock, Device, PortRange } from './devices/device';
import { Uart16550 } from './devices/uart16550';
import { DebugCon, DebugExit, PostPort } from './devices/debugPorts';
import { I8042 } from './devices/i8042';
import { Pic8259Pair } from './devices/pic8259';
import { Pit8254 } from './devices/pit8254';
import { LocalApicBank, type IpiKind } from './devices/localApic';
import { CmosRtc } from './devices/cmosRtc';
import { InterruptRouter } from './devices/interruptRouter';
import { HIGH_RAM_BASE, LOW_RAM_SPLIT_BYTES, MAX_RAM_BYTES, MIN_RAM_BYTES, PAGE_BYTES, highRamBytes, lowRamBytes, ramRanges } from './ramLayout';

export const DEVICE_NAMES = ['com1', 'debug-exit', 'debugcon', 'post', 'i8042', 'pic', 'pit', 'lapic', 'rtc'] as const;
export type DeviceName = (typeof DEVICE_NAMES)[number];

export const DEFAULT_MEMORY_BYTES = 128 * 2 ** 20;
/** Guest-physical address width of the machine's partition: the CPU's MAXPHYADDR (CPUID 0x80000008). */
export const PHYSICAL_ADDRESS_WIDTH = 40;
/** Largest guest RAM: what fits the address width once RAM above 3 GiB moves above 4 GiB (1023 GiB). */
export const MAX_MEMORY_BYTES = Math.min(MAX_RAM_BYTES, 2 ** PHYSICAL_ADDRESS_WIDTH - (HIGH_RAM_BASE - LOW_RAM_SPLIT_BYTES));
const RAM_FLAGS = WhvMapGpaRangeFlags.Read | WhvMapGpaRangeFlags.Write | WhvMapGpaRangeFlags.Execute;

export interface MachineOptions extends Omit<LoadOptions, 'memoryBytes'> {
  /** Path of the guest image (read from disk) ... */
  image: string;
  /** ... or its bytes, when already in memory (`image` is then only its name in messages). */
  imageData?: Uint8Array;
  memoryBytes?: number;
  processors?: number;
  /** Devices to leave out (their accesses become exits). Default: every device is on. */
  disabledDevices?: readonly DeviceName[];
  /** COM1 transmit: called with each byte the guest writes to THR. */
  serialOutput?: (byte: number) => void;
  /** debugcon (port 0xE9) output; defaults to serialOutput. */
  debugconOutput?: (byte: number) => void;
  /** Wall-clock start of the CMOS RTC, ms since the epoch (default: now). */
  rtcBaseMs?: number;
  /** Return accesses no enabled device claims to the caller instead of completing them as "nothing there". */
  reportUnclaimed?: boolean;
  /**
   * Complete IN/OUT to device ports inside the CPU's run instead of through exits (default
   * true; see inProcessPorts.ts). Off while the caller asks for I/O exits. false: every access
   * is an exit the machine completes (the slower path, for comparisons).
   */
  inProcessPorts?: boolean;
  createCpu?: CpuFactory;
}

/** A machine configuration that cannot be built (memory size, processor count, device names). */
export class MachineConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'MachineConfigError'; }
}

/** Why the guest's run ended on its own. */
export interface GuestEnd { kind: 'debug-exit' | 'reset'; status: number; reason: string }

export type MachineStop =
  /** An exit for the caller, left uncompleted: completeExit() (or the partition's completions) then run again. */
  | { kind: 'exit'; vp: number; exit: RunVpExitContext }
  /** The guest ended the run (isa-debug-exit write, reset request); `exit` is the access that did it, completed. */
  | { kind: 'ended'; vp: number; exit: RunVpExitContext; end: GuestEnd }
  /** Every processor is halted with interrupts disabled, or waits in HLT for an interrupt nothing will raise. */
  | { kind: 'halted'; waitingForInterrupt: boolean }
  /** The instruction budget of this run() call is used up. */
  | { kind: 'budget' };

type VpState = 'running' | 'waiting' | 'halted' | 'waitSipi';

const IF = 0x200n;
const IA32_TSC = 0x10;
const IA32_TSC_AUX = 0xc0000103;
const REPORTABLE_DEVICE_EXITS = new Set<number>([X.X64IoPortAccess, X.MemoryAccess, X.X64MsrAccess]);
const FATAL = new Set<number>([X.UnrecoverableException, X.InvalidVpRegisterValue, X.UnsupportedFeature, X.VpdbgInternalError]);

export class Machine {
  readonly options: MachineOptions;
  readonly plan: BootPlan;
  readonly symbols: Symbols;
  readonly memoryBytes: number;
  readonly processorCount: number;
  partition!: Partition;
  bus!: DeviceBus;
  uart!: Uart16550;
  pic!: Pic8259Pair;
  pit!: Pit8254;
  lapic!: LocalApicBank;
  rtc!: CmosRtc;
  post!: PostPort;
  private state: VpState[] = [];
  private idleNs = 0;
  /** Instructions retired before the last INIT of each VP (a CPU reset zeroes its counter). */
  private retiredBeforeReset: number[] = [];
  private reported = new Set<number>();
  private ports: InProcessPorts | undefined;
  private exceptionBitmap = 0xffffffff;
  /** The ports whose I/O exits are reported (by the exit's PortNumber); undefined: all of them. */
  private reportedPorts: Uint8Array | undefined;
  /** X64InterruptWindow is reported: the machine requests interrupt windows (updateInterruptWindow). */
  private windowExits = false;
  /** The VPs whose InterruptNotification the machine set (and may withdraw). */
  private windowRequested: boolean[] = [];
  private ended: GuestEnd | undefined;
  /**
   * What the last completeExit() answered: the value an IN, MMIO read, RDMSR or CPUID got,
   * or 'gp' when it raised #GP. For traces.
   */
  lastResult: bigint | 'gp' | undefined;
  /** The completed exit that ended the guest. */
  private endedAt: { vp: number; exit: RunVpExitContext } | undefined;
  private nextVp = 0;
  readonly clock: Clock = { now: () => this.now() };

  constructor(options: MachineOptions) {
    this.options = options;
    this.memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY_BYTES;
    this.processorCount = options.processors ?? 1;
    const file = options.image;
    if (!Number.isSafeInteger(this.memoryBytes) || this.memoryBytes < MIN_RAM_BYTES || this.memoryBytes % PAGE_BYTES) {
      throw new MachineConfigError(`memory size ${this.memoryBytes} must be a multiple of 4 KiB of at least 1 MiB`);
    }
    if (this.memoryBytes > MAX_MEMORY_BYTES) {
      throw new MachineConfigError(`memory size ${this.memoryBytes} is too large: at most ${MAX_MEMORY_BYTES / 2 ** 30} GiB fit the ${PHYSICAL_ADDRESS_WIDTH}-bit guest-physical address space (RAM above 3 GiB is mapped from 4 GiB up)`);
    }
    if (!Number.isInteger(this.processorCount) || this.processorCount < 1 || this.processorCount > 255) {
      throw new MachineConfigError(`processor count ${this.processorCount} must be 1..255 (xAPIC IDs)`);
    }
    let data = options.imageData;
    if (!data) {
      try { data = readFileSync(file); } catch (e) { throw new ImageError(file, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
    }
    this.plan = loadImageBytes(data, file, { ...options, memoryBytes: this.memoryBytes });
    let symbols: Symbols;
    try { symbols = Symbols.fromElf(data, file); } catch (e) { if (!(e instanceof ImageError)) throw e; symbols = Symbols.empty(); }
    this.symbols = symbols;
    this.build();
  }

  /** Power-on: a fresh partition and devices, the image loaded again. Also the debugger's restart. */
  reset(): void { this.build(); }

  private build(): void {
    const o = this.options;
    const n = this.processorCount;
    this.partition = new Partition({ processorCount: n, physicalAddressWidth: PHYSICAL_ADDRESS_WIDTH, createCpu: o.createCpu, extendedVmExits: { msr: true } });
    for (const r of ramRanges(this.memoryBytes)) this.partition.mapGpaRange(r.base, r.size, RAM_FLAGS);
    this.idleNs = 0;
    this.retiredBeforeReset = new Array(n).fill(0);
    this.ended = undefined;
    this.endedAt = undefined;
    this.nextVp = 0;
    this.windowRequested = new Array(n).fill(false);
    this.state = Array.from({ length: n }, (_, i) => (i === 0 ? 'running' : 'waitSipi'));

    const bus = new DeviceBus();
    const clock = this.clock;
    const out = o.serialOutput ?? (() => {});
    this.pic = bus.add(new Pic8259Pair());
    const pic = this.pic;
    this.uart = bus.add(new Uart16550('com1', 0x3f8, out, (l) => pic.setIrq(4, l)));
    bus.add(new DebugExit(0xf4, (value, status) => this.end({ kind: 'debug-exit', status, reason: `the guest wrote 0x${value.toString(16)} to the isa-debug-exit port 0xF4` })));
    bus.add(new DebugCon(0xe9, o.debugconOutput ?? out));
    this.post = bus.add(new PostPort());
    bus.add(new I8042((reason) => this.end({ kind: 'reset', status: 0, reason })));
    this.pit = bus.add(new Pit8254(clock, (l) => pic.setIrq(0, l)));
    this.lapic = bus.add(new LocalApicBank(n, clock, (from, kind, vector, dest) => this.deliverIpi(from, kind, vector, dest), (vp) => this.apicBase(vp)));
    this.rtc = bus.add(new CmosRtc(clock, o.rtcBaseMs ?? Date.now(), lowRamBytes(this.memoryBytes), highRamBytes(this.memoryBytes), (l) => pic.setIrq(8, l)));
    for (const name of o.disabledDevices ?? []) {
      const d = bus.find(name);
      if (!d) throw new MachineConfigError(`unknown device ${name} (devices: ${DEVICE_NAMES.join(', ')})`);
      d.enabled = false;
    }
    this.bus = bus;
    this.ports = o.inProcessPorts === false ? undefined : new InProcessPorts(bus, n === 1 ? undefined : () => this.runsAlone(), () => this.windowExits && this.portMadeInterruptPending());

    for (let i = 0; i < n; i++) {
      const apic = this.lapic.apics[i];
      const router = new InterruptRouter(() => (this.lapic.enabled ? apic : undefined), () => (i === 0 && pic.enabled ? pic : undefined));
      this.partition.setInterruptController(i, router, { eoi: () => apic.eoi() });
    }
    this.applyReported();
    applyBootPlan(this.partition, this.plan);
  }

  /** SetVpRegisters from the root, throwing with the register that was refused. */
  setRegisters(vp: number, names: number[], values: HvRegisterValue[]): void {
    const r = this.partition.setVpRegisters(this.partition.id, vp, 0, names, values);
    if (r.status !== 0) {
      throw new Error(`SetVpRegisters refused ${R[names[r.repsCompleted]] ?? names[r.repsCompleted]} (HV_STATUS 0x${r.status.toString(16)})`);
    }
  }

  getRegister(vp: number, name: number): bigint {
    const r = this.partition.getVpRegisters(this.partition.id, vp, 0, [name]);
    return r.status === 0 ? valueU64(r.values[0]) : 0n;
  }

  private apicBase(vp: number): bigint {
    return this.getRegister(vp, R.ApicBase) || (vp === 0 ? 0xfee00900n : 0xfee00800n);
  }

  // ---- time ---------------------------------------------------------------------------------

  /** Instructions retired by every processor since power-on. */
  instructionsRetired(): number {
    let n = 0;
    const vps = this.partition.virtualProcessors;
    for (let i = 0; i < vps.length; i++) n += vps[i].cpu.instructionCount + this.retiredBeforeReset[i];
    return n;
  }

  /** Virtual nanoseconds since power-on. */
  now(): number { return this.instructionsRetired() + this.idleNs; }

  /**
   * Skips `ns` of virtual time while processors idle in HLT. Each processor's TSC (which
   * counts its retired instructions) moves on by as much, as a constant-rate TSC would.
   */
  private idle(ns: number): void {
    this.idleNs += ns;
    for (const v of this.partition.virtualProcessors) {
      const tsc = v.cpu.getMsr(IA32_TSC);
      if (tsc !== undefined) v.cpu.setMsr(IA32_TSC, tsc + BigInt(ns));
    }
  }

  // ---- configuration --------------------------------------------------------------------------

  device(name: DeviceName): Device { return this.bus.find(name)!; }

  /**
   * Exit reasons (WHV_RUN_VP_EXIT_REASON) the caller wants returned even when the machine
   * would handle them: I/O, MMIO and MSR exits a device claims, HLT, and the optional
   * exits (CPUID, RDTSC, exceptions in `exceptionBitmap`, hypercalls, APIC EOI), which
   * are turned on in the partition only while reported. With `ioPorts`, I/O exits are
   * reported only for accesses whose PortNumber (the first port) lies in these ranges; the
   * others complete in-process or in the machine as if I/O exits were not reported (default:
   * every port).
   */
  setReportedExits(reasons: Iterable<number>, exceptionBitmap = 0xffffffff, ioPorts?: readonly PortRange[]): void {
    this.reported = new Set(reasons);
    this.exceptionBitmap = exceptionBitmap >>> 0;
    this.reportedPorts = ioPorts && portMap(ioPorts);
    this.applyReported();
  }

  private applyReported(): void {
    const r = this.reported;
    const p = this.partition;
    p.setExtendedVmExits({ msr: true, cpuid: r.has(X.X64Cpuid), rdtsc: r.has(X.X64Rdtsc), exception: r.has(X.Exception), hypercall: r.has(X.Hypercall), apicEoi: r.has(X.X64ApicEoi) });
    p.setCpuidExitLeaves('all');
    p.setExceptionExitBitmap(this.exceptionBitmap);
    const io = r.has(X.X64IoPortAccess);
    // Every port reported: no handler at all, so every access exits exactly as without one.
    this.ports?.report(io ? this.reportedPorts : undefined);
    p.setPortIoHandler(io && !this.reportedPorts ? undefined : this.ports);
    this.windowExits = r.has(X.X64InterruptWindow);
    if (!this.windowExits) {
      for (let vp = 0; vp < this.windowRequested.length; vp++) if (this.windowRequested[vp]) this.setInterruptNotification(vp, false);
    }
  }

  /**
   * While X64InterruptWindow is reported, does what a WHP VMM does with an interrupt it cannot
   * inject yet: a device interrupt is pending for a VP with IF=0 or in an interrupt shadow, so
   * it sets DeliverabilityNotifications.InterruptNotification, and the VP exits with
   * X64InterruptWindow at the first instruction boundary where it could take it (step()
   * reports that exit; the interrupt is delivered when the VP runs again). A request whose
   * interrupt went away (masked, or taken by another path) is withdrawn.
   */
  private updateInterruptWindow(vp: number): void {
    const pending = this.interruptPending(vp);
    if (this.windowRequested[vp]) {
      if (!pending) this.setInterruptNotification(vp, false);
    } else if (pending && ((this.getRegister(vp, R.Rflags) & IF) === 0n || (this.getRegister(vp, R.InterruptState) & 1n) !== 0n)) {
      this.setInterruptNotification(vp, true);
    }
  }

  /**
   * After in-process port I/O: whether an 8259 interrupt is pending for processor 0 with no
   * window requested for it (port accesses change the 8259s alone: the devices' IRQ lines
   * and the PIC's own registers; only processor 0 listens to them). Cheapest test first.
   */
  private portMadeInterruptPending(): boolean {
    return this.pic.pendingVector() >= 0 && !this.windowRequested[0] && this.interruptPending(0);
  }

  private setInterruptNotification(vp: number, on: boolean): void {
    this.setRegisters(vp, [R.DeliverabilityNotifications], [u64Value(on ? 2n : 0n)]);
    this.windowRequested[vp] = on;
  }

  /** Whether the caller asked for this exit (for I/O, for this exit's port). */
  private reports(exit: RunVpExitContext): boolean {
    const reason = exit.ExitReason;
    if (!this.reported.has(reason)) return false;
    return reason !== X.X64IoPortAccess || this.reportedPorts === undefined || this.reportedPorts[exit.IoPortAccess!.PortNumber] !== 0;
  }

  // ---- running ------------------------------------------------------------------------------

  vpState(vp: number): VpState { return this.state[vp]; }
  get guestEnd(): GuestEnd | undefined { return this.ended; }

  private end(e: GuestEnd): void { if (!this.ended) this.ended = e; }

  /** Brings devices up to now and wakes processors that wait for an interrupt that is now pending. */
  private syncDevices(): void {
    this.bus.advanceTo(this.now());
    for (let i = 0; i < this.state.length; i++) {
      if (this.state[i] === 'waiting' && this.interruptPending(i)) this.state[i] = 'running';
    }
  }

  /**
   * One processor runs, and no port access can wake another: they wait for a startup IPI,
   * halted with interrupts off, or wait in HLT for their local APIC — only processor 0 also
   * listens to the 8259s that port accesses reach.
   */
  private runsAlone(): boolean {
    let running = 0;
    for (let i = 0; i < this.state.length; i++) {
      const s = this.state[i];
      if (s === 'running') running++;
      else if (s === 'waiting' && i === 0) return false;
    }
    return running === 1;
  }

  private interruptPending(vp: number): boolean {
    const apic = this.lapic.apics[vp];
    if (this.lapic.enabled && apic.pendingVector() >= 0) return true;
    return vp === 0 && this.pic.enabled && (!this.lapic.enabled || apic.passesExtInt()) && this.pic.pendingVector() >= 0;
  }

  /** Instructions the next slice may run before a device event is due. */
  private sliceLimit(max: number): number {
    const next = this.bus.nextEventNs();
    if (next === undefined) return max;
    return Math.max(1, Math.min(max, next - this.now()));
  }

  /**
   * Runs the processors round-robin until something for the caller happens or `maxInstructions`
   * (summed over processors) have retired.
   */
  run(maxInstructions: number): MachineStop {
    if (this.ended && this.endedAt) return { kind: 'ended', ...this.endedAt, end: this.ended };
    const start = this.instructionsRetired();
    const n = this.processorCount;
    const slice = n === 1 ? 1_000_000 : 10_000;
    let idle = 0;
    // An exit the machine completes costs at least one unit of budget even when it retires
    // nothing (an injected #GP whose handler is the faulting RDMSR), so run() always returns.
    let completions = 0;
    const used = (): number => this.instructionsRetired() - start + completions;
    for (;;) {
      const left = maxInstructions - used();
      if (left <= 0) return { kind: 'budget' };
      this.syncDevices();
      let ran = false;
      for (let k = 0; k < n; k++) {
        const vp = (this.nextVp + k) % n;
        if (this.state[vp] !== 'running') continue;
        ran = true;
        const budget = this.sliceLimit(Math.min(slice, maxInstructions - used()));
        if (budget <= 0) return { kind: 'budget' };
        const before = this.instructionsRetired();
        const stop = this.step(vp, budget);
        if (stop) { this.nextVp = (vp + 1) % n; return stop; }
        if (this.instructionsRetired() === before) completions++;
        this.syncDevices();
      }
      if (!ran) {
        // Nobody can run: skip virtual time to the next device event, or report the halt.
        const waiting = this.state.some((s) => s === 'waiting');
        const next = this.bus.nextEventNs();
        if (!waiting || next === undefined) return { kind: 'halted', waitingForInterrupt: waiting };
        const skip = Math.max(1, next - this.now());
        this.idle(skip);
        // Idle time counts against the budget too, so a guest that waits for interrupts it
        // has masked (while a timer keeps ticking) still returns control to the caller.
        idle += skip;
        if (idle >= maxInstructions) return { kind: 'budget' };
      }
    }
  }

  /**
   * Runs one processor for at most `budget` instructions (the debugger's per-VP entry point).
   * Returns the exit for the caller — a None exit when the slice ended without one, or when
   * the processor is not runnable (waiting in HLT, halted, or waiting for a startup IPI).
   */
  runVp(vp: number, budget: number): RunVpExitContext {
    const none = (): RunVpExitContext => ({ ExitReason: X.None, VpContext: vpExitContext(this.partition.virtualProcessors[vp].cpu, 0) });
    const start = this.instructionsRetired();
    let idle = 0;
    let completions = 0; // as in run(): a completed exit that retires nothing still costs one
    for (;;) {
      this.syncDevices();
      const left = budget - (this.instructionsRetired() - start) - completions;
      if (left <= 0 || this.ended) return none();
      if (this.state[vp] !== 'running') {
        // A lone processor waiting for an interrupt may skip ahead to the next device event.
        const next = this.bus.nextEventNs();
        if (this.state[vp] === 'waiting' && next !== undefined && idle < budget && this.state.every((s, i) => i === vp || s !== 'running')) {
          const skip = Math.max(1, next - this.now());
          this.idle(skip);
          idle += skip;
          continue;
        }
        return none();
      }
      const before = this.instructionsRetired();
      const stop = this.step(vp, this.sliceLimit(left));
      if (stop?.kind === 'exit' || stop?.kind === 'ended') return stop.exit;
      if (this.instructionsRetired() === before) completions++;
    }
  }

  /** One partition run of `vp`; handles what the machine handles, returns a stop otherwise. */
  private step(vp: number, budget: number): MachineStop | undefined {
    if (this.windowExits) this.updateInterruptWindow(vp);
    const exit = this.partition.runVirtualProcessor(vp, { instructionBudget: budget });
    const reason = exit.ExitReason;
    if (reason === X.None) return undefined;
    if (reason === X.X64InterruptWindow && this.windowRequested[vp]) {
      // The exit has cleared the one-shot request. When the interrupt it was for has gone
      // (masked through in-process port I/O since), there is nothing to inject: run on.
      this.windowRequested[vp] = false;
      if (!this.interruptPending(vp)) return undefined;
    }
    if (reason === X.X64Halt) {
      this.state[vp] = (exit.VpContext.Rflags & IF) !== 0n ? 'waiting' : 'halted';
      if (this.state[vp] === 'waiting' && this.interruptPending(vp)) this.state[vp] = 'running';
      return this.reported.has(reason) ? { kind: 'exit', vp, exit } : undefined;
    }
    if (FATAL.has(reason) || !this.completable(reason)) return { kind: 'exit', vp, exit };
    if (this.reports(exit)) return { kind: 'exit', vp, exit };
    const failed = reason === X.X64IoPortAccess ? this.ports?.error : undefined;
    if (failed !== undefined) {
      // The device threw while serving the access in-process; it declined, and the access exited.
      this.ports!.error = undefined;
      return { kind: 'exit', vp, exit: this.deviceError(vp, exit, failed) };
    }
    if (this.options.reportUnclaimed && REPORTABLE_DEVICE_EXITS.has(reason) && !this.claimed(vp, exit)) return { kind: 'exit', vp, exit };
    let done: boolean;
    try {
      done = this.completeExit(vp, exit);
    } catch (e) {
      // A failing device model is an emulator error the caller sees as a stop, never a crash.
      return { kind: 'exit', vp, exit: this.deviceError(vp, exit, e instanceof Error ? e.message : String(e)) };
    }
    if (!done) return { kind: 'exit', vp, exit };
    if (this.ended) return { kind: 'ended', vp, exit, end: this.ended };
    return undefined;
  }

  private deviceError(vp: number, exit: RunVpExitContext, message: string): RunVpExitContext {
    return this.internalError(vp, `handling ${X[exit.ExitReason]} (${this.claimant(vp) ?? 'no device'}): ${message}`);
  }

  private internalError(vp: number, message: string): RunVpExitContext {
    return { ExitReason: X.VpdbgInternalError, VpContext: vpExitContext(this.partition.virtualProcessors[vp].cpu, 0), InternalError: { Message: message } };
  }

  private completable(reason: number): boolean {
    return reason === X.X64IoPortAccess || reason === X.MemoryAccess || reason === X.X64MsrAccess || reason === X.X64Cpuid
      || reason === X.X64Rdtsc || reason === X.Hypercall || reason === X.Exception || reason === X.X64ApicEoi || reason === X.X64InterruptWindow;
  }

  /** Whether an enabled device claims the access of this exit. */
  claimed(vp: number, exit: RunVpExitContext): boolean {
    const a = this.partition.getPendingAccess(vp);
    if (!a) return false;
    if (a.kind === 'io') return this.bus.portDevice(a.port) !== undefined;
    if (a.kind === 'mmio') return this.bus.mmioDevice(a.gpa) !== undefined;
    return exit.ExitReason === X.X64MsrAccess && this.bus.msrDevice(a.index) !== undefined;
  }

  /** Name of the enabled device that claims this exit's access, for traces. */
  claimant(vp: number): string | undefined {
    const a = this.partition.getPendingAccess(vp);
    if (!a) return undefined;
    const d = a.kind === 'io' ? this.bus.portDevice(a.port) : a.kind === 'mmio' ? this.bus.mmioDevice(a.gpa) : this.bus.msrDevice(a.index);
    return d?.name;
  }

  /**
   * Completes an exit the way the machine does without a debugger: the claiming device
   * answers; unclaimed ports and MMIO read as all ones and ignore writes; MSRs the CPU or
   * partition implements (made to exit by msrExits) act as without the exit, others raise #GP; CPUID gets the partition's result; RDTSC the virtual TSC; hypercalls run in
   * the partition; a reported exception is delivered. Returns false when the exit cannot be
   * completed (an instruction fetch from unmapped memory, a fatal exit).
   */
  completeExit(vp: number, exit: RunVpExitContext): boolean {
    this.lastResult = undefined;
    const done = this.complete(vp, exit);
    if (done && this.ended && !this.endedAt) this.endedAt = { vp, exit };
    return done;
  }

  private complete(vp: number, exit: RunVpExitContext): boolean {
    const p = this.partition;
    switch (exit.ExitReason) {
      case X.X64IoPortAccess: {
        const a = p.getPendingAccess(vp);
        if (a?.kind !== 'io') return false;
        if (a.isWrite) { this.bus.ioWrite(a.port, a.size, a.value); p.completeIoPortAccess(vp); }
        else {
          const v = this.bus.ioRead(a.port, a.size) ?? (a.size === 4 ? 0xffffffff : (1 << (a.size * 8)) - 1);
          this.lastResult = BigInt(v);
          p.completeIoPortAccess(vp, v);
        }
        return true;
      }
      case X.MemoryAccess: {
        const a = p.getPendingAccess(vp);
        if (a?.kind !== 'mmio' || exit.MemoryAccess?.AccessInfo.AccessType === WhvMemoryAccessType.Execute) return false;
        const d = this.bus.mmioDevice(a.gpa);
        if (a.isWrite) {
          let v = 0n;
          for (let i = a.data.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(a.data[i]);
          d?.mmioWrite?.(vp, a.gpa, a.size, v);
          p.completeMemoryAccess(vp);
        } else {
          const bytes = new Uint8Array(a.size).fill(0xff);
          if (d?.mmioRead) { let v = d.mmioRead(vp, a.gpa, a.size); for (let i = 0; i < a.size; i++) { bytes[i] = Number(v & 0xffn); v >>= 8n; } }
          this.lastResult = bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
          p.completeMemoryAccess(vp, bytes);
        }
        return true;
      }
      case X.X64MsrAccess: {
        const a = p.getPendingAccess(vp);
        if (a?.kind !== 'msr') return false;
        const d = this.bus.msrDevice(a.index);
        // An MSR made to exit (msrExits) that the CPU or the partition implements and no device
        // claims does what it would have done without the intercept.
        const v = p.virtualProcessors[vp];
        const own = d ? undefined : v.cpu.getMsr(a.index) !== undefined ? 'cpu' : v.readSyntheticMsr(a.index) !== undefined ? 'synthetic' : undefined;
        if (a.isWrite) {
          const ok = d ? d.wrmsr?.(vp, a.index, a.value) : own === 'cpu' ? v.cpu.setMsr(a.index, a.value) : own === 'synthetic' && v.writeSyntheticMsr(a.index, a.value);
          if (ok) p.completeMsrAccess(vp); else { p.injectException(vp, 13, 0); this.lastResult = 'gp'; }
        } else {
          const value = d ? d.rdmsr?.(vp, a.index) : own === 'cpu' ? v.cpu.getMsr(a.index) : v.readSyntheticMsr(a.index);
          if (value === undefined) { p.injectException(vp, 13, 0); this.lastResult = 'gp'; } else { p.completeMsrAccess(vp, value); this.lastResult = value; }
        }
        return true;
      }
      case X.X64Cpuid: p.completeCpuid(vp); return true;
      case X.X64Rdtsc: {
        // What RDTSC returns without the exit: the processor's own TSC (and TSC_AUX for RDTSCP).
        const cpu = p.virtualProcessors[vp].cpu;
        p.completeRdtsc(vp, cpu.getMsr(IA32_TSC) ?? 0n, exit.ReadTsc?.RdtscInfo?.IsRdtscp ? cpu.getMsr(IA32_TSC_AUX) : undefined);
        return true;
      }
      case X.Hypercall: p.completeHypercall(vp); return true;
      case X.Exception: case X.X64ApicEoi: case X.X64InterruptWindow: case X.X64Halt: case X.None: case X.Canceled:
      case X.VpdbgBreakpoint: case X.VpdbgWatchpoint:
        // Nothing to complete: an exception stays pending and is delivered on the next run; the
        // partition has already performed an APIC EOI it reports.
        return true;
      default: return false;
    }
  }

  // ---- inter-processor interrupts -------------------------------------------------------------

  private deliverIpi(from: number, kind: IpiKind, vector: number, dest: { shorthand: number; id: number; logical: boolean }): void {
    const n = this.processorCount;
    const targets: number[] = [];
    for (let i = 0; i < n; i++) {
      const hit = dest.shorthand === 1 ? i === from
        : dest.shorthand === 2 ? true
          : dest.shorthand === 3 ? i !== from
            : dest.logical ? ((this.lapic.apics[i].ldr >>> 24) & dest.id) !== 0
              : dest.id === 0xff || dest.id === 0xffffffff || dest.id === i;
      if (hit) targets.push(i);
    }
    for (const t of targets) {
      if (kind === 'fixed') this.lapic.apics[t].accept(vector);
      else if (kind === 'nmi') this.partition.injectException(t, 2);
      else if (kind === 'init' && t !== 0) {
        this.retiredBeforeReset[t] += this.partition.virtualProcessors[t].cpu.instructionCount;
        this.partition.virtualProcessors[t].cpu.reset();
        if (this.windowRequested[t]) this.setInterruptNotification(t, false);
        this.state[t] = 'waitSipi';
      } else if (kind === 'startup' && this.state[t] === 'waitSipi') {
        // The AP starts in real mode at vector * 0x1000 (CS = vector << 8, IP = 0).
        const s = realModeState(vector << 8, 0);
        this.setRegisters(t, [R.Cs, R.Rip, R.Rflags], [segmentValue(s.cs), u64Value(0n), u64Value(2n)]);
        this.state[t] = 'running';
      }
    }
  }
}

/** One byte per port, non-zero for the ports in `ranges` (clipped to the 64 Ki ports). */
function portMap(ranges: readonly PortRange[]): Uint8Array {
  const m = new Uint8Array(0x10000);
  for (const r of ranges) {
    if (!Number.isInteger(r.base) || !Number.isInteger(r.count)) throw new RangeError(`port range ${r.base}+${r.count} is not integers`);
    m.fill(1, Math.max(0, r.base), Math.min(0x10000, r.base + r.count));
  }
  return m;
}
