// The session-independent controller of a machine: runs the VPs in slices (setImmediate
// between them, so DAP requests are served while the guest runs), decides which exits stop
// (exit filters, breakpoints with conditions/hit counts/logpoints, watchpoints, steps) and
// reports stops, output and the end of the guest as events. No DAP types here.
import { EventEmitter } from 'node:events';
import { WhvRunVpExitReason } from '../partition/hvdef';
import type { RunVpExitContext } from '../partition/exitContext';
import { HvRegisterName } from '../partition/hvdef';
import { exitStops, FILTER_BY_ID, FILTER_BY_REASON, FilterState, CPU_MODES } from './exitFilters';
import { filterPorts } from './portSet';
import { describeExit, hex } from '../partition/exitDescription';
import { evaluateCondition, evaluateExpression } from './expression/evaluate';
import { guestAccessor, RegisterCache } from './guestAccessor';
import { decodeInstructions, Bitness, DecodedInstruction } from './disassembler';
import type { CpuMode, TargetWatchpoint, VpTarget } from './target';

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint'
  | 'data breakpoint' | 'exception' | 'pause' | 'goto';

export interface StopInfo {
  vp: number;
  reason: StopReason;
  description: string;
  /** The exit that caused the stop, if any. */
  exit?: RunVpExitContext;
  /** Exit filter id for exception stops (exceptionInfo's exceptionId). */
  exceptionId?: string;
  hitBreakpointIds?: number[];
  /** Extra exit fields (ModeChange From/To). */
  extra?: Record<string, unknown>;
  /** The exit is still uncompleted: resuming completes it (or drops it when the user moved RIP). */
  pending?: boolean;
}

export interface CodeBreakpoint {
  id: number;
  address: bigint;
  kind: 'breakpoint' | 'function breakpoint' | 'instruction breakpoint';
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  hits: number;
}

export interface DataBreakpoint extends TargetWatchpoint {
  id: number;
  condition?: string;
  hitCondition?: string;
  hits: number;
}

type StepKind =
  | { kind: 'continue' }
  | { kind: 'instruction'; over: boolean }
  | { kind: 'line'; over: boolean; line?: string; startDepth: bigint }
  | { kind: 'out'; rsp: bigint };

/** Instructions per slice before yielding to the event loop; adapted to keep slices ~10 ms. */
const INITIAL_BUDGET = 20_000;
const MIN_BUDGET = 1_000;
const MAX_BUDGET = 2_000_000;
const TARGET_SLICE_MS = 10;
/** Single steps per slice while stepping by line or out of a function. */
const STEPS_PER_SLICE = 2_000;
/** A line step that runs this long without reaching another line stops anyway (e.g. a spin loop). */
const MAX_STEP_INSTRUCTIONS = 5_000_000;
const OUTPUT_BACKLOG_LIMIT = 1 << 20;
const TRIPLE_FAULT = { status: 1, reason: 'triple fault (the VP shut down)' };
const FATAL_EXITS = new Set<number>([WhvRunVpExitReason.InvalidVpRegisterValue, WhvRunVpExitReason.UnsupportedFeature]);
const TRACED_DEVICE_EXITS = [WhvRunVpExitReason.X64IoPortAccess, WhvRunVpExitReason.MemoryAccess, WhvRunVpExitReason.X64MsrAccess];

export class Runtime extends EventEmitter {
  private running = false;
  private stepKind: StepKind = { kind: 'continue' };
  private stepVp = 0;
  private stepCount = 0;
  private pauseRequested = false;
  private ended = false;
  private budget = INITIAL_BUDGET;
  private nextVp = 0;
  private readonly filters = new Map<string, FilterState>();
  private codeBreakpoints: CodeBreakpoint[] = [];
  private dataBreakpoints: DataBreakpoint[] = [];
  /** Temporary breakpoint for stepping over CALL/INT/REP. */
  private tempBreakpoint: { vp: number; address: bigint; rsp: bigint } | undefined;
  /** The temporary breakpoint was just set: lift any breakpoint under the PC for the first instruction. */
  private tempFresh = false;
  private lastModes: CpuMode[] = [];
  readonly exitCounts = new Map<string, number>();
  lastStop: StopInfo | undefined;
  private trace = false;
  /** Characters of guest output not yet delivered; above OUTPUT_BACKLOG_LIMIT the guest waits. */
  outputBacklog: () => number = () => 0;

