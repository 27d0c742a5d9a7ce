// The i8042 keyboard controller as far as firmware-less guests use it: the command port's
// reset pulse (0xFE, and any 0xF0-0xFF pulse with bit 0 clear), the output port (A20 and the
// reset line, commands 0xD0/0xD1), the command byte, self-tests, and keyboard ACKs.
// There is no keyboard behind it: no scancodes ever arrive.
import type { Device, PortRange } from './device';

const STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_CMD = 0x08;

export class I8042 implements Device {
  readonly name = 'i8042';
  enabled = true;
  readonly writesEndRun = true;
  readonly ports: readonly PortRange[] = [{ base: 0x60, count: 1 }, { base: 0x64, count: 1 }];
  private out: number[] = [];
  private pendingCommand = 0;
  private commandByte = 0x45;
  private lastWasCommand = false;
  /** Output port: bit 0 = not in reset, bit 1 = A20 enabled. */
  outputPort = 0x03;

  constructor(private readonly onReset: (reason: string) => void) {}

  ioRead(port: number): number {
    if (port === 0x64) return (this.out.length ? STATUS_OBF : 0) | STATUS_SYS | (this.lastWasCommand ? STATUS_CMD : 0);
    return this.out.shift() ?? 0;
  }

  ioWrite(port: number, _size: number, value: number): void {
    value &= 0xff;
    if (port === 0x64) { this.lastWasCommand = true; this.command(value); return; }
    this.lastWasCommand = false;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    if (cmd === 0x60) this.commandByte = value;
    else if (cmd === 0xd1) this.setOutputPort(value);
    else this.keyboardCommand(value);
  }

  private command(c: number): void {
    if (c >= 0xf0) {
      if ((c & 1) === 0) this.onReset(`i8042 command 0x${c.toString(16)} pulsed the reset line`);
      return;
    }
    switch (c) {
      case 0x20: this.out.push(this.commandByte); break;
      case 0x60: case 0xd1: this.pendingCommand = c; break;
      case 0xd0: this.out.push(this.outputPort); break;
      case 0xaa: this.out.push(0x55); break; // controller self-test passed
      case 0xab: case 0xa9: this.out.push(0x00); break; // interface tests passed
      default: break; // enable/disable keyboard or mouse and the rest: accepted
    }
  }

  private setOutputPort(v: number): void {
    this.outputPort = v;
    if ((v & 1) === 0) this.onReset('i8042 output port write cleared the reset line');
  }

  private keyboardCommand(v: number): void {
    this.out.push(0xfa); // ACK
    if (v === 0xff) this.out.push(0xaa); // reset: self-test passed
    else if (v === 0xf2) this.out.push(0xab, 0x83); // identify: MF2 keyboard
  }
}
