// The InterruptSource each virtual processor polls: its local APIC's fixed interrupts and,
// for the boot processor while LINT0 is in ExtINT mode (or the APIC is software-disabled),
// the 8259 pair's — the PC's "virtual wire" wiring.
import type { InterruptSource } from '../../emulator/vcpu';
import type { LocalApic } from './localApic';
import type { Pic8259Pair } from './pic8259';

export class InterruptRouter implements InterruptSource {
  /** Interrupts are only taken from devices that are enabled. */
  constructor(private readonly apic: () => LocalApic | undefined, private readonly pic: () => Pic8259Pair | undefined) {}

  pendingVector(): number {
    const a = this.apic();
    const v = a ? a.pendingVector() : -1;
    if (v >= 0) return v;
    const p = this.pic();
    return p && (!a || a.passesExtInt()) ? p.pendingVector() : -1;
  }

  acknowledge(): number {
    const a = this.apic();
    if (a && a.pendingVector() >= 0) return a.acknowledge();
    const p = this.pic();
    return p ? p.acknowledge() : (a ? a.acknowledge() : 0);
  }
}