  constructor(readonly target: VpTarget) {
    super();
    for (const f of FILTER_BY_ID.values()) this.filters.set(f.id, { enabled: f.default });
    this.applyReportedExits();
    this.lastModes = Array.from({ length: target.processorCount }, (_, vp) => target.mode(vp));
  }

  /** Prints every exit; device-handled I/O, MMIO and MSR exits are then routed through here too. */
  get traceExits(): boolean { return this.trace; }
  set traceExits(on: boolean) {
    this.trace = on;
    this.applyReportedExits();
  }

  get isRunning(): boolean { return this.running; }

  // ---- configuration -------------------------------------------------------------------

  setExitFilters(filters: Map<string, FilterState>): void {
    for (const id of this.filters.keys()) this.filters.set(id, filters.get(id) ?? { enabled: false });
    this.applyReportedExits();
  }

  private applyReportedExits(): void {
    const reasons = new Set<number>();
    for (const [id, st] of this.filters) {
      const r = FILTER_BY_ID.get(id)?.reason;
      if (st.enabled && r !== undefined) reasons.add(r);
    }
    if (this.trace) for (const r of TRACED_DEVICE_EXITS) reasons.add(r);
    // The I/O filter reports only the ports its condition can stop at; a trace sees every port.
    const io = this.filters.get(FILTER_BY_REASON.get(WhvRunVpExitReason.X64IoPortAccess)!.id);
    this.target.setReportedExits(reasons, this.trace || !io?.enabled ? undefined : filterPorts(io.condition));
  }

  setCodeBreakpoints(list: CodeBreakpoint[], kind: CodeBreakpoint['kind'], source?: string): void {
    // Source breakpoints are replaced per file; the others per kind.
    this.codeBreakpoints = this.codeBreakpoints.filter((b) => b.kind !== kind || (source !== undefined && (b as any).source !== source));
    for (const b of list) { if (source !== undefined) (b as any).source = source; this.codeBreakpoints.push(b); }
    this.applyBreakpoints();
  }

  setDataBreakpoints(list: DataBreakpoint[]): void {
    this.dataBreakpoints = list;
    for (let vp = 0; vp < this.target.processorCount; vp++) this.target.setWatchpoints(vp, list);
  }

  private applyBreakpoints(skipFor?: { vp: number; address: bigint }): void {
    for (let vp = 0; vp < this.target.processorCount; vp++) {
      const addrs = new Set(this.codeBreakpoints.map((b) => b.address));
      if (this.tempBreakpoint?.vp === vp) addrs.add(this.tempBreakpoint.address);
      if (skipFor?.vp === vp) addrs.delete(skipFor.address);
      this.target.setInstructionBreakpoints(vp, addrs);
    }
  }

  // ---- execution control -----------------------------------------------------------------

  continue(): void { this.resume({ kind: 'continue' }, 0); }

  step(vp: number, granularity: 'instruction' | 'line', over: boolean): void {
    if (granularity === 'instruction' || !this.lineAt(vp)) {
      this.resume({ kind: 'instruction', over }, vp);
    } else {
      this.resume({ kind: 'line', over, line: this.lineAt(vp), startDepth: this.reg(vp, HvRegisterName.Rsp) }, vp);
    }
  }

  stepOut(vp: number): void {
    this.resume({ kind: 'out', rsp: this.reg(vp, HvRegisterName.Rsp) }, vp);
  }

  /** Stops a running guest within one slice: the partition's cancel makes the next run() return Canceled. */
  pause(): void {
    if (!this.running) return;
    this.pauseRequested = true;
    for (let vp = 0; vp < this.target.processorCount; vp++) this.target.cancel(vp);
  }

  /** Stops everything for good (terminate/disconnect). */
  stop(): void {
    this.ended = true;
    this.running = false;
  }

