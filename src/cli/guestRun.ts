// Runs a machine to its end for the command line: in chunks, yielding to the event loop in
// between so serial output reaches stdout as the guest writes it and the wall-clock timeout
// can fire; completes the exits it asked to see (tracing them) and turns the end into an
// exit status with a reason.
import { Machine } from '../machine/machine';
import { WhvRunVpExitReason as X } from '../partition/hvdef';
import type { RunVpExitContext } from '../partition/exitContext';
import { ExitStatus } from './exitStatus';
import { traceLine } from './exitText';

export interface RunLimits {
  maxInstructions?: number;
  timeoutSeconds?: number;
  /** Called with one line per exit when tracing. */
  trace?: (line: string) => void;
  /** Devices (by name, e.g. com1) whose handled exits are not traced. */
  traceSkip?: ReadonlySet<string>;
  /** Called between chunks (flush buffered output). */
  onChunk?: () => void;
}

export interface RunOutcome {
  status: number;
  /** One line saying why the run ended. */
  reason: string;
  /** The exit that ended it, if one did. */
  exit?: RunVpExitContext;
  vp?: number;
  instructions: number;
  seconds: number;
}

/** Instructions per chunk between event-loop turns (small enough for timely output and timeouts). */
const CHUNK = 2_000_000;
const ALL_REASONS = Object.values(X).filter((v): v is number => typeof v === 'number');

const FATAL_REASON: Record<number, [number, string]> = {
  [X.UnrecoverableException]: [ExitStatus.GuestCrashed, 'triple fault (unrecoverable exception)'],
  [X.InvalidVpRegisterValue]: [ExitStatus.GuestCrashed, 'invalid virtual processor state'],
  [X.UnsupportedFeature]: [ExitStatus.EmulatorError, 'the guest used a feature the emulator does not model'],
  [X.VpdbgInternalError]: [ExitStatus.EmulatorError, 'emulator internal error'],
};

export async function runToEnd(machine: Machine, limits: RunLimits): Promise<RunOutcome> {
  const trace = limits.trace;
  if (trace) machine.setReportedExits(ALL_REASONS);
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const max = limits.maxInstructions ?? Infinity;
  const outcome = (status: number, reason: string, exit?: RunVpExitContext, vp?: number): RunOutcome =>
    ({ status, reason, exit, vp, instructions: machine.instructionsRetired(), seconds: seconds() });

  for (;;) {
    const left = max - machine.instructionsRetired();
    if (left <= 0) return outcome(ExitStatus.InstructionLimit, `instruction limit reached (${limits.maxInstructions} instructions)`);
    if (limits.timeoutSeconds !== undefined && seconds() >= limits.timeoutSeconds) return outcome(ExitStatus.Timeout, `timeout after ${limits.timeoutSeconds} s`);
    const stop = machine.run(Math.min(CHUNK, left));
    if (stop.kind === 'budget') {
      limits.onChunk?.();
      await new Promise((r) => setImmediate(r));
      continue;
    }
    if (stop.kind === 'halted') {
      return outcome(ExitStatus.Halted, stop.waitingForInterrupt
        ? 'every processor is halted waiting for an interrupt that nothing will raise'
        : 'every processor halted with interrupts disabled');
    }
    if (stop.kind === 'ended') {
      if (trace) trace(traceLine(stop.vp, machine.instructionsRetired(), stop.exit, undefined));
      return endOutcome(stop.end, outcome, stop.exit, stop.vp);
    }
    // An exit for us: traced ones are completed the machine's way; others end the run.
    const { vp, exit } = stop;
    const at = machine.instructionsRetired();
    const device = machine.claimant(vp);
    const fatal = FATAL_REASON[exit.ExitReason];
    if (!fatal && machine.completeExit(vp, exit)) {
      if (trace && !(device && limits.traceSkip?.has(device))) trace(traceLine(vp, at, exit, device, machine.lastResult));
      const end = machine.guestEnd;
      if (end) return endOutcome(end, outcome, exit, vp);
      continue;
    }
    if (trace) trace(traceLine(vp, at, exit, device, undefined));
    const [status, reason] = fatal ?? [ExitStatus.GuestCrashed, exit.ExitReason === X.MemoryAccess
      ? `instruction fetch from unmapped guest-physical address 0x${exit.MemoryAccess?.Gpa.toString(16)}`
      : `unhandled exit ${X[exit.ExitReason] ?? exit.ExitReason}`];
    return outcome(status, `${reason} on VP ${vp}`, exit, vp);
  }
}

function endOutcome(end: NonNullable<Machine['guestEnd']>, outcome: (s: number, r: string, e?: RunVpExitContext, vp?: number) => RunOutcome, exit: RunVpExitContext, vp: number): RunOutcome {
  if (end.kind === 'reset') return outcome(ExitStatus.Reset, `reset requested: ${end.reason}`, exit, vp);
  return outcome(end.status, end.reason, exit, vp);
}
