// The two cascaded 8259A PICs of a PC (master 0x20/0x21, slave 0xA0/0xA1 on master input 2,
// edge/level control at 0x4D0/0x4D1). Implements the ICW1-4 initialisation sequence, the
// mask, specific and non-specific EOI, automatic EOI, OCW3 register reads and poll mode,
// fixed priority (IR0 highest) with rotation, special mask mode and spurious IRQ 7/15.
import type { Device, PortRange } from './device';

class Chip {
  irr = 0; isr = 0; imr = 0xff;
  /** Input line levels, for edge detection and level-triggered inputs. */
  lines = 0;
  /** ELCR bits: 1 = level triggered. */
  elcr = 0;
  vectorBase = 0x08;
  lowestPriority = 7;
  initStep = 0; needIcw4 = false; single = false;
  autoEoi = false; rotateOnAutoEoi = false; specialMask = false;
  readIsr = false; poll = false;

  reset(): void {
    this.irr = 0; this.isr = 0; this.imr = 0; this.lowestPriority = 7;
    this.autoEoi = false; this.rotateOnAutoEoi = false; this.specialMask = false; this.readIsr = false; this.poll = false;
  }

  setLine(n: number, level: boolean): void {
    const bit = 1 << n;
    if (level) {
      if (!(this.lines & bit) || this.elcr & bit) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (this.elcr & bit) this.irr &= ~bit;
    }
  }

  /** Inputs in priority order, highest first. */
  private *order(): Generator<number> {
    for (let i = 1; i <= 8; i++) yield (this.lowestPriority + i) & 7;
  }

  /** Highest-priority requested, unmasked input that outranks every in-service one; -1 if none. */
  highest(): number {
    const req = this.irr & ~this.imr;
    if (!req) return -1;
    for (const n of this.order()) {
      if (this.isr & (1 << n) && !this.specialMask) return -1;
      if (req & (1 << n)) return n;
    }
    return -1;
  }

  /** Accepts input `n`: in service (unless auto-EOI), request cleared for edge inputs. */
  accept(n: number): void {
    const bit = 1 << n;
    if (!(this.elcr & bit)) this.irr &= ~bit;
    if (this.autoEoi) { if (this.rotateOnAutoEoi) this.lowestPriority = n; }
    else this.isr |= bit;
  }

  highestInService(): number {
    for (const n of this.order()) if (this.isr & (1 << n)) return n;
    return -1;
  }

  writeCommand(v: number): void {
    if (v & 0x10) { // ICW1
      this.reset();
      this.needIcw4 = (v & 1) !== 0;
      this.single = (v & 2) !== 0;
      this.initStep = 2;
      return;
    }
    if (v & 0x08) { // OCW3
      if (v & 0x04) this.poll = true;
      if (v & 0x02) this.readIsr = (v & 1) !== 0;
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
      return;
    }
    // OCW2: R SL EOI
    const op = v >> 5, level = v & 7;
    switch (op) {
      case 1: { const n = this.highestInService(); if (n >= 0) this.isr &= ~(1 << n); break; } // non-specific EOI
      case 3: this.isr &= ~(1 << level); break; // specific EOI
      case 5: { const n = this.highestInService(); if (n >= 0) { this.isr &= ~(1 << n); this.lowestPriority = n; } break; } // rotate on non-specific EOI
      case 4: this.rotateOnAutoEoi = true; break;
      case 0: this.rotateOnAutoEoi = false; break;
      case 7: this.isr &= ~(1 << level); this.lowestPriority = level; break; // rotate on specific EOI
      case 6: this.lowestPriority = level; break; // set priority
      default: break;
    }
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2: this.vectorBase = v & 0xf8; this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3; return;
      case 3: this.initStep = this.needIcw4 ? 4 : 0; return; // cascade wiring: fixed by the board
      case 4: this.autoEoi = (v & 2) !== 0; this.initStep = 0; return;
      default: this.imr = v;
    }
  }

  readCommand(): number { return this.readIsr ? this.isr : this.irr; }
}

export class Pic8259Pair implements Device {
  readonly name = 'pic';
  enabled = true;
  readonly ports: readonly PortRange[] = [{ base: 0x20, count: 2 }, { base: 0xa0, count: 2 }, { base: 0x4d0, count: 2 }];
  private readonly master = new Chip();
  private readonly slave = new Chip();

  constructor() {
    this.slave.vectorBase = 0x70;
  }

  /** Drives input `irq` (0-15). Edge-triggered inputs latch on the rising edge. */
  setIrq(irq: number, level: boolean): void {
    if (irq >= 8) { this.slave.setLine(irq - 8, level); this.cascade(); }
    else this.master.setLine(irq, level);
  }

  private cascade(): void {
    this.master.setLine(2, this.slave.highest() >= 0);
  }

  /** Vector the pair would deliver now, or -1. Does not change state. */
  pendingVector(): number {
    const m = this.master.highest();
    if (m < 0) return -1;
    if (m === 2) {
      const s = this.slave.highest();
      return s < 0 ? this.slave.vectorBase + 7 : this.slave.vectorBase + s;
    }
    return this.master.vectorBase + m;
  }

  /** INTA cycle: returns the vector and moves the request in service (spurious 7/15 if it vanished). */
  acknowledge(): number {
    const m = this.master.highest();
    if (m < 0) return this.master.vectorBase + 7;
    this.master.accept(m);
    if (m !== 2) return this.master.vectorBase + m;
    const s = this.slave.highest();
    if (s < 0) { this.cascade(); return this.slave.vectorBase + 7; }
    this.slave.accept(s);
    this.cascade();
    return this.slave.vectorBase + s;
  }

  ioRead(port: number): number {
    if (port === 0x4d0) return this.master.elcr;
    if (port === 0x4d1) return this.slave.elcr;
    const chip = port < 0xa0 ? this.master : this.slave;
    if (chip.poll) {
      chip.poll = false;
      const n = chip.highest();
      if (n < 0) return 0;
      chip.accept(n);
      if (chip === this.slave) this.cascade();
      return 0x80 | n;
    }
    return (port & 1) === 0 ? chip.readCommand() : chip.imr;
  }

  ioWrite(port: number, _size: number, value: number): void {
    value &= 0xff;
    if (port === 0x4d0) { this.master.elcr = value & 0xf8; return; } // IRQ 0-2 are always edge
    if (port === 0x4d1) { this.slave.elcr = value & 0xde; return; } // IRQ 8 and 13 are always edge
    const chip = port < 0xa0 ? this.master : this.slave;
    if ((port & 1) === 0) chip.writeCommand(value); else chip.writeData(value);
    if (chip === this.slave) this.cascade();
  }

  /** Register view for tests and the debugger. */
  state(): { master: { irr: number; isr: number; imr: number; vectorBase: number }; slave: { irr: number; isr: number; imr: number; vectorBase: number } } {
    const v = (c: Chip) => ({ irr: c.irr, isr: c.isr, imr: c.imr, vectorBase: c.vectorBase });
    return { master: v(this.master), slave: v(this.slave) };
  }
}
