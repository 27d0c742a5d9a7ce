// What the debugger runtime needs from the machine: run a VP for a budget, cancel, registers
// by HV_REGISTER_NAME, guest memory, debugger breakpoints/watchpoints and symbols. One
// implementation wraps src/machine's Machine (machineTarget.ts); keeping the seam narrow
// keeps the runtime free of device and loader details.
import type { RunVpExitContext } from '../partition/exitContext';
import type { Symbols } from '../machine/symbols/symbols';
import type { PortRange } from '../machine/devices/device';

export type CpuMode = 'real' | 'protected16' | 'protected32' | 'compatibility' | 'long64' | 'v8086';

export interface TargetWatchpoint { address: bigint; size: number; read: boolean; write: boolean; physical: boolean }

export interface VpTarget {
  readonly processorCount: number;
  readonly symbols: Symbols;
  /** Image facts for the modules view and the console. */
  readonly image: { path: string; format: string; entry: bigint; notes: string[] };

  /**
   * Runs VP `vp` for at most `budget` instructions. Exits the machine's devices claim are
   * handled inside unless `reportDeviceExits` says otherwise; the returned exit is left
   * uncompleted for completeExit(). A slice that ends without an exit returns reason None.
   */
  run(vp: number, budget: number): RunVpExitContext;
  /** Completes an exit the way the machine would without a debugger (default device answers). */
  completeExit(vp: number, exit: RunVpExitContext): void;
  /** Gives up an uncompleted exit (the debugger moved RIP): a pending exception is dropped. */
  abandonExit(vp: number, exit: RunVpExitContext): void;
  /** Whether an exit ends the guest (debug-exit port, reset, triple fault); with its status. */
  guestEnded(vp: number, exit: RunVpExitContext): { status: number; reason: string } | undefined;
  /** False while the VP waits in HLT, is halted with interrupts off, or waits for a startup IPI. */
  runnable(vp: number): boolean;
  cancel(vp: number): void;
  /**
   * Exit reasons whose device-handled exits should still be returned (filters that are on);
   * I/O exits only for accesses whose PortNumber is in `ioPorts` when given (the ports the
   * I/O filter's condition can stop at), the others staying in-process.
   */
  setReportedExits(reasons: ReadonlySet<number>, ioPorts?: readonly PortRange[]): void;
  /** Retired instructions of the VP since reset. */
  instructionCount(vp: number): number;

  /** One HvCallGetVpRegisters: values in the order of `names` (16 bytes each). Throws with the HV status on failure. */
  getRegisters(vp: number, names: readonly number[]): Uint8Array[];
  setRegisters(vp: number, names: readonly number[], values: readonly Uint8Array[]): void;
  mode(vp: number): CpuMode;

  /** Reads guest-linear memory through the VP's current paging; returns the count of bytes readable from the start. */
  readVirtual(vp: number, address: bigint, dst: Uint8Array): number;
  writeVirtual(vp: number, address: bigint, src: Uint8Array): number;
  readPhysical(gpa: bigint, dst: Uint8Array): number;
  writePhysical(gpa: bigint, src: Uint8Array): number;

  setInstructionBreakpoints(vp: number, addresses: Iterable<bigint>): void;
  setWatchpoints(vp: number, list: readonly TargetWatchpoint[]): void;

  /** Serial (COM1) bytes as the guest writes them. */
  onSerial(listener: (bytes: Uint8Array) => void): void;
  /** Bytes for the guest to receive on COM1. */
  feedSerial(bytes: Uint8Array): void;
  dispose(): void;
}