  private resume(kind: StepKind, vp: number): void {
    if (this.ended || this.running) return;
    this.stepKind = kind;
    this.stepVp = vp;
    this.stepCount = 0;
    this.pauseRequested = false;
    this.running = true;
    this.emit('continued', vp);
    const ripBefore = this.reg(vp, HvRegisterName.Rip);
    if (this.completeStoppedExit()) return;
    if (kind.kind === 'instruction' && this.reg(vp, HvRegisterName.Rip) !== ripBefore) {
      // Completing the intercepted instruction retired it: that was the step.
      setImmediate(() => this.finishStop({ vp, reason: 'step', description: 'Step' }));
      return;
    }
    if (kind.kind === 'instruction' && kind.over) this.planStepOver(vp);
    setImmediate(() => this.tick(true));
  }

  /**
   * An exit that stopped is completed on resume as the machine would have (the device answers,
   * the exception is delivered), unless the user moved RIP meanwhile: then the intercepted
   * instruction is abandoned (a pending exception dropped) and execution goes on from there.
   */
  private completeStoppedExit(): boolean {
    const s = this.lastStop;
    this.lastStop = undefined;
    if (s?.exit?.ExitReason === WhvRunVpExitReason.UnrecoverableException) {
      // Continuing after a triple fault: the guest is over (as a machine without -no-reboot would reset).
      this.running = false;
      setImmediate(() => this.endGuest(TRIPLE_FAULT));
      return true;
    }
    if (!s?.exit || !s.pending) return false;
    if (this.reg(s.vp, HvRegisterName.Rip) !== BigInt(s.exit.VpContext.Rip)) {
      this.target.abandonExit(s.vp, s.exit);
      return false;
    }
    this.target.completeExit(s.vp, s.exit);
    // Completing it may be what ends the guest (a write to isa-debug-exit).
    const ended = this.target.guestEnded(s.vp, s.exit);
    if (!ended) return false;
    this.running = false;
    this.ended = true;
    setImmediate(() => this.emit('ended', ended));
    return true;
  }

  private reg(vp: number, code: number): bigint {
    const v = this.target.getRegisters(vp, [code])[0];
    let r = 0n;
    for (let i = 7; i >= 0; i--) r = (r << 8n) | BigInt(v[i]);
    return r;
  }

  bitness(vp: number): Bitness {
    const m = this.target.mode(vp);
    return m === 'long64' ? 64 : m === 'real' || m === 'protected16' || m === 'v8086' ? 16 : 32;
  }

  /** Linear address of the VP's current instruction (CS.Base + RIP). */
  pc(vp: number): bigint {
    const [rip, cs] = this.target.getRegisters(vp, [HvRegisterName.Rip, HvRegisterName.Cs]);
    let r = 0n, base = 0n;
    for (let i = 7; i >= 0; i--) { r = (r << 8n) | BigInt(rip[i]); base = (base << 8n) | BigInt(cs[i]); }
    const m = this.target.mode(vp);
    if (m === 'long64') return r;
    return (base + (r & (m === 'real' || m === 'v8086' || m === 'protected16' ? 0xffffn : 0xffffffffn))) & 0xffffffffn;
  }

  currentInstruction(vp: number): DecodedInstruction | undefined {
    const pc = this.pc(vp);
    const buf = new Uint8Array(15);
    const n = this.target.readVirtual(vp, pc, buf);
    if (n === 0) return undefined;
    return decodeInstructions(buf.subarray(0, n), pc, this.bitness(vp), 1)[0];
  }

  private lineAt(vp: number): string | undefined {
    const l = this.target.symbols.lineAt(Number(this.pc(vp)));
    return l ? `${l.file}:${l.line}` : undefined;
  }

  /** For `next` at instruction granularity: CALL/INT/REP run to the next instruction via a temporary breakpoint. */
  private planStepOver(vp: number): boolean {
    const insn = this.currentInstruction(vp);
    if (!insn?.stepOver) return false;
    this.tempBreakpoint = { vp, address: insn.address + BigInt(insn.length), rsp: this.reg(vp, HvRegisterName.Rsp) };
    this.applyBreakpoints();
    return true;
  }

