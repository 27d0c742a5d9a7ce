// MC146818 CMOS RTC at 0x70 (index; bit 7 masks NMI) and 0x71 (data). The clock runs in
// virtual time from a base date the machine is given (the host's time by default; fixed
// in tests, so runs stay deterministic). BCD or binary and 12/24-hour formats per register
// B, update-in-progress in register A, periodic interrupts (IRQ 8) at the register-A rate,
// and the memory-size bytes firmware would leave in CMOS.
import type { Clock, Device, IrqLine, PortRange } from './device';

const UIP_NS = 244_000; // UIP is set for the last 244 us before each second's update

export class CmosRtc implements Device {
  readonly name = 'rtc';
  enabled = true;
  readonly ports: readonly PortRange[] = [{ base: 0x70, count: 2 }];
  private index = 0;
  private readonly ram = new Uint8Array(128);
  nmiMasked = false;
  private nextPeriodic: number | undefined;
  /** Guest writes to the time registers move the clock by this many ms. */
  private offsetMs = 0;

  /** `lowBytes`: RAM below the 32-bit MMIO hole; `highBytes`: RAM from 4 GiB up (registers 0x5B-0x5D, as QEMU/SeaBIOS). */
  constructor(private readonly clock: Clock, private readonly baseMs: number, lowBytes: number, highBytes: number, private readonly irq8: IrqLine = () => {}) {
    this.ram[0x0a] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.ram[0x0b] = 0x02; // 24-hour, BCD
    this.ram[0x0d] = 0x80; // valid RAM and time
    const kb = (n: number) => Math.floor(n / 1024);
    const w16 = (at: number, v: number) => { this.ram[at] = v & 0xff; this.ram[at + 1] = (v >> 8) & 0xff; };
    w16(0x15, 640);
    const ext = Math.min(0xffff, Math.max(0, kb(lowBytes) - 1024));
    w16(0x17, ext); w16(0x30, ext);
    w16(0x34, Math.min(0xffff, Math.max(0, Math.floor((lowBytes - 16 * 2 ** 20) / 65536))));
    const high = Math.floor(highBytes / 65536); // 24 bits of 64 KiB units
    this.ram[0x5b] = high & 0xff; this.ram[0x5c] = (high >> 8) & 0xff; this.ram[0x5d] = (high >> 16) & 0xff;
  }

  private nowMs(): number { return this.baseMs + this.offsetMs + Math.floor(this.clock.now() / 1e6); }

  private encode(v: number, hour = false): number {
    let pm = 0;
    if (hour && !(this.ram[0x0b] & 2)) { pm = v >= 12 ? 0x80 : 0; v = v % 12 || 12; }
    const binary = (this.ram[0x0b] & 4) !== 0;
    return (binary ? v : ((Math.floor(v / 10) << 4) | (v % 10))) | pm;
  }

  private decode(v: number, hour = false): number {
    const pm = hour && !(this.ram[0x0b] & 2) && (v & 0x80) !== 0;
    v &= hour ? 0x7f : 0xff;
    let n = this.ram[0x0b] & 4 ? v : (v >> 4) * 10 + (v & 0xf);
    if (hour && !(this.ram[0x0b] & 2)) n = (n % 12) + (pm ? 12 : 0);
    return n;
  }

  private timeRegister(reg: number): number | undefined {
    const d = new Date(this.nowMs());
    switch (reg) {
      case 0x00: return this.encode(d.getUTCSeconds());
      case 0x02: return this.encode(d.getUTCMinutes());
      case 0x04: return this.encode(d.getUTCHours(), true);
      case 0x06: return this.encode(d.getUTCDay() + 1);
      case 0x07: return this.encode(d.getUTCDate());
      case 0x08: return this.encode(d.getUTCMonth() + 1);
      case 0x09: return this.encode(d.getUTCFullYear() % 100);
      case 0x32: return this.encode(Math.floor(d.getUTCFullYear() / 100));
      default: return undefined;
    }
  }

  ioRead(port: number): number {
    if (port === 0x70) return 0xff; // the index register is write-only
    const reg = this.index;
    const t = this.timeRegister(reg);
    if (t !== undefined) return t;
    if (reg === 0x0a) {
      const msInSecond = this.nowMs() % 1000;
      return (this.ram[0x0a] & 0x7f) | (msInSecond * 1e6 >= 1e9 - UIP_NS ? 0x80 : 0);
    }
    if (reg === 0x0c) {
      const v = this.ram[0x0c];
      this.ram[0x0c] = 0; // reading C acknowledges the interrupt
      this.irq8(false);
      return v;
    }
    return this.ram[reg];
  }

  ioWrite(port: number, _size: number, value: number): void {
    value &= 0xff;
    if (port === 0x70) { this.index = value & 0x7f; this.nmiMasked = (value & 0x80) !== 0; return; }
    const reg = this.index;
    if (this.timeRegister(reg) !== undefined) { this.setTime(reg, value); return; }
    if (reg === 0x0c || reg === 0x0d) return; // read-only
    this.ram[reg] = reg === 0x0a ? value & 0x7f : value;
    if (reg === 0x0a || reg === 0x0b) this.schedulePeriodic();
  }

  private setTime(reg: number, value: number): void {
    const d = new Date(this.nowMs());
    const n = this.decode(value, reg === 0x04);
    switch (reg) {
      case 0x00: d.setUTCSeconds(n); break;
      case 0x02: d.setUTCMinutes(n); break;
      case 0x04: d.setUTCHours(n); break;
      case 0x07: d.setUTCDate(n); break;
      case 0x08: d.setUTCMonth(n - 1); break;
      case 0x09: d.setUTCFullYear(Math.floor(d.getUTCFullYear() / 100) * 100 + n); break;
      case 0x32: d.setUTCFullYear(n * 100 + (d.getUTCFullYear() % 100)); break;
      default: return; // day of week follows the date
    }
    this.offsetMs += d.getTime() - this.nowMs();
  }

  private periodNs(): number | undefined {
    const rate = this.ram[0x0a] & 0xf;
    if (rate === 0 || !(this.ram[0x0b] & 0x40)) return undefined;
    const hz = 32768 >> ((rate <= 2 ? rate + 7 : rate) - 1);
    return 1e9 / hz;
  }

  private schedulePeriodic(): void {
    const p = this.periodNs();
    this.nextPeriodic = p === undefined ? undefined : this.clock.now() + p;
  }

  nextEventNs(): number | undefined { return this.nextPeriodic; }

  advanceTo(now: number): void {
    if (this.nextPeriodic === undefined || now < this.nextPeriodic) return;
    this.ram[0x0c] |= 0xc0; // IRQF | PF
    this.irq8(true);
    const p = this.periodNs()!;
    this.nextPeriodic += Math.max(1, Math.ceil((now + 1 - this.nextPeriodic) / p)) * p;
  }
}
