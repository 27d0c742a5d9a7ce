import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Machine, type MachineOptions, type MachineStop } from '../../src/machine/machine';
import { WhvRunVpExitReason as X, HvRegisterName as R } from '../../src/partition/hvdef';

const GUESTS = 'test/fixtures/guests';
const RTC_BASE = Date.UTC(2026, 10, 22, 12, 34, 56);

interface Run { out: string; stop: MachineStop; machine: Machine; exits: string[] }

/** Runs to the first stop that is not a budget slice, completing reported exits the machine's way. */
function runGuest(options: Partial<MachineOptions> & { image: string }, opts: { report?: number[]; input?: string; max?: number } = {}): Run {
  let out = '';
  const machine = new Machine({ rtcBaseMs: RTC_BASE, serialOutput: (b) => { out += String.fromCharCode(b); }, ...options });
  if (opts.input) machine.uart.feed(Buffer.from(opts.input));
  if (opts.report) machine.setReportedExits(opts.report);
  const exits: string[] = [];
  let total = 0;
  for (;;) {
    const stop = machine.run(1_000_000);
    total += 1_000_000;
    if (stop.kind === 'budget' && total < (opts.max ?? 50_000_000)) continue;
    if (stop.kind === 'exit' && opts.report?.includes(stop.exit.ExitReason)) {
      exits.push(X[stop.exit.ExitReason]);
      if (machine.completeExit(stop.vp, stop.exit)) continue;
    }
    return { out, stop, machine, exits };
  }
}

const bench = '../shared/bench/bench-tiny.elf';
test('bench-tiny.elf prints its four checksums and exits through port 0xF4', { skip: existsSync(bench) ? false : `${bench} not present` }, () => {
  const r = runGuest({ image: bench });
  assert.equal(r.out, 'c00ce196f47148b8\n00000000000000a8\n0000000000000037\n2b002b002c012602\n');
  assert.equal(r.stop.kind, 'ended');
  assert.deepEqual(r.stop.kind === 'ended' && r.stop.end, { kind: 'debug-exit', status: 33, reason: 'the guest wrote 0x10 to the isa-debug-exit port 0xF4' });
});

test('polled UART guest: output, and input read back through the receiver', () => {
  let out = '';
  const m = new Machine({ image: `${GUESTS}/devices-uart.bin`, serialOutput: (b) => { out += String.fromCharCode(b); } });
  // Input typed once the guest has initialised the UART (its FIFO reset drops earlier bytes, as on hardware).
  while (!out.endsWith('output\n')) assert.equal(m.run(100).kind, 'budget');
  m.uart.feed(Buffer.from('hello vp\n'));
  const stop = m.run(10_000_000);
  assert.equal(out, 'uart: polled output\nHELLO VP\n');
  assert.equal(stop.kind === 'ended' && stop.end.status, 33);
  const none = runGuest({ image: `${GUESTS}/devices-uart.bin` });
  assert.equal(none.out, 'uart: polled output\nuart: no input\n');
  assert.equal(none.stop.kind === 'ended' && none.stop.end.status, 35);
});

test('timer guest: PIT interrupts through the 8259s, APIC timer interrupts, CMOS time in virtual time', () => {
  const r = runGuest({ image: `${GUESTS}/devices-timers.bin` });
  assert.equal(r.out, 'timers: 5 PIT interrupts\ntimers: 5 APIC timer interrupts\ntimers: RTC 12:34:56\n');
  assert.equal(r.stop.kind === 'ended' && r.stop.end.status, 33);
  // The guest spent most of its virtual time halted: about 5 ms of PIT ticks plus 8 ms of APIC ticks.
  const ms = r.machine.now() / 1e6;
  assert.ok(ms > 12 && ms < 14, `virtual time ${ms} ms`);
  assert.ok(r.machine.instructionsRetired() < 20_000, 'idle time is skipped, not executed');
  const tsc = r.machine.partition.virtualProcessors[0].cpu.getMsr(0x10)!;
  assert.equal(tsc, BigInt(r.machine.now()), 'the TSC kept pace with virtual time while the guest idled');
});

test('reset guest: 0xFE to port 0x64 ends the run as a reset request', () => {
  const r = runGuest({ image: `${GUESTS}/devices-reset.bin` });
  assert.equal(r.out, 'reset: pulsing the i8042 reset line\n');
  assert.equal(r.stop.kind, 'ended');
  assert.equal(r.stop.kind === 'ended' && r.stop.end.kind, 'reset');
  assert.equal(r.stop.kind === 'ended' && r.stop.exit.IoPortAccess?.PortNumber, 0x64);
});

