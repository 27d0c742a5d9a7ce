import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Uart16550 } from '../../src/machine/devices/uart16550';
import { DebugCon, DebugExit, PostPort } from '../../src/machine/devices/debugPorts';
import { I8042 } from '../../src/machine/devices/i8042';
import { Pic8259Pair } from '../../src/machine/devices/pic8259';
import { Pit8254, PIT_HZ } from '../../src/machine/devices/pit8254';
import { LocalApic, LocalApicBank, XAPIC_BASE } from '../../src/machine/devices/localApic';
import { CmosRtc } from '../../src/machine/devices/cmosRtc';
import { InterruptRouter } from '../../src/machine/devices/interruptRouter';

class TestClock { t = 0; now(): number { return this.t; } }

test('UART: transmit goes to the output, LSR always shows THR empty, receive sets DR', () => {
  const out: number[] = [];
  const u = new Uart16550('com1', 0x3f8, (b) => out.push(b));
  assert.equal(u.ioRead(0x3fd) & 0x60, 0x60);
  u.ioWrite(0x3f8, 1, 0x41);
  u.ioWrite(0x3f8, 1, 0x142); // only the low byte is sent
  assert.deepEqual(out, [0x41, 0x42]);
  assert.equal(u.ioRead(0x3fd) & 1, 0);
  u.feed([0x61, 0x62]);
  assert.equal(u.ioRead(0x3fd) & 1, 1);
  assert.equal(u.ioRead(0x3f8), 0x61);
  assert.equal(u.ioRead(0x3f8), 0x62, 'the next byte moves into the holding register');
  assert.equal(u.ioRead(0x3fd) & 1, 0);
});

test('UART: divisor latch, scratch register, loopback and interrupt identification', () => {
  const out: number[] = [];
  let irq = false;
  const u = new Uart16550('com1', 0x3f8, (b) => out.push(b), (l) => { irq = l; });
  u.ioWrite(0x3fb, 1, 0x83); // DLAB
  u.ioWrite(0x3f8, 1, 0x01);
  u.ioWrite(0x3f9, 1, 0x00);
  assert.equal(u.ioRead(0x3f8), 0x01);
  u.ioWrite(0x3fb, 1, 0x03);
  u.ioWrite(0x3ff, 1, 0x5a);
  assert.equal(u.ioRead(0x3ff), 0x5a);
  assert.equal(u.ioRead(0x3fa) & 0x0f, 0x01, 'no interrupt pending');
  u.ioWrite(0x3fc, 1, 0x08); // OUT2: interrupts reach the PIC
  u.ioWrite(0x3f9, 1, 0x01); // receive-data interrupts
  assert.equal(irq, false);
  u.feed([0x33]);
  assert.equal(irq, true);
  assert.equal(u.ioRead(0x3fa) & 0x0f, 0x04);
  u.ioRead(0x3f8);
  assert.equal(irq, false);
  u.ioWrite(0x3f9, 1, 0x02); // THR empty interrupt fires when enabled
  assert.equal(u.ioRead(0x3fa) & 0x0f, 0x02);
  assert.equal(u.ioRead(0x3fa) & 0x0f, 0x01, 'reading IIR acknowledged it');
  u.ioWrite(0x3fc, 1, 0x18); // loopback
  u.ioWrite(0x3f8, 1, 0x77);
  assert.deepEqual(out, [], 'loopback bytes do not leave the UART');
  assert.equal(u.ioRead(0x3f8), 0x77);
});

test('isa-debug-exit, debugcon and the POST port', () => {
  const exits: number[][] = [];
  const d = new DebugExit(0xf4, (v, s) => exits.push([v, s]));
  d.ioWrite(0xf4, 1, 0x10);
  d.ioWrite(0xf4, 4, 0x12345678);
  assert.deepEqual(exits, [[0x10, 33], [0x12345678, ((0x12345678 << 1) | 1) >>> 0]]);
  const con: number[] = [];
  const c = new DebugCon(0xe9, (b) => con.push(b));
  c.ioWrite(0xe9, 1, 0x48);
  assert.deepEqual(con, [0x48]);
  assert.equal(c.ioRead(), 0xe9);
  const p = new PostPort();
  p.ioWrite(0x80, 1, 0xaa);
  assert.equal(p.ioRead(), 0xaa);
});

