// Single-port devices QEMU and Bochs guests use to talk to the host: isa-debug-exit (0xF4),
// debugcon (0xE9), the POST diagnostic port (0x80).
import type { Device, PortRange } from './device';

/** isa-debug-exit: a write of V ends the run with host exit status (V << 1) | 1. */
export class DebugExit implements Device {
  readonly name = 'debug-exit';
  enabled = true;
  readonly wideIo = true;
  readonly writesEndRun = true;
  readonly ports: readonly PortRange[];
  constructor(port: number, private readonly onExit: (value: number, status: number) => void) {
    this.ports = [{ base: port, count: 1 }];
  }
  ioRead(): number { return 0xffffffff; }
  ioWrite(_port: number, size: number, value: number): void {
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    this.onExit(v, ((v << 1) | 1) >>> 0);
  }
}

/** debugcon: bytes written appear on the console; reads return 0xE9 so guests can detect it. */
export class DebugCon implements Device {
  readonly name = 'debugcon';
  enabled = true;
  readonly ports: readonly PortRange[];
  constructor(port: number, private readonly output: (byte: number) => void) {
    this.ports = [{ base: port, count: 1 }];
  }
  ioRead(): number { return 0xe9; }
  ioWrite(_port: number, _size: number, value: number): void { this.output(value & 0xff); }
}

/** Port 0x80: firmware progress codes. Keeps the last one (shown in traces) and reads it back. */
export class PostPort implements Device {
  readonly name = 'post';
  enabled = true;
  readonly ports: readonly PortRange[] = [{ base: 0x80, count: 1 }];
  lastCode = 0;
  readonly codes: number[] = [];
  ioRead(): number { return this.lastCode; }
  ioWrite(_port: number, _size: number, value: number): void {
    this.lastCode = value & 0xff;
    if (this.codes.length < 4096) this.codes.push(this.lastCode);
  }
}
