// 8254 programmable interval timer (ports 0x40-0x43) and port 0x61's channel 2 gate and
// output. Counters run at 1.193182 MHz of virtual time and are computed from the time the
// count was loaded, so reading them costs nothing between reads. Channel 0 drives IRQ 0.
// Modes 0-5, LSB/MSB/word access, counter latch and read-back. BCD counting is stored and
// reported but counts in binary.
import type { Clock, Device, IrqLine, PortRange } from './device';

export const PIT_HZ = 1193182;
const NS_PER_S = 1e9;

class Channel {
  mode = 0; access = 3; bcd = false;
  reload = 0x10000;
  /** Virtual ns when the count was loaded (counting starts then); undefined while unprogrammed. */
  loadedAt: number | undefined;
  gate = true;
  latched: number[] = [];
  statusLatched: number | undefined;
  writeLow: number | undefined;
  readHigh = false;
  /** For one-shot modes: the terminal count already fired. */
  fired = false;
  nullCount = true;

  ticks(now: number): number {
    return this.loadedAt === undefined ? 0 : Math.floor(((now - this.loadedAt) * PIT_HZ) / NS_PER_S);
  }

  count(now: number): number {
    if (this.loadedAt === undefined) return 0;
    const t = this.ticks(now);
    if (this.mode === 2 || this.mode === 3) {
      const step = this.mode === 3 ? 2 : 1; // mode 3 decrements by two each half-period
      const phase = (t * step) % this.reload;
      return (this.reload - phase) & 0xffff;
    }
    return (this.reload - t) & 0xffff; // modes 0, 1, 4, 5 wrap after the terminal count
  }

  out(now: number): boolean {
    if (this.loadedAt === undefined) return this.mode !== 0;
    const t = this.ticks(now);
    switch (this.mode) {
      case 0: return t >= this.reload;
      case 2: return t % this.reload !== this.reload - 1;
      case 3: return t % this.reload < Math.ceil(this.reload / 2);
      case 4: case 5: return t !== this.reload;
      default: return t >= this.reload; // mode 1
    }
  }

  /** Virtual ns of the next interrupt edge at or after `now`, if this channel produces one. */
  nextEdge(now: number): number | undefined {
    if (this.loadedAt === undefined || !this.gate) return undefined;
    const t = this.ticks(now);
    let edgeTick: number;
    if (this.mode === 2 || this.mode === 3) edgeTick = (Math.floor(t / this.reload) + 1) * this.reload;
    else if (this.mode === 0 && !this.fired) edgeTick = this.reload;
    else return undefined;
    return this.loadedAt + Math.ceil((edgeTick * NS_PER_S) / PIT_HZ);
  }
}

export class Pit8254 implements Device {
  readonly name = 'pit';
  enabled = true;
  readonly ports: readonly PortRange[] = [{ base: 0x40, count: 4 }, { base: 0x61, count: 1 }];
  private readonly ch = [new Channel(), new Channel(), new Channel()];
  private port61 = 0;
  /** Virtual ns of the next channel-0 edge not yet signalled. */
  private nextIrq: number | undefined;

  constructor(private readonly clock: Clock, private readonly irq0: IrqLine = () => {}) {
    this.ch[2].gate = false;
  }

  ioRead(port: number): number {
    const now = this.clock.now();
    if (port === 0x61) {
      const c2 = this.ch[2];
      // bit 4 toggles with DRAM refresh (every 15 us); bit 5 is channel 2's output
      const refresh = Math.floor(now / 15085) & 1;
      return (this.port61 & 0x0f) | (refresh << 4) | (c2.out(now) ? 0x20 : 0);
    }
    if (port === 0x43) return 0xff;
    const c = this.ch[port - 0x40];
    if (c.statusLatched !== undefined) { const s = c.statusLatched; c.statusLatched = undefined; return s; }
    if (c.latched.length) return c.latched.shift()!;
    const v = c.count(now);
    switch (c.access) {
      case 1: return v & 0xff;
      case 2: return v >> 8;
      default: { const hi = c.readHigh; c.readHigh = !hi; return hi ? v >> 8 : v & 0xff; }
    }
  }

  ioWrite(port: number, _size: number, value: number): void {
    value &= 0xff;
    const now = this.clock.now();
    if (port === 0x61) {
      this.port61 = value & 0x0f;
      const c2 = this.ch[2];
      const gate = (value & 1) !== 0;
      if (gate && !c2.gate && c2.loadedAt !== undefined) { c2.loadedAt = now; c2.fired = false; } // rising gate restarts
      c2.gate = gate;
      return;
    }
    if (port === 0x43) { this.control(value, now); return; }
    const c = this.ch[port - 0x40];
    switch (c.access) {
      case 1: this.load(c, (c.reload & 0xff00) | value, now); break;
      case 2: this.load(c, (value << 8) | (c.reload & 0xff), now); break;
      default:
        if (c.writeLow === undefined) { c.writeLow = value; if (c.mode === 0) c.loadedAt = undefined; } // mode 0: writing the LSB stops counting
        else { const lo = c.writeLow; c.writeLow = undefined; this.load(c, (value << 8) | lo, now); }
    }
  }

  private control(v: number, now: number): void {
    const sel = v >> 6;
    if (sel === 3) { // read-back
      for (let i = 0; i < 3; i++) {
        if (!(v & (2 << i))) continue;
        const c = this.ch[i];
        if (!(v & 0x20)) { const n = c.count(now); c.latched = c.access === 3 ? [n & 0xff, n >> 8] : [c.access === 2 ? n >> 8 : n & 0xff]; }
        if (!(v & 0x10)) c.statusLatched = (c.out(now) ? 0x80 : 0) | (c.nullCount ? 0x40 : 0) | (c.access << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
      }
      return;
    }
    const c = this.ch[sel];
    const access = (v >> 4) & 3;
    if (access === 0) { // counter latch
      if (!c.latched.length) { const n = c.count(now); c.latched = c.access === 3 ? [n & 0xff, n >> 8] : [c.access === 2 ? n >> 8 : n & 0xff]; }
      return;
    }
    c.access = access;
    c.mode = (v >> 1) & 7;
    if (c.mode > 5) c.mode -= 4; // 6 and 7 alias modes 2 and 3
    c.bcd = (v & 1) !== 0;
    c.loadedAt = undefined;
    c.nullCount = true;
    c.writeLow = undefined;
    c.readHigh = false;
    c.latched = [];
    if (sel === 0) this.nextIrq = undefined;
  }

  private load(c: Channel, value: number, now: number): void {
    c.reload = value === 0 ? 0x10000 : value;
    c.loadedAt = now;
    c.fired = false;
    c.nullCount = false;
    if (c === this.ch[0]) this.nextIrq = c.nextEdge(now);
  }

  nextEventNs(): number | undefined { return this.nextIrq; }

  advanceTo(now: number): void {
    const c = this.ch[0];
    if (this.nextIrq === undefined || now < this.nextIrq) return;
    // Edges missed inside one slice coalesce into one request, as a latched IRR bit does.
    this.irq0(true);
    this.irq0(false);
    if (c.mode === 0) c.fired = true;
    this.nextIrq = c.nextEdge(now);
    if (this.nextIrq !== undefined && this.nextIrq <= now) this.nextIrq = now + 1;
  }

  /** Counter value of channel `n` now (tests, debugger views). */
  counter(n: number): number { return this.ch[n].count(this.clock.now()); }
}