test('i8042: 0xFE to port 0x64 resets; output-port writes too; self-test answers', () => {
  const resets: string[] = [];
  const k = new I8042((r) => resets.push(r));
  k.ioWrite(0x64, 1, 0xaa);
  assert.equal(k.ioRead(0x64) & 1, 1);
  assert.equal(k.ioRead(0x60), 0x55);
  assert.equal(k.ioRead(0x64) & 1, 0);
  k.ioWrite(0x64, 1, 0xfe);
  assert.equal(resets.length, 1);
  k.ioWrite(0x64, 1, 0xff); // pulses no line
  assert.equal(resets.length, 1);
  k.ioWrite(0x64, 1, 0xd1);
  k.ioWrite(0x60, 1, 0x02); // A20 on, reset line low
  assert.equal(resets.length, 2);
});

test('8259 pair: initialisation, masking, priority, cascade, EOI and spurious IRQ 7', () => {
  const pic = new Pic8259Pair();
  const init = (base: number, vec: number, icw3: number) => { pic.ioWrite(base, 1, 0x11); pic.ioWrite(base + 1, 1, vec); pic.ioWrite(base + 1, 1, icw3); pic.ioWrite(base + 1, 1, 0x01); };
  init(0x20, 0x20, 0x04);
  init(0xa0, 0x28, 0x02);
  pic.ioWrite(0x21, 1, 0xfe); // only IRQ 0
  pic.ioWrite(0xa1, 1, 0xff);
  pic.setIrq(1, true);
  assert.equal(pic.pendingVector(), -1, 'IRQ 1 is masked');
  pic.setIrq(0, true); pic.setIrq(0, false);
  assert.equal(pic.pendingVector(), 0x20);
  assert.equal(pic.acknowledge(), 0x20);
  assert.equal(pic.pendingVector(), -1);
  pic.ioWrite(0x20, 1, 0x0b); // OCW3: read ISR
  assert.equal(pic.ioRead(0x20), 0x01);
  pic.ioWrite(0x21, 1, 0xfa); // unmask 0 and 2 (IRQ 1 stays latched but masked)
  pic.ioWrite(0xa1, 1, 0xef); // unmask IRQ 12
  pic.setIrq(12, true);
  assert.equal(pic.pendingVector(), -1, 'IRQ 0 in service blocks lower priorities');
  pic.ioWrite(0x20, 1, 0x20); // EOI
  assert.equal(pic.pendingVector(), 0x2c);
  assert.equal(pic.acknowledge(), 0x2c);
  assert.equal(pic.state().slave.isr, 0x10);
  assert.equal(pic.state().master.isr, 0x04);
  // A request that disappears before INTA gives the spurious vector 7.
  pic.ioWrite(0xa0, 1, 0x20); pic.ioWrite(0x20, 1, 0x20);
  pic.ioWrite(0x4d0, 1, 0x08); // IRQ 3 level-triggered
  pic.ioWrite(0x21, 1, 0xf7);
  pic.setIrq(3, true);
  assert.equal(pic.pendingVector(), 0x23);
  pic.setIrq(3, false);
  assert.equal(pic.acknowledge(), 0x27);
});

test('8254: mode 2 count down and channel 0 interrupts at the programmed rate in virtual time', () => {
  const clock = new TestClock();
  let edges = 0;
  const pit = new Pit8254(clock, (l) => { if (l) edges++; });
  pit.ioWrite(0x43, 1, 0x34); // channel 0, lo/hi, mode 2
  pit.ioWrite(0x40, 1, 0x9c); pit.ioWrite(0x40, 1, 0x2e); // 11932: ~100 Hz
  const period = 11932 * 1e9 / PIT_HZ;
  const first = pit.nextEventNs()!;
  assert.ok(Math.abs(first - period) < 1);
  clock.t = 1000 * 1e3; // 1 ms: ~1193 ticks elapsed
  pit.ioWrite(0x43, 1, 0x00); // latch channel 0
  const lo = pit.ioRead(0x40), hi = pit.ioRead(0x40);
  assert.equal((hi << 8) | lo, 11932 - Math.floor(1e6 * PIT_HZ / 1e9));
  for (let i = 0; i < 10; i++) { clock.t = pit.nextEventNs()!; pit.advanceTo(clock.t); }
  assert.equal(edges, 10);
  assert.ok(Math.abs(clock.t - 10 * period) < 2);
});