  private clearTemp(): void {
    if (this.tempBreakpoint) { this.tempBreakpoint = undefined; this.applyBreakpoints(); }
  }

  private tick(first: boolean): void {
    if (!this.running || this.ended) return;
    try {
      const stop = this.runSlice(first);
      if (stop) { this.finishStop(stop); return; }
    } catch (e) {
      // An emulator failure must not kill the adapter: stop with the message, state preserved.
      this.finishStop({ vp: this.stepVp, reason: 'exception', exceptionId: 'InternalError', description: `emulator error: ${(e as Error).message}` });
      return;
    }
    if (!this.running) return;
    // Back-pressure instead of dropping output: let the console catch up before running on.
    if (this.outputBacklog() > OUTPUT_BACKLOG_LIMIT) setTimeout(() => this.tick(false), 20);
    else setImmediate(() => this.tick(false));
  }

  private finishStop(stop: StopInfo | 'ended'): void {
    this.running = false;
    this.clearTemp();
    if (stop === 'ended') return;
    this.lastStop = stop;
    this.emit('stopped', stop);
  }

  /** Runs one slice; returns a stop, 'ended', or undefined to keep going. */
  private runSlice(first: boolean): StopInfo | 'ended' | undefined {
    if (this.pauseRequested) return { vp: this.stepVp, reason: 'pause', description: 'Paused' };
    const k = this.stepKind;
    if (k.kind === 'continue' || (k.kind === 'instruction' && this.tempBreakpoint)) {
      // Round-robin over the VPs until this tick's time is used (many rounds when ModeChange
      // limits each run to one instruction), then yield so requests are served.
      const started = Date.now();
      const n = this.target.processorCount;
      const retired = this.totalRetired();
      let round = first;
      do {
        const roundStart = Date.now();
        for (let i = 0; i < n; i++) {
          const vp = (this.nextVp + i) % n;
          const r = this.runVp(vp, round && vp === this.stepVp ? 1 : this.sliceBudget(), round);
          if (r && r !== 'returned') return r;
        }
        round = false;
        this.nextVp = (this.nextVp + 1) % n;
        if (this.sliceBudget() === this.budget) this.adapt(Date.now() - roundStart);
        if (this.pauseRequested) return { vp: this.stepVp, reason: 'pause', description: 'Paused' };
      } while (Date.now() - started < TARGET_SLICE_MS);
      return this.stuck(retired);
    }
    // Stepping: single instructions on the stepping VP, checking after each; calls (and
    // INT, REP) are run to their return through a temporary breakpoint when stepping over.
    const vp = this.stepVp;
    for (let i = 0; i < STEPS_PER_SLICE; i++) {
      let wasRet = false;
      if (this.tempBreakpoint) {
        const fresh = this.tempFresh;
        this.tempFresh = false;
        const r = this.runVp(vp, this.sliceBudget(), fresh);
        if (r !== 'returned') return r; // a stop, the end, or undefined: yield and come back
        this.clearTemp();
      } else {
        const before = this.currentInstruction(vp);
        if (before?.stepOver && ((k.kind === 'line' && k.over) || k.kind === 'out')) {
          this.tempBreakpoint = { vp, address: before.address + BigInt(before.length), rsp: this.reg(vp, HvRegisterName.Rsp) };
          this.tempFresh = true;
          this.applyBreakpoints();
          continue;
        }
        wasRet = before?.flow === 'return';
        const r = this.runVp(vp, 1, this.stepCount === 0);
        this.stepCount++;
        if (r && r !== 'returned') return r;
      }
      if (k.kind === 'instruction') return { vp, reason: 'step', description: 'Step' };
      if (k.kind === 'out') {
        if (wasRet && this.reg(vp, HvRegisterName.Rsp) > k.rsp) return { vp, reason: 'step', description: 'Step out' };
      } else if (k.kind === 'line') {
        const line = this.lineAt(vp);
        if (line !== undefined && line !== k.line) return { vp, reason: 'step', description: 'Step' };
        if (line === undefined && this.reg(vp, HvRegisterName.Rsp) > k.startDepth) {
          return { vp, reason: 'step', description: 'Step (returned to code without line information)' };
        }
      }
      const stuck = this.stuck(-1);
      if (stuck) return stuck;
      if (this.stepCount > MAX_STEP_INSTRUCTIONS) return { vp, reason: 'step', description: `Step stopped after ${MAX_STEP_INSTRUCTIONS} instructions without reaching another line` };
      if (this.pauseRequested) return { vp, reason: 'pause', description: 'Paused' };
    }
    return undefined;
  }

