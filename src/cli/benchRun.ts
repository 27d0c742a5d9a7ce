// The bench's run loop: runs a machine to its end without yielding, recording the retired
// instruction count, wall time and process CPU time at every line the guest ends on COM1
// (the bench guest prints one line per finished kernel). With exit filters on, every exit
// the machine can report is reported and tested against a condition that never holds, as
// the debug adapter's exit breakpoints with conditions would be, then completed; with
// ioFilterPort, I/O exits only for that port (an I/O filter whose condition names it).
import type { Machine } from '../machine/machine';
import { WhvRunVpExitReason as X } from '../partition/hvdef';
import type { RunVpExitContext } from '../partition/exitContext';

export interface BenchMark {
  /** Text of the line (without the newline). */
  line: string;
  instructions: number;
  seconds: number;
  cpuSeconds: number;
}

export interface BenchRunResult {
  instructions: number;
  seconds: number;
  cpuSeconds: number;
  marks: BenchMark[];
  /** Exits returned to the loop (only with exit filters on). */
  reportedExits: number;
  /** Why the run ended. */
  end: string;
  /** The guest's status (isa-debug-exit), or undefined when it did not end that way. */
  status?: number;
}

const CHUNK = 10_000_000;
const ALL_REASONS = Object.values(X).filter((v): v is number => typeof v === 'number');
const HITS = new Set<number>([X.VpdbgBreakpoint, X.VpdbgWatchpoint]);
/** An RIP no guest reaches: the condition each reported exit is tested against. */
const NEVER_RIP = 0xfffffffffffff000n;

/** Receives COM1 bytes; bind it to the machine's serialOutput before the run. */
export class LineClock {
  readonly marks: BenchMark[] = [];
  private line: number[] = [];
  private wall0 = 0n;
  private cpu0 = process.cpuUsage();
  machine: Machine | undefined;

  start(): void { this.wall0 = process.hrtime.bigint(); this.cpu0 = process.cpuUsage(); }
  wall(): number { return Number(process.hrtime.bigint() - this.wall0) / 1e9; }
  cpu(): number { const c = process.cpuUsage(this.cpu0); return (c.user + c.system) / 1e6; }

  byte = (b: number): void => {
    if (b !== 10) { if (this.line.length < 256) this.line.push(b); return; }
    this.marks.push({ line: Buffer.from(this.line).toString('latin1'), instructions: this.machine?.instructionsRetired() ?? 0, seconds: this.wall(), cpuSeconds: this.cpu() });
    this.line = [];
  };
}

export interface BenchRunOptions {
  maxInstructions?: number;
  timeoutSeconds?: number;
  exitFilters: boolean;
  /** With exitFilters: report I/O exits only for this port, as an I/O filter whose condition names it. */
  ioFilterPort?: number;
}

export function benchRun(machine: Machine, clock: LineClock, o: BenchRunOptions): BenchRunResult {
  if (o.exitFilters) machine.setReportedExits(ALL_REASONS, 0xffffffff, o.ioFilterPort === undefined ? undefined : [{ base: o.ioFilterPort, count: 1 }]);
  const max = o.maxInstructions ?? Infinity;
  let reportedExits = 0;
  let end: string | undefined;
  let status: number | undefined;
  clock.machine = machine;
  clock.start();
  while (end === undefined) {
    const left = max - machine.instructionsRetired();
    if (left <= 0) { end = `instruction limit reached (${o.maxInstructions})`; break; }
    if (o.timeoutSeconds !== undefined && clock.wall() >= o.timeoutSeconds) { end = `timeout after ${o.timeoutSeconds} s`; break; }
    const stop = machine.run(Math.min(CHUNK, left));
    switch (stop.kind) {
      case 'budget': break;
      case 'halted': end = 'every processor halted'; break;
      case 'ended': end = stop.end.reason; status = stop.end.status; break;
      case 'exit': {
        // A breakpoint or watchpoint hit ends the run: the bench sets them where the guest never goes.
        if (HITS.has(stop.exit.ExitReason)) { end = `${X[stop.exit.ExitReason]} hit at RIP 0x${stop.exit.VpContext.Rip.toString(16)}`; break; }
        reportedExits++;
        if (conditionHolds(stop.exit) || !machine.completeExit(stop.vp, stop.exit)) end = `exit ${X[stop.exit.ExitReason] ?? stop.exit.ExitReason} at RIP 0x${stop.exit.VpContext.Rip.toString(16)}`;
        else if (machine.guestEnd) { end = machine.guestEnd.reason; status = machine.guestEnd.status; }
        break;
      }
    }
  }
  return { instructions: machine.instructionsRetired(), seconds: clock.wall(), cpuSeconds: clock.cpu(), marks: clock.marks, reportedExits, end, status };
}

function conditionHolds(exit: RunVpExitContext): boolean { return exit.VpContext.Rip === NEVER_RIP; }