const EVERY_EXIT = [X.X64IoPortAccess, X.MemoryAccess, X.X64MsrAccess, X.X64Cpuid, X.X64Halt, X.Exception, X.X64Rdtsc, X.Hypercall, X.X64ApicEoi];

test('the example guest causes each kind of exit and reads RBX through HvCallGetVpRegisters', () => {
  const r = runGuest({ image: 'examples/demo.elf' }, { report: EVERY_EXIT });
  const kinds = new Set(r.exits);
  for (const k of ['X64IoPortAccess', 'MemoryAccess', 'X64MsrAccess', 'X64Cpuid', 'X64Halt', 'Exception', 'X64Rdtsc', 'Hypercall', 'X64ApicEoi']) assert.ok(kinds.has(k), `${k} exit`);
  assert.match(r.out, /CPUID 0x40000000 vendor Microsoft Hv\n/);
  assert.match(r.out, /#GP handled, count 0x0000000000000001\n/);
  assert.match(r.out, /HLT woken by the APIC timer\n/);
  assert.match(r.out, /HvCallGetVpRegisters\(RBX\) = 0x1234567890abcdef result 0x0000000100000000\n/);
  assert.equal(r.stop.kind === 'ended' && r.stop.end.status, 1);
  // Without reported exits the same run gives the same output, TSC value included.
  const quiet = runGuest({ image: 'examples/demo.elf' });
  assert.equal(quiet.out, r.out);
});

test('runs are deterministic: same exits, output and instruction count', () => {
  const digest = () => {
    const r = runGuest({ image: `${GUESTS}/devices-timers.bin` }, { report: [X.X64IoPortAccess, X.MemoryAccess, X.X64Halt] });
    return createHash('sha256').update(JSON.stringify([r.out, r.exits, r.machine.instructionsRetired(), r.machine.now()])).digest('hex');
  };
  assert.equal(digest(), digest());
});

test('a disabled device turns its accesses into exits for the caller; unclaimed ports read as all ones', () => {
  const r = runGuest({ image: `${GUESTS}/devices-uart.bin`, disabledDevices: ['com1'], reportUnclaimed: true });
  assert.equal(r.stop.kind, 'exit');
  const exit = r.stop.kind === 'exit' ? r.stop.exit : undefined;
  assert.equal(exit?.ExitReason, X.X64IoPortAccess);
  assert.equal(exit?.IoPortAccess?.PortNumber, 0x3f9);
  // Completed the default way the guest finds no UART: LSR reads 0xFF, which says "data ready" too, so
  // it reads 0xFF bytes forever and nothing reaches the output.
  const quiet = runGuest({ image: `${GUESTS}/devices-uart.bin`, disabledDevices: ['com1'] }, { max: 2_000_000 });
  assert.equal(quiet.out, '');
  assert.equal(quiet.stop.kind, 'budget');
});

test('a guest that waits for an interrupt nothing raises reports halted; HLT with IF=0 halts', () => {
  const cliHlt = new Uint8Array([0xfa, 0xf4]); // cli; hlt
  const a = runGuest({ image: 'cli-hlt.bin', imageData: cliHlt });
  assert.deepEqual(a.stop, { kind: 'halted', waitingForInterrupt: false });
  const stiHlt = new Uint8Array([0xfb, 0xf4, 0xeb, 0xfd]); // sti; hlt; jmp $-1
  const b = runGuest({ image: 'sti-hlt.bin', imageData: stiHlt });
  assert.deepEqual(b.stop, { kind: 'halted', waitingForInterrupt: true });
  assert.equal(b.machine.getRegister(0, R.Rip), 0x7c02n);
});

test('bad machine configuration is a clear error', () => {
  assert.throws(() => new Machine({ image: 'x.bin', imageData: new Uint8Array(16), memoryBytes: 1000 }), /MachineConfigError: memory size 1000 must be a multiple of 4 KiB/);
  assert.throws(() => new Machine({ image: 'x.bin', imageData: new Uint8Array(16), processors: 0 }), /processor count 0/);
  assert.throws(() => new Machine({ image: 'x.bin', imageData: new Uint8Array(16), disabledDevices: ['vga' as never] }), /unknown device vga/);
});

test('INIT and startup IPIs start an application processor in real mode at vector * 0x1000', () => {
  const two = runGuest({ image: `${GUESTS}/devices-smp.bin`, processors: 2 });
  assert.equal(two.out, 'smp: application processor started\n');
  assert.equal(two.stop.kind === 'ended' && two.stop.end.status, 33);
  assert.equal(two.machine.vpState(1), 'halted', 'the AP ran its trampoline to CLI; HLT');
  assert.equal(two.machine.getRegister(1, R.Rip), 11n, 'past the trampoline\'s HLT (IP relative to CS)');
  const one = runGuest({ image: `${GUESTS}/devices-smp.bin` });
  assert.equal(one.out, 'smp: no application processor\n');
});

test('an MSR made to exit that the CPU implements (EFER) still works when the machine completes it', { skip: existsSync(bench) ? false : `${bench} not present` }, () => {
  for (const report of [false, true]) {
    let out = '';
    const m = new Machine({ image: bench, serialOutput: (b) => { out += String.fromCharCode(b); } });
    m.partition.setMsrExits([0xc0000080]);
    if (report) m.setReportedExits([X.X64MsrAccess]);
    const seen: string[] = [];
    let stop: MachineStop;
    for (;;) {
      stop = m.run(1_000_000);
      if (stop.kind === 'budget') continue;
      if (stop.kind !== 'exit') break;
      seen.push(`${stop.exit.MsrAccess?.AccessInfo.IsWrite ? 'WRMSR' : 'RDMSR'} 0x${stop.exit.MsrAccess?.MsrNumber.toString(16)}`);
      assert.ok(m.completeExit(stop.vp, stop.exit));
    }
    assert.deepEqual(seen, report ? ['RDMSR 0xc0000080', 'WRMSR 0xc0000080'] : []);
    assert.equal(stop.kind === 'ended' && stop.end.status, 33, 'the guest reached long mode and finished');
    assert.equal(out.split('\n').length, 5);
  }
});

test('a device model that throws becomes an internal-error exit, not a host exception', () => {
  const m = new Machine({ image: `${GUESTS}/devices-uart.bin` });
  m.uart.ioWrite = () => { throw new Error('model bug'); };
  let stop: MachineStop;
  do stop = m.run(1_000_000); while (stop.kind === 'budget');
  assert.equal(stop.kind, 'exit');
  assert.equal(stop.kind === 'exit' && stop.exit.ExitReason, X.VpdbgInternalError);
  assert.match(stop.kind === 'exit' ? stop.exit.InternalError!.Message : '', /handling X64IoPortAccess \(com1\): model bug/);
});

/** Long-mode flat guest: rsp = 0x180000, an IDT whose #GP gate is the RDMSR of an MSR nobody implements. */
function gpLoopImage(withIdt: boolean): Uint8Array {
  const img = new Uint8Array(0x200);
  img.set([0xbc, 0x00, 0x00, 0x18, 0x00, 0x0f, 0x01, 0x1d, 0x14, 0, 0, 0, 0xb9, 0x00, 0x00, 0xde, 0xc0, 0x0f, 0x32, 0xf4]); // mov esp; lidt [rel 0x20]; mov ecx, 0xc0de0000; rdmsr; hlt
  if (!withIdt) img.fill(0x90, 5, 12);
  img.set([14 * 16 - 1, 0, 0x40, 0x00, 0x10, 0, 0, 0, 0, 0], 0x20); // IDTR: 14 gates at 0x100040
  img.set([0x11, 0x00, 0x18, 0x00, 0x00, 0x8e, 0x10, 0x00], 0x40 + 13 * 16); // #GP: interrupt gate to the RDMSR (0x100011), CS 0x18
  return img;
}

test('an RDMSR the machine answers with #GP and no IDT ends in a triple fault, not a hang (loader fuzz seed 545656830)', () => {
  const m = new Machine({ image: 'gp-no-idt', imageData: gpLoopImage(false), format: 'flat', load: 0x100000, mode: 'long', serialOutput: () => undefined, rtcBaseMs: 0 });
  const stop = m.run(2000);
  assert.equal(stop.kind, 'exit');
  assert.equal(stop.kind === 'exit' && stop.exit.ExitReason, X.UnrecoverableException);
});

test('Machine.run counts a completed exit that retires nothing against its budget (a #GP handler that is the faulting RDMSR)', () => {
  const m = new Machine({ image: 'gp-loop', imageData: gpLoopImage(true), format: 'flat', load: 0x100000, mode: 'long', serialOutput: () => undefined, rtcBaseMs: 0 });
  assert.equal(m.plan.state.cs.selector, 0x18);
  assert.deepEqual(m.run(100), { kind: 'budget' });
  // Each #GP pushes 48 bytes: at most 100 deliveries happened in a run of 100.
  const depth = 0x180000 - Number(m.getRegister(0, R.Rsp));
  assert.ok(depth > 0 && depth <= 100 * 48, `stack depth ${depth}`);
  assert.deepEqual(m.runVp(0, 100).ExitReason, X.None);
  const depth2 = 0x180000 - Number(m.getRegister(0, R.Rsp));
  assert.ok(depth2 > depth && depth2 <= 200 * 48, `stack depth ${depth2}`);
});