  private totalRetired(): number {
    let n = 0;
    for (let vp = 0; vp < this.target.processorCount; vp++) n += this.target.instructionCount(vp);
    return n;
  }

  /** Every VP halted or waiting with nothing to wake it, and nothing retired: stop instead of spinning. */
  private stuck(retiredBefore: number): StopInfo | undefined {
    for (let vp = 0; vp < this.target.processorCount; vp++) if (this.target.runnable(vp)) return undefined;
    if (retiredBefore >= 0 && this.totalRetired() !== retiredBefore) return undefined;
    const vp = this.stepVp;
    return { vp, reason: 'exception', exceptionId: 'X64Halt',
      description: `X64Halt: every VP is halted (HLT with interrupts disabled, or waiting for an interrupt nothing will raise) at RIP ${hex(this.reg(vp, HvRegisterName.Rip))}` };
  }

  private sliceBudget(): number {
    // ModeChange needs a look at the mode after every instruction.
    return this.filters.get('ModeChange')?.enabled ? 1 : this.budget;
  }

  private adapt(ms: number): void {
    if (ms < TARGET_SLICE_MS / 2) this.budget = Math.min(MAX_BUDGET, this.budget * 2);
    else if (ms > TARGET_SLICE_MS * 2) this.budget = Math.max(MIN_BUDGET, Math.floor(this.budget / 2));
  }

  /**
   * Runs one VP for `budget` instructions, handling every exit that does not stop.
   * `skipBreakpointAtPc` steps off a breakpoint the VP is sitting on.
   */
  private runVp(vp: number, budget: number, skipBreakpointAtPc: boolean): StopInfo | 'ended' | 'returned' | undefined {
    let remaining = budget;
    let skip = skipBreakpointAtPc;
    while (remaining > 0) {
      if (skip) this.applyBreakpoints({ vp, address: this.pc(vp) });
      const before = this.target.instructionCount(vp);
      const exit = this.target.run(vp, skip ? 1 : remaining);
      if (skip) { this.applyBreakpoints(); skip = false; }
      remaining -= Math.max(1, this.target.instructionCount(vp) - before);
      const modeStop = this.checkMode(vp, exit);
      const r = this.handleExit(vp, exit);
      if (r) return r;
      if (modeStop) return modeStop;
    }
    return undefined;
  }

  private checkMode(vp: number, exit: RunVpExitContext): StopInfo | undefined {
    const f = this.filters.get('ModeChange');
    if (!f?.enabled) return undefined;
    const now = this.target.mode(vp);
    const was = this.lastModes[vp];
    if (now === was) return undefined;
    this.lastModes[vp] = now;
    const extra = { From: CPU_MODES.indexOf(was), To: CPU_MODES.indexOf(now) };
    const d = exitStops(f, exit, extra);
    if (!d.stop) return undefined;
    this.count('ModeChange');
    return { vp, reason: 'exception', exceptionId: 'ModeChange', exit, extra,
      description: `ModeChange: ${was} → ${now}${d.error ? ` (${d.error})` : ''}` };
  }

  private count(id: string): void { this.exitCounts.set(id, (this.exitCounts.get(id) ?? 0) + 1); }

