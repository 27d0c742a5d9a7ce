// In-process port I/O (src/machine/inProcessPorts.ts) must not change anything a caller can
// see: each guest runs once with it and once with every port access an exit the machine
// completes (inProcessPorts: false), and the two runs must give the same serial bytes, the
// same instruction count and the same stops at the same instructions — with small budget
// slices, with the other exits reported, on one and on two processors. A debugger's I/O filter
// (X64IoPortAccess reported) must still stop at every access.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine, type MachineOptions } from '../../src/machine/machine';
import { WhvRunVpExitReason as X } from '../../src/partition/hvdef';
import { perfSerialText } from '../support/perfSerial';

const GUESTS = 'test/fixtures/guests';
const TINY = `${GUESTS}/perf-serial-tiny.bin`;
const RTC_BASE = Date.UTC(2026, 10, 22, 12, 34, 56);
/** Every exit the machine can report except port I/O (which would turn the in-process path off). */
const ALL_BUT_IO = [X.MemoryAccess, X.X64MsrAccess, X.X64Cpuid, X.X64Halt, X.Exception, X.X64Rdtsc, X.Hypercall, X.X64ApicEoi];

interface Fingerprint { hash: string; instructions: number; stops: number; serial: string; end: string }

/** Runs a guest to its end in `slice`-instruction machine.run() calls, hashing every stop. */
function fingerprint(options: Partial<MachineOptions> & { image: string }, slice: number, report: readonly number[]): Fingerprint {
  let serial = '';
  const m = new Machine({ rtcBaseMs: RTC_BASE, serialOutput: (b) => { serial += String.fromCharCode(b); }, ...options });
  m.setReportedExits(report);
  const h = createHash('sha256');
  let stops = 0, end = 'stop limit';
  for (let i = 0; i < 200_000; i++) {
    const s = m.run(slice);
    stops++;
    if (s.kind === 'exit') {
      h.update(`${s.vp}:${s.exit.ExitReason}:${s.exit.VpContext.Rip}:${m.instructionsRetired()};`);
      if (m.completeExit(s.vp, s.exit) && !m.guestEnd) continue;
      end = m.guestEnd?.reason ?? `exit ${X[s.exit.ExitReason]}`;
      break;
    }
    h.update(`${s.kind}:${m.instructionsRetired()};`);
    if (s.kind !== 'budget') { end = s.kind === 'ended' ? s.end.reason : s.kind; break; }
  }
  h.update(`retired ${m.instructionsRetired()} time ${m.now()} serial ${serial}`);
  return { hash: h.digest('hex').slice(0, 16), instructions: m.instructionsRetired(), stops, serial, end };
}

test('perf-serial-tiny: the same bytes and instruction count with in-process port I/O as with exits', () => {
  const fast = fingerprint({ image: TINY }, 1_000_000, []);
  const exits = fingerprint({ image: TINY, inProcessPorts: false }, 1_000_000, []);
  assert.equal(fast.serial, perfSerialText(64));
  assert.equal(fast.end, 'the guest wrote 0x0 to the isa-debug-exit port 0xF4');
  assert.deepEqual(fast, exits);
  // The accesses really were served in-process: the partition's run returned a handful of times, not once per access.
  const partitionRuns = (inProcessPorts: boolean): number => {
    const m = new Machine({ image: TINY, inProcessPorts });
    const p = m.partition;
    const run = p.runVirtualProcessor.bind(p);
    let n = 0;
    p.runVirtualProcessor = (vp, o) => { n++; return run(vp, o); };
    assert.equal(m.run(100_000_000).kind, 'ended');
    return n;
  };
  assert.ok(partitionRuns(true) < 10);
  assert.equal(partitionRuns(false), 2 * 4096 + 1);
});

// Guests whose port accesses program timers (PIT, RTC, LAPIC), unmask and acknowledge
// interrupts (PIC, UART IER/IIR), reset through the 8042, start a second processor, and the
// bundled example. Slices of 997 instructions end runs at arbitrary points around accesses;
// reported exits (HLT alone, or all but I/O) change which processor runs when.
const GUEST_RUNS: [string, Partial<MachineOptions>][] = [
  ['devices-portio.bin', {}], ['devices-portio.bin', { processors: 2 }], ['devices-timers.bin', {}], ['devices-uart.bin', {}], ['devices-reset.bin', {}], ['devices-smp.bin', { processors: 2 }],
  ['dap-main.elf', {}], ['perf-serial-tiny.bin', { processors: 2 }], ['../../../examples/demo.elf', {}],
];
for (const [name, options] of GUEST_RUNS) {
  const image = `${GUESTS}/${name}`;
  test(`${name}${options.processors ? ` on ${options.processors} processors` : ''}: the same stops, instructions and output with and without in-process port I/O`, () => {
    for (const [slice, report] of [[997, ALL_BUT_IO], [997, [X.X64Halt]], [1_000_000, []]] as const) {
      const fast = fingerprint({ image, ...options }, slice, report);
      const exits = fingerprint({ image, ...options, inProcessPorts: false }, slice, report);
      assert.deepEqual(fast, exits, `slices of ${slice}, reported: ${report.map((r) => X[r]).join(', ') || 'nothing'}`);
    }
  });
}

