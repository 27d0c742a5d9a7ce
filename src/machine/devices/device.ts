// What the VMM loop (machine.ts) needs from a device model. A device claims I/O ports,
// guest-physical MMIO ranges and/or MSRs; the machine hands it the exits for them. Timed
// devices report their next event in virtual time so the machine can stop the processors
// exactly then, which keeps runs deterministic.

export interface PortRange { base: number; count: number }
export interface MmioRange { base: number; size: number }

export interface Device {
  /** Short name used in traces and exit filters: "com1", "pit", "lapic", ... */
  readonly name: string;
  /** When false the machine does not hand it anything: accesses become exits for the caller. */
  enabled: boolean;
  readonly ports?: readonly PortRange[];
  /**
   * True if a 2- or 4-byte port access reaches the device whole (isa-debug-exit takes the
   * full value, as in QEMU); otherwise the machine splits it into byte accesses on
   * consecutive ports, as the ISA bus does.
   */
  readonly wideIo?: boolean;
  /**
   * True if a port write can end the guest's run (isa-debug-exit, the 8042's reset line): the
   * machine never completes such writes in-process (inProcessPorts.ts), so the run's end comes
   * with the exit context of the write.
   */
  readonly writesEndRun?: boolean;
  ioRead?(port: number, size: number): number;
  ioWrite?(port: number, size: number, value: number): void;

  readonly mmio?: readonly MmioRange[];
  /** `vp` is the processor making the access (the local APIC is per processor). */
  mmioRead?(vp: number, gpa: number, size: number): bigint;
  mmioWrite?(vp: number, gpa: number, size: number, value: bigint): void;

  claimsMsr?(index: number): boolean;
  /** undefined: the access raises #GP. */
  rdmsr?(vp: number, index: number): bigint | undefined;
  /** false: the access raises #GP. */
  wrmsr?(vp: number, index: number, value: bigint): boolean;

  /** Virtual time (ns) of the device's next self-initiated event, or undefined if none is due. */
  nextEventNs?(): number | undefined;
  /** Brings the device's state up to virtual time `now` (fires the timers that expired). */
  advanceTo?(now: number): void;
}

/** An interrupt line a device drives (edge or level), wired by the machine to a PIC input. */
export type IrqLine = (level: boolean) => void;

/** The machine's virtual clock: nanoseconds derived from instructions retired. */
export interface Clock { now(): number }