test('8254: mode 0 fires once; read-back status; channel 2 gate and output on port 0x61', () => {
  const clock = new TestClock();
  let edges = 0;
  const pit = new Pit8254(clock, (l) => { if (l) edges++; });
  pit.ioWrite(0x43, 1, 0x30); // channel 0, lo/hi, mode 0
  pit.ioWrite(0x40, 1, 100); pit.ioWrite(0x40, 1, 0);
  clock.t = pit.nextEventNs()!;
  pit.advanceTo(clock.t);
  assert.equal(edges, 1);
  assert.equal(pit.nextEventNs(), undefined);
  pit.ioWrite(0x43, 1, 0xe2); // read-back status of channel 0
  assert.equal(pit.ioRead(0x40), 0x80 | 0x30 | 0x00, 'OUT high, lo/hi access, mode 0');
  pit.ioWrite(0x43, 1, 0xb0); // channel 2, mode 0
  pit.ioWrite(0x42, 1, 10); pit.ioWrite(0x42, 1, 0);
  assert.equal(pit.ioRead(0x61) & 0x20, 0);
  pit.ioWrite(0x61, 1, 0x01); // gate on: counting starts
  clock.t += 20 * 1e9 / PIT_HZ;
  assert.equal(pit.ioRead(0x61) & 0x20, 0x20, 'terminal count reached');
});

test('local APIC: timer one-shot and periodic, priority, EOI, x2APIC MSR access', () => {
  const clock = new TestClock();
  let apicBase = 0xfee00900n;
  const bank = new LocalApicBank(2, clock, () => {}, () => apicBase);
  const a = bank.apics[0];
  assert.equal(Number(bank.mmioRead(0, XAPIC_BASE + 0x20, 4)), 0);
  assert.equal(Number(bank.mmioRead(1, XAPIC_BASE + 0x20, 4)), 1 << 24);
  bank.mmioWrite(0, XAPIC_BASE + 0xf0, 4, 0x1ffn); // enable
  bank.mmioWrite(0, XAPIC_BASE + 0x3e0, 4, 0x0bn); // divide by 1
  bank.mmioWrite(0, XAPIC_BASE + 0x320, 4, 0x20040n); // periodic, vector 0x40
  bank.mmioWrite(0, XAPIC_BASE + 0x380, 4, 1000n); // 1000 ticks = 10 us
  assert.equal(bank.nextEventNs(), 10_000);
  clock.t = 2500;
  assert.equal(Number(bank.mmioRead(0, XAPIC_BASE + 0x390, 4)), 750);
  clock.t = 10_000;
  bank.advanceTo(clock.t);
  assert.equal(a.pendingVector(), 0x40);
  assert.equal(bank.nextEventNs(), 20_000);
  assert.equal(a.acknowledge(), 0x40);
  a.accept(0x41);
  assert.equal(a.pendingVector(), -1, 'same priority class as the one in service');
  a.accept(0x51);
  assert.equal(a.pendingVector(), 0x51);
  bank.mmioWrite(0, XAPIC_BASE + 0x80, 4, 0x60n); // TPR above both
  assert.equal(a.pendingVector(), -1);
  bank.mmioWrite(0, XAPIC_BASE + 0x80, 4, 0n);
  bank.mmioWrite(0, XAPIC_BASE + 0xb0, 4, 0n); // EOI 0x40
  assert.equal(Number(bank.mmioRead(0, XAPIC_BASE + 0x100 + 0x20, 4)) & 1, 0, 'ISR bit of 0x40 cleared');
  assert.equal(bank.rdmsr(0, 0x802), undefined, 'x2APIC MSRs #GP while x2APIC is off');
  apicBase = 0xfee00d00n; // EN | EXTD
  assert.equal(bank.rdmsr(0, 0x802), 0n, 'x2APIC ID is the plain APIC ID');
  assert.ok(bank.wrmsr(0, 0x83f, 0x77n)); // SELF IPI
  assert.equal(a.pendingVector(), 0x77);
});