  private handleExit(vp: number, exit: RunVpExitContext): StopInfo | 'ended' | 'returned' | undefined {
    const reason = exit.ExitReason;
    if (reason === WhvRunVpExitReason.None) return undefined;
    if (reason === WhvRunVpExitReason.Canceled) {
      if (this.pauseRequested) return { vp, reason: 'pause', description: 'Paused' };
    }
    if (reason === WhvRunVpExitReason.VpdbgBreakpoint) return this.onBreakpoint(vp, exit);
    if (reason === WhvRunVpExitReason.VpdbgWatchpoint) return this.onWatchpoint(vp, exit);
    if (reason === WhvRunVpExitReason.VpdbgInternalError) {
      return { vp, reason: 'exception', exceptionId: 'InternalError', exit, description: `Emulator internal error: ${exit.InternalError?.Message ?? 'unknown'} (VP state preserved)` };
    }
    const filter = FILTER_BY_REASON.get(reason);
    const id = filter?.id ?? `ExitReason ${hex(reason)}`;
    this.count(id);
    if (this.trace) this.emit('output', `[exit] VP ${vp}: ${describeExit(exit)}\n`, 'console');
    // The machine returns the exit that ended the guest already completed.
    if (this.checkEnded(vp, exit)) return 'ended';
    const d = exitStops(filter ? this.filters.get(filter.id) : { enabled: true }, exit);
    if (d.stop) {
      return { vp, reason: 'exception', exceptionId: filter?.id ?? id, exit, pending: true, description: describeExit(exit) + (d.error ? ` — ${d.error}` : '') };
    }
    // Exits the VP cannot get past: a triple fault ends the guest; the others stop even with
    // their filter off (running on would only repeat them).
    if (reason === WhvRunVpExitReason.UnrecoverableException) return this.endGuest(TRIPLE_FAULT);
    if (FATAL_EXITS.has(reason)) {
      return { vp, reason: 'exception', exceptionId: filter?.id ?? id, exit, description: `${describeExit(exit)} — the VP cannot continue` };
    }
    this.target.completeExit(vp, exit);
    return this.checkEnded(vp, exit);
  }

  private checkEnded(vp: number, exit: RunVpExitContext): 'ended' | undefined {
    const ended = this.target.guestEnded(vp, exit);
    return ended ? this.endGuest(ended) : undefined;
  }

  private endGuest(how: { status: number; reason: string }): 'ended' {
    this.ended = true;
    this.emit('ended', how);
    return 'ended';
  }

  private conditionHolds(vp: number, bp: { condition?: string; hitCondition?: string; hits: number }, exit?: RunVpExitContext): boolean | string {
    const acc = guestAccessor({ target: this.target, regs: new RegisterCache(this.target, vp), exit });
    if (bp.condition) {
      try {
        if (!evaluateCondition(bp.condition, acc)) return false;
      } catch (e) {
        return `condition '${bp.condition}' failed: ${(e as Error).message}`;
      }
    }
    bp.hits++;
    if (bp.hitCondition) return hitConditionHolds(bp.hitCondition, bp.hits);
    return true;
  }

  private onBreakpoint(vp: number, exit: RunVpExitContext): StopInfo | 'returned' | undefined {
    const address = exit.Breakpoint?.Gva ?? this.pc(vp);
    const t = this.tempBreakpoint;
    if (t && t.vp === vp && t.address === address && this.reg(vp, HvRegisterName.Rsp) >= t.rsp) {
      if (this.stepKind.kind === 'instruction') return { vp, reason: 'step', description: 'Step' };
      return 'returned';
    }
    const hit: CodeBreakpoint[] = [];
    const errors: string[] = [];
    for (const bp of this.codeBreakpoints.filter((b) => b.address === address)) {
      const ok = this.conditionHolds(vp, bp, exit);
      if (ok === false) continue;
      if (typeof ok === 'string') errors.push(ok);
      if (bp.logMessage !== undefined && typeof ok !== 'string') {
        this.emit('output', this.formatLogMessage(vp, bp.logMessage, exit) + '\n', 'console');
        continue;
      }
      hit.push(bp);
    }
    if (hit.length === 0) {
      // Not stopping: step past the breakpoint on the next run.
      this.skipNext = { vp, address };
      return this.stepPastBreakpoint(vp);
    }
    const kind = hit[0].kind;
    return { vp, reason: kind, hitBreakpointIds: hit.map((b) => b.id), description: `${capitalize(kind)} at ${hex(address)}${errors.length ? ` — ${errors.join('; ')}` : ''}` };
  }

  private skipNext: { vp: number; address: bigint } | undefined;

