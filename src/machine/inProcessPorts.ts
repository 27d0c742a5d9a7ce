// The machine's in-process port I/O (emulator/vcpu.ts PortIoHandler): plain IN/OUT to a port an
// enabled device claims complete inside the CPU's run, without an X64IoPortAccess exit — the
// way KVM serves the ports of its in-kernel devices without a trip to user space. An exit costs
// a thrown EXIT out of the CPU loop, an exit context and a VMM-loop turn (about 5 µs); this path
// costs a device call. A kernel logging over COM1 makes two port accesses per byte.
//
// Nothing the caller can observe changes: accesses to the ports whose exits the caller asks for
// (a debugger I/O filter's ports, every port for --trace-exits) still exit, writes to
// devices that can end the run still exit (their exit context reports the end), and after each
// access the CPU polls interrupts again, as it does when run() restarts after an exit. When the
// access moved a device's next timer event — or other processors may run or wake, which the
// machine lets them do after each exit — the CPU returns from run() as soon as the instruction
// retires (DoneStop), so the machine's loop runs exactly when it did after the exit.
import { PortIoStatus, type PortIoHandler } from '../emulator/vcpu';
import type { DeviceBus } from './deviceBus';

/** Per port: no device (exits), served in-process, or served in-process for reads only. */
const NONE = 0, SERVED = 1, READS_ONLY = 2;

export class InProcessPorts implements PortIoHandler {
  value = 0;
  /** A device threw: the access declined, so the machine reports this for the exit that follows. */
  error: string | undefined;
  /** What the devices serve; `kind` is this less the reported ports. */
  private readonly served = new Uint8Array(0x10000);
  private readonly kind = new Uint8Array(0x10000);

  /**
   * Serves the ports of the devices enabled now (the machine enables devices only when it
   * builds them). `alone` (machines with more than one processor): whether the running
   * processor is the only one that runs, and no port access can wake another. `stopAfter`:
   * whether the machine must look at the processors after this access anyway (a device
   * interrupt became pending while it requests interrupt windows).
   */
  constructor(private readonly bus: DeviceBus, private readonly alone?: () => boolean, private readonly stopAfter?: () => boolean) {
    for (const d of bus.devices) {
      if (!d.enabled) continue;
      for (const r of d.ports ?? []) this.served.fill(d.writesEndRun ? READS_ONLY : SERVED, r.base, r.base + r.count);
    }
    this.kind.set(this.served);
  }

  /**
   * Accesses whose first port (the exit's PortNumber) is marked in `reported` exit, so the
   * caller sees them; undefined: none do. A wide access that only reaches a reported port
   * beyond its first stays in-process, as an exit filter tests PortNumber alone.
   */
  report(reported: Uint8Array | undefined): void {
    const k = this.kind;
    k.set(this.served);
    if (reported) for (let p = 0; p < 0x10000; p++) if (reported[p] !== 0) k[p] = NONE;
  }

  read(port: number, size: 1 | 2 | 4): PortIoStatus {
    if (this.kind[port] === NONE) return PortIoStatus.Exit;
    const next = this.bus.nextEventNs();
    try {
      // Claimed (the first port is), so never undefined.
      this.value = this.bus.ioRead(port, size)!;
    } catch (e) {
      return this.fail(e);
    }
    return this.after(next);
  }

  write(port: number, size: 1 | 2 | 4, value: number): PortIoStatus {
    if (this.kind[port] !== SERVED) return PortIoStatus.Exit;
    // A wide write reaches the following ports too (the bus splits it into bytes).
    for (let i = 1; i < size; i++) if (this.served[(port + i) & 0xffff] === READS_ONLY) return PortIoStatus.Exit;
    const next = this.bus.nextEventNs();
    try {
      this.bus.ioWrite(port, size, value);
    } catch (e) {
      return this.fail(e);
    }
    return this.after(next);
  }

  /** Whether the CPU may go straight on: no device timer moved and no other processor's turn is due. */
  private after(next: number | undefined): PortIoStatus {
    return this.bus.nextEventNs() === next && (this.alone === undefined || this.alone()) && !this.stopAfter?.() ? PortIoStatus.Done : PortIoStatus.DoneStop;
  }

  private fail(e: unknown): PortIoStatus {
    this.error = e instanceof Error ? e.message : String(e);
    return PortIoStatus.Exit;
  }
}
