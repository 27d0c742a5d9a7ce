// Routes port, MMIO and MSR accesses to the enabled device that claims them. An access no
// enabled device claims returns undefined: the machine then treats it as "nothing there"
// (or hands it to its caller).
import type { Device } from './devices/device';

export class DeviceBus {
  readonly devices: Device[] = [];
  private readonly byPort = new Map<number, Device>();
  /** Devices with timers: nextEventNs runs after every in-process port access, so it skips the rest. */
  private readonly timed: Device[] = [];

  add<T extends Device>(d: T): T {
    for (const r of d.ports ?? []) {
      for (let p = r.base; p < r.base + r.count; p++) {
        const other = this.byPort.get(p);
        if (other) throw new Error(`port 0x${p.toString(16)} claimed by both ${other.name} and ${d.name}`);
        this.byPort.set(p, d);
      }
    }
    this.devices.push(d);
    if (d.nextEventNs) this.timed.push(d);
    return d;
  }

  find(name: string): Device | undefined { return this.devices.find((d) => d.name === name); }

  /** The enabled device at `port`, or undefined. */
  portDevice(port: number): Device | undefined {
    const d = this.byPort.get(port & 0xffff);
    return d?.enabled ? d : undefined;
  }

  /** An IN of `size` bytes; undefined when no enabled device claims any byte of it. */
  ioRead(port: number, size: number): number | undefined {
    const d = this.portDevice(port);
    if (d?.wideIo) return d.ioRead!(port, size) >>> 0;
    let value = 0, claimed = false;
    for (let i = 0; i < size; i++) {
      const b = this.portDevice(port + i);
      const v = b?.ioRead ? b.ioRead(port + i, 1) & 0xff : 0xff;
      if (b) claimed = true;
      value |= v << (8 * i);
    }
    return claimed ? value >>> 0 : undefined;
  }

  /** An OUT of `size` bytes; false when no enabled device claims any byte of it. */
  ioWrite(port: number, size: number, value: number): boolean {
    const d = this.portDevice(port);
    if (d?.wideIo) { d.ioWrite!(port, size, value); return true; }
    let claimed = false;
    for (let i = 0; i < size; i++) {
      const b = this.portDevice(port + i);
      if (!b) continue;
      claimed = true;
      b.ioWrite?.(port + i, 1, (value >>> (8 * i)) & 0xff);
    }
    return claimed;
  }

  mmioDevice(gpa: number): Device | undefined {
    return this.devices.find((d) => d.enabled && d.mmio?.some((r) => gpa >= r.base && gpa < r.base + r.size));
  }

  msrDevice(index: number): Device | undefined {
    return this.devices.find((d) => d.enabled && d.claimsMsr?.(index));
  }

  nextEventNs(): number | undefined {
    let next: number | undefined;
    const timed = this.timed;
    for (let i = 0; i < timed.length; i++) {
      const d = timed[i];
      if (!d.enabled) continue;
      const t = d.nextEventNs!();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  advanceTo(now: number): void {
    for (const d of this.devices) if (d.enabled) d.advanceTo?.(now);
  }
}