  /** Executes the instruction under a non-stopping breakpoint with that breakpoint lifted. */
  private stepPastBreakpoint(vp: number): StopInfo | 'returned' | undefined {
    const s = this.skipNext!;
    this.skipNext = undefined;
    this.applyBreakpoints(s);
    try {
      const exit = this.target.run(vp, 1);
      const r = this.handleExit(vp, exit);
      return r === 'ended' ? undefined : r;
    } finally {
      this.applyBreakpoints();
    }
  }

  private onWatchpoint(vp: number, exit: RunVpExitContext): StopInfo | undefined {
    const w = exit.Watchpoint;
    const hit: DataBreakpoint[] = [];
    for (const bp of this.dataBreakpoints) {
      if (!w || w.Address + BigInt(w.Size) <= bp.address || bp.address + BigInt(bp.size) <= w.Address || w.AccessInfo.Physical !== bp.physical) continue;
      if ((w.AccessInfo.IsWrite && !bp.write) || (!w.AccessInfo.IsWrite && !bp.read)) continue;
      const ok = this.conditionHolds(vp, bp, exit);
      if (ok !== false) hit.push(bp);
    }
    if (hit.length === 0) return undefined;
    const what = w ? `${w.AccessInfo.IsWrite ? 'write' : 'read'} of ${w.Size} byte${w.Size === 1 ? '' : 's'} at ${w.AccessInfo.Physical ? 'GPA' : ''} ${hex(w.Address)}` : 'access';
    return { vp, reason: 'data breakpoint', hitBreakpointIds: hit.map((b) => b.id), exit, description: `Data breakpoint: ${what}` };
  }

  /** Logpoint text: `{expr}` parts are evaluated (`{rax,x}`), `{{`/`}}` are literal braces. */
  formatLogMessage(vp: number, template: string, exit?: RunVpExitContext): string {
    const acc = guestAccessor({ target: this.target, regs: new RegisterCache(this.target, vp), exit });
    return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, expr: string | undefined) => {
      if (m === '{{') return '{';
      if (m === '}}') return '}';
      try {
        const r = evaluateExpression(expr!, acc);
        return r.format === 'd' ? r.value.toString() : hex(r.value);
      } catch (e) {
        return `<${(e as Error).message}>`;
      }
    });
  }

  breakpointsSnapshot(): CodeBreakpoint[] { return this.codeBreakpoints.map((b) => ({ ...b, hits: 0 })); }
  dataSnapshot(): DataBreakpoint[] { return this.dataBreakpoints.map((b) => ({ ...b, hits: 0 })); }
  filtersSnapshot(): Map<string, FilterState> { return new Map(this.filters); }

  /** Carries breakpoints and filters over to a restarted machine. */
  restore(s: { code: CodeBreakpoint[]; data: DataBreakpoint[]; filters: Map<string, FilterState> }): void {
    this.codeBreakpoints = s.code;
    this.applyBreakpoints();
    this.setDataBreakpoints(s.data);
    this.setExitFilters(s.filters);
  }

  /** The stop on entry, before any instruction ran. */
  stopOnEntry(): void {
    this.lastStop = { vp: 0, reason: 'entry', description: 'Stopped on entry' };
    this.emit('stopped', this.lastStop);
  }
}

/** DAP hit conditions: `5` or `== 5`, `>= 5`, `> 5`, `< 5`, `<= 5`, `% 3` (every 3rd hit). */
export function hitConditionHolds(cond: string, hits: number): boolean | string {
  const m = /^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$/.exec(cond);
  if (!m) return `hit condition '${cond}' is not understood (use N, == N, >= N, > N, < N, <= N or % N)`;
  const n = Number(m[2]);
  switch (m[1] ?? '==') {
    case '==': return hits === n;
    case '>=': return hits >= n;
    case '>': return hits > n;
    case '<': return hits < n;
    case '<=': return hits <= n;
    default: return n > 0 && hits % n === 0;
  }
}

export function checkHitCondition(cond: string): string | undefined {
  const r = hitConditionHolds(cond, 1);
  return typeof r === 'string' ? r : undefined;
}

function capitalize(s: string): string { return s[0].toUpperCase() + s.slice(1); }