test('local APIC: one-shot timer stops; masked LVT raises nothing; IPIs reach the sender callback', () => {
  const clock = new TestClock();
  const ipis: unknown[] = [];
  const a = new LocalApic(0, clock, (from, kind, vector, dest) => ipis.push({ from, kind, vector, dest }));
  a.write(0xf0, 0x100);
  a.write(0x3e0, 0x3); // divide by 16
  a.write(0x320, 0x30);
  a.write(0x380, 100);
  assert.equal(a.nextEventNs(), 16_000);
  clock.t = 20_000;
  a.advanceTo(clock.t);
  assert.equal(a.pendingVector(), 0x30);
  assert.equal(a.nextEventNs(), undefined);
  assert.equal(a.read(0x390), 0);
  a.write(0x310, 1 << 24);
  a.write(0x300, 0x4500); // INIT to APIC 1
  a.write(0x300, 0x4608); // SIPI vector 8
  assert.deepEqual(ipis.map((i: any) => [i.kind, i.vector, i.dest.id]), [['init', 0, 1], ['startup', 8, 1]]);
});

test('interrupt router: APIC first, then the PIC through LINT0 ExtINT', () => {
  const clock = new TestClock();
  const pic = new Pic8259Pair();
  pic.ioWrite(0x20, 1, 0x11); pic.ioWrite(0x21, 1, 0x20); pic.ioWrite(0x21, 1, 4); pic.ioWrite(0x21, 1, 1); pic.ioWrite(0x21, 1, 0);
  const apic = new LocalApic(0, clock, () => {});
  const r = new InterruptRouter(() => apic, () => pic);
  pic.setIrq(0, true);
  assert.equal(r.pendingVector(), 0x20, 'software-disabled APIC passes 8259 interrupts');
  apic.write(0xf0, 0x1ff);
  assert.equal(r.pendingVector(), -1, 'LINT0 masked after enabling');
  apic.write(0x350, 0x700); // ExtINT
  apic.accept(0x90);
  assert.equal(r.pendingVector(), 0x90);
  assert.equal(r.acknowledge(), 0x90);
  apic.eoi();
  assert.equal(r.acknowledge(), 0x20);
});

test('CMOS RTC: BCD time that runs with virtual time, status registers, periodic interrupt, memory size', () => {
  const clock = new TestClock();
  let irq = false;
  const base = Date.UTC(2026, 10, 21, 23, 59, 58);
  const rtc = new CmosRtc(clock, base, 128 * 2 ** 20, 0, (l) => { irq = l; });
  const rd = (r: number) => { rtc.ioWrite(0x70, 1, r); return rtc.ioRead(0x71); };
  assert.equal(rd(0x00), 0x58);
  assert.equal(rd(0x04), 0x23);
  assert.equal(rd(0x09), 0x26);
  assert.equal(rd(0x32), 0x20);
  clock.t = 3e9; // three virtual seconds later
  assert.equal(rd(0x00), 0x01);
  assert.equal(rd(0x07), 0x22);
  rtc.ioWrite(0x70, 1, 0x0b); rtc.ioWrite(0x71, 1, 0x06); // binary
  assert.equal(rd(0x02), 0);
  assert.equal(rd(0x0d), 0x80);
  assert.equal(rd(0x17) | (rd(0x18) << 8), 0xffff, 'extended memory saturates at 64 MiB');
  assert.equal(rd(0x34) | (rd(0x35) << 8), (128 - 16) * 16, 'memory above 16 MiB in 64 KiB units');
  rtc.ioWrite(0x70, 1, 0x0b); rtc.ioWrite(0x71, 1, 0x46); // periodic interrupts, 1024 Hz
  const t = rtc.nextEventNs()!;
  assert.ok(Math.abs(t - clock.t - 1e9 / 1024) < 1);
  rtc.advanceTo(t);
  assert.equal(irq, true);
  assert.equal(rd(0x0c) & 0xc0, 0xc0);
  assert.equal(irq, false);
  rtc.ioWrite(0x70, 1, 0x80 | 0x00);
  assert.equal(rtc.nmiMasked, true);
});
