// Local APICs, one per virtual processor: xAPIC registers at 0xFEE00000 (MMIO exits) and
// x2APIC registers as MSRs 0x800-0x8FF (MSR exits, valid once IA32_APIC_BASE.EXTD is set).
// IRR/ISR/TMR with TPR/PPR priority, EOI, the LVT timer (one-shot and periodic, divide
// configuration) in virtual time, fixed IPIs and INIT/SIPI through the ICR, self-IPI, and
// the error status register. LINT0 in ExtINT mode passes the 8259's interrupts through
// (the PC's virtual-wire mode), handled by InterruptRouter.
import type { Clock, Device, MmioRange } from './device';

export const XAPIC_BASE = 0xfee00000;
export const X2APIC_MSR_FIRST = 0x800;
export const X2APIC_MSR_LAST = 0x8ff;
/** The APIC timer's input clock in virtual time (a 100 MHz bus clock). */
export const APIC_BUS_HZ = 100_000_000;
const NS_PER_TICK = 1e9 / APIC_BUS_HZ;

const REG = {
  ID: 0x20, VERSION: 0x30, TPR: 0x80, APR: 0x90, PPR: 0xa0, EOI: 0xb0, RRD: 0xc0, LDR: 0xd0, DFR: 0xe0, SVR: 0xf0,
  ISR: 0x100, TMR: 0x180, IRR: 0x200, ESR: 0x280, CMCI: 0x2f0, ICR_LO: 0x300, ICR_HI: 0x310,
  LVT_TIMER: 0x320, LVT_THERMAL: 0x330, LVT_PERF: 0x340, LVT_LINT0: 0x350, LVT_LINT1: 0x360, LVT_ERROR: 0x370,
  TIMER_INIT: 0x380, TIMER_CUR: 0x390, TIMER_DIV: 0x3e0, SELF_IPI: 0x3f0,
};
const LVT_MASK = 0x10000;
const DIVIDERS = [2, 4, 8, 16, 32, 64, 128, 1];

export type IpiKind = 'fixed' | 'init' | 'startup' | 'nmi';
/** Sends an IPI from `from` to the destination; returns false if no processor accepted it. */
export type IpiSender = (from: number, kind: IpiKind, vector: number, dest: { shorthand: number; id: number; logical: boolean }) => void;

export class LocalApic {
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  tpr = 0; ldr = 0; dfr = 0xffffffff; svr = 0xff; esr = 0; pendingEsr = 0;
  icrLo = 0; icrHi = 0;
  readonly lvt = new Uint32Array(7).fill(LVT_MASK); // CMCI, timer, thermal, perf, LINT0, LINT1, error
  timerInitial = 0; divideConfig = 0;
  /** Virtual ns when the current timer count started; undefined when stopped. */
  private timerStart: number | undefined;
  private timerNext: number | undefined;
  x2apic = false;

  constructor(readonly id: number, private readonly clock: Clock, private readonly sendIpi: IpiSender) {}

  get softwareEnabled(): boolean { return (this.svr & 0x100) !== 0; }

  private divider(): number {
    const d = this.divideConfig;
    return DIVIDERS[((d >> 1) & 4) | (d & 3)];
  }

  /** Raises `vector` in the IRR (fixed delivery). Vectors below 16 are illegal: error status bit 6. */
  accept(vector: number, level = false): void {
    if (vector < 16) { this.raiseError(0x40); return; }
    if (!this.softwareEnabled) return;
    this.irr[vector >> 5] |= 1 << (vector & 31);
    if (level) this.tmr[vector >> 5] |= 1 << (vector & 31); else this.tmr[vector >> 5] &= ~(1 << (vector & 31));
  }

  private raiseError(bit: number): void {
    this.pendingEsr |= bit;
    const lvt = this.lvt[6];
    if (!(lvt & LVT_MASK)) this.accept(lvt & 0xff);
  }

  private static highestBit(bits: Uint32Array): number {
    for (let i = 7; i >= 0; i--) if (bits[i]) return i * 32 + 31 - Math.clz32(bits[i]);
    return -1;
  }