test('devices-portio: a timer programmed by port writes, an interrupt enabled by one, two processors writing COM1', () => {
  const one = fingerprint({ image: `${GUESTS}/devices-portio.bin` }, 1_000_000, []);
  const two = fingerprint({ image: `${GUESTS}/devices-portio.bin`, processors: 2 }, 1_000_000, []);
  // The THRE interrupt arrives right after the OUT that enables it: none of the INCs ran.
  assert.match(one.serial, /^pit [0-9a-f]{8}\nuart 00000000\n\n$/);
  // Each processor's turn ends at its port write (the machine switches processors after an
  // exit); the AP's OUT wakes the BSP from its first HLT.
  assert.match(two.serial, /^pit [0-9a-f]{8}\nuart 00000000\n(ba){200}\nwoken by the AP's OUT in HLT: 00000000\n\n$/);
  assert.equal(one.end, 'the guest wrote 0x10 to the isa-debug-exit port 0xF4');
});

test('devices-portio.bin is its assembled source', { skip: spawnSync('nasm', ['-v']).status === 0 ? false : 'nasm not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-portio-'));
  try {
    for (const [src, bin, defs] of [['devices-portio', 'devices-portio', []], ['perf-serial', 'perf-serial', ['-DLINES=16384']], ['perf-serial', 'perf-serial-tiny', ['-DLINES=64']]] as const) {
      const out = join(dir, `${bin}.bin`);
      const r = spawnSync('nasm', ['-f', 'bin', '-i', 'test/guests/', ...defs, `test/guests/${src}.asm`, '-o', out]);
      assert.equal(r.status, 0, r.stderr?.toString());
      assert.ok(readFileSync(out).equals(readFileSync(`${GUESTS}/${bin}.bin`)), `${bin}.bin is stale: rebuild it`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with the I/O exit reported (a debugger filter), every access to the UART stops', () => {
  const m = new Machine({ image: TINY });
  m.setReportedExits([X.X64IoPortAccess]);
  const ports = new Map<number, number>();
  let writes = '';
  for (;;) {
    const s = m.run(1_000_000);
    if (s.kind === 'budget') continue;
    assert.equal(s.kind, 'exit');
    if (s.kind !== 'exit') break;
    const io = s.exit.IoPortAccess!;
    ports.set(io.PortNumber, (ports.get(io.PortNumber) ?? 0) + 1);
    if (io.PortNumber === 0x3f8) writes += String.fromCharCode(Number(io.Rax & 0xffn));
    assert.ok(m.completeExit(s.vp, s.exit));
    if (m.guestEnd) break;
  }
  const bytes = perfSerialText(64);
  assert.deepEqual([...ports], [[0x3fd, bytes.length], [0x3f8, bytes.length], [0xf4, 1]]);
  assert.equal(writes, bytes);
  // Turning the filter off again serves the rest in-process.
  m.reset();
  m.setReportedExits([X.X64IoPortAccess]);
  let first = m.run(1_000_000);
  assert.equal(first.kind === 'exit' && first.exit.IoPortAccess?.PortNumber, 0x3fd);
  if (first.kind === 'exit') m.completeExit(first.vp, first.exit);
  m.setReportedExits([]);
  first = m.run(10_000_000);
  assert.equal(first.kind, 'ended');
});

test('a device that throws while serving an access in-process gives the same internal-error stop as on the exit path', () => {
  const stopOf = (inProcessPorts: boolean) => {
    const m = new Machine({ image: TINY, inProcessPorts });
    let n = 0;
    const write = m.uart.ioWrite.bind(m.uart);
    m.uart.ioWrite = (port, size, value) => { if (++n === 100) throw new Error('transmitter on fire'); write(port, size, value); };
    const s = m.run(10_000_000);
    assert.equal(s.kind, 'exit');
    return { s, instructions: m.instructionsRetired() };
  };
  const a = stopOf(true), b = stopOf(false);
  assert.equal(a.s.kind === 'exit' && a.s.exit.ExitReason, X.VpdbgInternalError);
  assert.match(a.s.kind === 'exit' ? a.s.exit.InternalError!.Message : '', /handling X64IoPortAccess \(com1\): transmitter on fire/);
  assert.deepEqual(a, b);
});