  ppr(): number {
    const isrv = LocalApic.highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  /** Highest IRR vector whose priority class is above the processor priority; -1 if none. */
  pendingVector(): number {
    const v = LocalApic.highestBit(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  acknowledge(): number {
    const v = this.pendingVector();
    if (v < 0) return this.svr & 0xff; // spurious
    this.irr[v >> 5] &= ~(1 << (v & 31));
    this.isr[v >> 5] |= 1 << (v & 31);
    return v;
  }

  /** Retires the highest in-service vector; returns it (0 if none was in service). */
  eoi(): number {
    const v = LocalApic.highestBit(this.isr);
    if (v < 0) return 0;
    this.isr[v >> 5] &= ~(1 << (v & 31));
    return v;
  }

  /** LVT LINT0 set to ExtINT and unmasked, or the APIC software-disabled: 8259 interrupts pass through. */
  passesExtInt(): boolean {
    if (!this.softwareEnabled) return true;
    const l = this.lvt[4];
    return !(l & LVT_MASK) && ((l >> 8) & 7) === 7;
  }

  read(offset: number): number {
    if (offset >= REG.ISR && offset < REG.ISR + 0x80) return this.isr[(offset - REG.ISR) >> 4];
    if (offset >= REG.TMR && offset < REG.TMR + 0x80) return this.tmr[(offset - REG.TMR) >> 4];
    if (offset >= REG.IRR && offset < REG.IRR + 0x80) return this.irr[(offset - REG.IRR) >> 4];
    switch (offset) {
      case REG.ID: return this.x2apic ? this.id : this.id << 24;
      case REG.VERSION: return 0x00060014; // version 0x14, 7 LVT entries
      case REG.TPR: return this.tpr;
      case REG.PPR: return this.ppr();
      case REG.LDR: return this.x2apic ? ((this.id >> 4) << 16) | (1 << (this.id & 15)) : this.ldr;
      case REG.DFR: return this.dfr;
      case REG.SVR: return this.svr;
      case REG.ESR: return this.esr;
      case REG.ICR_LO: return this.icrLo & ~0x1000; // delivery is immediate: never "send pending"
      case REG.ICR_HI: return this.icrHi;
      case REG.CMCI: return this.lvt[0];
      case REG.LVT_TIMER: return this.lvt[1];
      case REG.LVT_THERMAL: return this.lvt[2];
      case REG.LVT_PERF: return this.lvt[3];
      case REG.LVT_LINT0: return this.lvt[4];
      case REG.LVT_LINT1: return this.lvt[5];
      case REG.LVT_ERROR: return this.lvt[6];
      case REG.TIMER_INIT: return this.timerInitial;
      case REG.TIMER_CUR: return this.currentCount();
      case REG.TIMER_DIV: return this.divideConfig;
      default: return 0;
    }
  }

  write(offset: number, value: number): void {
    value >>>= 0;
    switch (offset) {
      case REG.TPR: this.tpr = value & 0xff; break;
      case REG.EOI: this.eoi(); break;
      case REG.LDR: if (!this.x2apic) this.ldr = value & 0xff000000; break;
      case REG.DFR: if (!this.x2apic) this.dfr = value | 0x0fffffff; break;
      case REG.SVR:
        this.svr = value & 0x11ff;
        if (!this.softwareEnabled) for (let i = 0; i < 7; i++) this.lvt[i] |= LVT_MASK;
        break;
      case REG.ESR: this.esr = this.pendingEsr; this.pendingEsr = 0; break;
      case REG.ICR_HI: this.icrHi = value; break;
      case REG.ICR_LO: this.icrLo = value; this.sendFromIcr(); break;
      case REG.CMCI: this.writeLvt(0, value); break;
      case REG.LVT_TIMER: this.writeLvt(1, value); this.rearm(); break;
      case REG.LVT_THERMAL: this.writeLvt(2, value); break;
      case REG.LVT_PERF: this.writeLvt(3, value); break;
      case REG.LVT_LINT0: this.writeLvt(4, value); break;
      case REG.LVT_LINT1: this.writeLvt(5, value); break;
      case REG.LVT_ERROR: this.writeLvt(6, value); break;
      case REG.TIMER_INIT:
        this.timerInitial = value;
        this.timerStart = value === 0 ? undefined : this.clock.now();
        this.rearm();
        break;
      case REG.TIMER_DIV: {
        const cur = this.currentCount();
        this.divideConfig = value & 0xb;
        if (this.timerStart !== undefined) this.restartFrom(cur);
        break;
      }
      case REG.SELF_IPI: this.accept(value & 0xff); break;
      default: break; // read-only or reserved: ignored
    }
  }

  private writeLvt(i: number, value: number): void {
    const writable = [0x107ff, 0x710ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff][i];
    let v = value & writable;
    if (!this.softwareEnabled) v |= LVT_MASK;
    this.lvt[i] = v;
  }

  private sendFromIcr(): void {
    const lo = this.icrLo;
    const mode = (lo >> 8) & 7;
    const kind: IpiKind | undefined = mode === 0 ? 'fixed' : mode === 5 ? ((lo & 0x4000) ? 'init' : undefined) : mode === 6 ? 'startup' : mode === 4 ? 'nmi' : undefined;
    if (kind === undefined) return; // INIT level de-assert, SMI, lowest-priority... not modelled
    const id = this.x2apic ? this.icrHi : this.icrHi >>> 24;
    this.sendIpi(this.id, kind, lo & 0xff, { shorthand: (lo >> 18) & 3, id, logical: (lo & 0x800) !== 0 });
  }

  // Timer: the count decrements once per (divider) bus clocks from timerStart.
  private periodNs(): number { return this.timerInitial * this.divider() * NS_PER_TICK; }

  currentCount(): number {
    if (this.timerStart === undefined || this.timerInitial === 0) return 0;
    const ticks = Math.floor((this.clock.now() - this.timerStart) / (this.divider() * NS_PER_TICK));
    const periodic = ((this.lvt[1] >> 17) & 3) === 1;
    if (ticks >= this.timerInitial) return periodic ? this.timerInitial - (ticks % this.timerInitial) : 0;
    return this.timerInitial - ticks;
  }

  private restartFrom(count: number): void {
    // Keep the current count: pretend the timer started as long ago as that count implies.
    this.timerStart = this.clock.now() - (this.timerInitial - count) * this.divider() * NS_PER_TICK;
    this.rearm();
  }

  private rearm(): void {
    if (this.timerStart === undefined || this.timerInitial === 0) { this.timerNext = undefined; return; }
    const now = this.clock.now();
    const period = this.periodNs();
    const elapsed = now - this.timerStart;
    if (elapsed < period) { this.timerNext = this.timerStart + period; return; }
    const periodic = ((this.lvt[1] >> 17) & 3) === 1;
    this.timerNext = periodic ? this.timerStart + (Math.floor(elapsed / period) + 1) * period : undefined;
  }

  nextEventNs(): number | undefined { return this.timerNext; }

  advanceTo(now: number): void {
    if (this.timerNext === undefined || now < this.timerNext) return;
    const lvt = this.lvt[1];
    if (!(lvt & LVT_MASK)) this.accept(lvt & 0xff);
    const periodic = ((lvt >> 17) & 3) === 1;
    if (periodic) {
      const period = this.periodNs();
      this.timerNext = this.timerStart! + (Math.floor((now - this.timerStart!) / period) + 1) * period;
    } else {
      this.timerNext = undefined;
    }
  }
}

/** The local APICs of all processors as one device: MMIO is routed by the accessing processor. */
export class LocalApicBank implements Device {
  readonly name = 'lapic';
  enabled = true;
  readonly mmio: readonly MmioRange[] = [{ base: XAPIC_BASE, size: 0x1000 }];
  readonly apics: LocalApic[];

  constructor(processorCount: number, clock: Clock, sendIpi: IpiSender, private readonly apicBaseMsr: (vp: number) => bigint) {
    this.apics = Array.from({ length: processorCount }, (_, i) => new LocalApic(i, clock, sendIpi));
  }

  mmioRead(vp: number, gpa: number, size: number): bigint {
    const off = (gpa - XAPIC_BASE) & 0xff0;
    const v = this.apics[vp].read(off) >>> ((gpa & 3) * 8);
    return BigInt(size >= 4 ? v >>> 0 : v & ((1 << (size * 8)) - 1));
  }

  mmioWrite(vp: number, gpa: number, _size: number, value: bigint): void {
    if ((gpa & 0xf) !== 0) return; // the registers take aligned 32-bit writes only
    this.apics[vp].write((gpa - XAPIC_BASE) & 0xff0, Number(value & 0xffffffffn));
  }

  claimsMsr(index: number): boolean { return index >= X2APIC_MSR_FIRST && index <= X2APIC_MSR_LAST; }

  private x2(vp: number): LocalApic | undefined {
    const a = this.apics[vp];
    a.x2apic = (this.apicBaseMsr(vp) & 0xc00n) === 0xc00n;
    return a.x2apic ? a : undefined;
  }

  rdmsr(vp: number, index: number): bigint | undefined {
    const a = this.x2(vp);
    if (!a || index === 0x80b || index === 0x83f) return undefined; // EOI and SELF IPI are write-only
    if (index === 0x830) return (BigInt(a.icrHi) << 32n) | BigInt(a.read(0x300) >>> 0);
    return BigInt(a.read((index - X2APIC_MSR_FIRST) << 4) >>> 0);
  }

  wrmsr(vp: number, index: number, value: bigint): boolean {
    const a = this.x2(vp);
    if (!a) return false;
    if (index === 0x830) { a.icrHi = Number(value >> 32n); a.write(0x300, Number(value & 0xffffffffn)); return true; }
    a.write((index - X2APIC_MSR_FIRST) << 4, Number(value & 0xffffffffn));
    return true;
  }

  nextEventNs(): number | undefined {
    let next: number | undefined;
    for (const a of this.apics) { const t = a.nextEventNs(); if (t !== undefined && (next === undefined || t < next)) next = t; }
    return next;
  }

  advanceTo(now: number): void { for (const a of this.apics) a.advanceTo(now); }
}
