// Port-selective I/O exit reporting (Machine.setReportedExits' ioPorts): with I/O exits
// reported for some ports, exactly the accesses to those ports exit — at the same instructions,
// with the same retired count, as when every port is reported and the caller completes the
// others — while the rest are served in-process: the same output and instruction count, far
// fewer trips out of the partition's run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, type MachineOptions } from '../../src/machine/machine';
import type { PortRange } from '../../src/machine/devices/device';
import { WhvRunVpExitReason as X } from '../../src/partition/hvdef';

const GUESTS = 'test/fixtures/guests';
const RTC_BASE = Date.UTC(2026, 10, 22, 12, 34, 56);

interface IoRun { stops: string[]; serial: string; instructions: number; now: number; end: string; partitionRuns: number }

/**
 * Runs a guest to its end with I/O exits reported (for `ports`, or every port), recording
 * each reported access whose port is in `ports` as port:direction:RIP:retired, completing the rest.
 */
function ioRun(options: Partial<MachineOptions> & { image: string }, slice: number, ports: readonly PortRange[], selective: boolean): IoRun {
  let serial = '';
  const m = new Machine({ rtcBaseMs: RTC_BASE, serialOutput: (b) => { serial += String.fromCharCode(b); }, ...options });
  m.setReportedExits([X.X64IoPortAccess], undefined, selective ? ports : undefined);
  const p = m.partition;
  const run = p.runVirtualProcessor.bind(p);
  let partitionRuns = 0;
  p.runVirtualProcessor = (vp, o) => { partitionRuns++; return run(vp, o); };
  const inSet = (port: number) => ports.some((r) => port >= r.base && port < r.base + r.count);
  const stops: string[] = [];
  let end = 'stop limit';
  for (let i = 0; i < 400_000; i++) {
    const s = m.run(slice);
    if (s.kind === 'budget') continue;
    if (s.kind !== 'exit') { end = s.kind === 'ended' ? s.end.reason : s.kind; break; }
    assert.equal(s.exit.ExitReason, X.X64IoPortAccess, `only I/O exits are reported, not ${X[s.exit.ExitReason]}`);
    const io = s.exit.IoPortAccess!;
    if (selective) assert.ok(inSet(io.PortNumber), `port 0x${io.PortNumber.toString(16)} is not reported`);
    if (inSet(io.PortNumber)) stops.push(`${s.vp}:${io.PortNumber.toString(16)}:${io.AccessInfo.IsWrite ? 'w' : 'r'}:${s.exit.VpContext.Rip.toString(16)}:${m.instructionsRetired()}`);
    if (!m.completeExit(s.vp, s.exit)) { end = 'not completed'; break; }
    if (m.guestEnd) { end = m.guestEnd.reason; break; }
  }
  return { stops, serial, instructions: m.instructionsRetired(), now: m.now(), end, partitionRuns };
}

// Guests and port sets: the PIT's command port among PIC/UART/PIT programming, the RTC's
// index and data ports beside COM1 output, the UART's line status register (polled before
// every byte) or its data port, the isa-debug-exit port (a write that ends the run), a range
// over the PIC's ports, and an empty set (I/O reported, no port).
const CASES: [string, Partial<MachineOptions>, PortRange[]][] = [
  ['devices-portio.bin', {}, [{ base: 0x43, count: 1 }]],
  ['devices-portio.bin', { processors: 2 }, [{ base: 0x3f8, count: 1 }]],
  ['devices-timers.bin', {}, [{ base: 0x70, count: 2 }]],
  ['devices-timers.bin', {}, [{ base: 0x20, count: 2 }, { base: 0xa0, count: 2 }]],
  ['perf-serial-tiny.bin', {}, [{ base: 0x3fd, count: 1 }]],
  ['perf-serial-tiny.bin', {}, [{ base: 0xf4, count: 1 }]],
  ['perf-serial-tiny.bin', { processors: 2 }, [{ base: 0x3f8, count: 1 }, { base: 0xf4, count: 1 }]],
  ['devices-uart.bin', {}, []],
];
for (const [name, options, ports] of CASES) {
  const set = ports.map((r) => `0x${r.base.toString(16)}${r.count > 1 ? `+${r.count}` : ''}`).join(', ') || 'none';
  test(`${name}${options.processors ? ` on ${options.processors} processors` : ''}, I/O reported for ${set}: exactly those accesses exit, the rest run in-process`, () => {
    for (const slice of [997, 1_000_000]) {
      const all = ioRun({ image: `${GUESTS}/${name}`, ...options }, slice, ports, false);
      const some = ioRun({ image: `${GUESTS}/${name}`, ...options }, slice, ports, true);
      assert.match(all.end, /isa-debug-exit/);
      assert.deepEqual({ ...some, partitionRuns: 0 }, { ...all, partitionRuns: 0 }, `slices of ${slice}`);
      assert.ok(some.partitionRuns < all.partitionRuns, `${some.partitionRuns} partition runs selective, ${all.partitionRuns} with every port reported`);
    }
  });
}

test('a reported port set serves the other ports in-process: perf-serial-tiny with only 0xF4 reported runs in a few partition runs', () => {
  const r = ioRun({ image: `${GUESTS}/perf-serial-tiny.bin` }, 100_000_000, [{ base: 0xf4, count: 1 }], true);
  assert.equal(r.stops.length, 1);
  assert.match(r.stops[0], /^0:f4:w:/);
  assert.ok(r.partitionRuns < 10, `${r.partitionRuns} partition runs`);
  // Every port reported again: each of the 2 * 4096 UART accesses exits.
  const all = ioRun({ image: `${GUESTS}/perf-serial-tiny.bin` }, 100_000_000, [{ base: 0, count: 0x10000 }], true);
  assert.equal(all.stops.length, 2 * 4096 + 1);
});

test('changing the reported ports between runs takes effect at once, and no ports with I/O off serves all in-process', () => {
  const m = new Machine({ image: `${GUESTS}/perf-serial-tiny.bin` });
  m.setReportedExits([X.X64IoPortAccess], undefined, [{ base: 0x3f8, count: 1 }]);
  let s = m.run(10_000_000);
  assert.equal(s.kind === 'exit' && s.exit.IoPortAccess?.PortNumber, 0x3f8);
  if (s.kind === 'exit') m.completeExit(s.vp, s.exit);
  m.setReportedExits([X.X64IoPortAccess], undefined, [{ base: 0x3fd, count: 1 }]);
  s = m.run(10_000_000);
  assert.equal(s.kind === 'exit' && s.exit.IoPortAccess?.PortNumber, 0x3fd);
  if (s.kind === 'exit') m.completeExit(s.vp, s.exit);
  // Ports given without the I/O reason: nothing is reported.
  m.setReportedExits([], undefined, [{ base: 0x3fd, count: 1 }]);
  s = m.run(100_000_000);
  assert.equal(s.kind, 'ended');
});

/**
 * A real-mode flat guest at 0x7C00: OUT DX, AX to 0x3F8 ('A' to THR, 0 to IER), then
 * OUT 0x61, EAX — its top byte reaches the i8042's command port 0x64 as a reset pulse — and HLT.
 */
const WIDE = Uint8Array.from([
  0xba, 0xf8, 0x03, //                   mov dx, 0x3f8
  0xb8, 0x41, 0x00, //                   mov ax, 0x0041
  0xef, //                               out dx, ax
  0x66, 0xb8, 0x00, 0x00, 0x00, 0xfe, // mov eax, 0xfe000000
  0x66, 0xe7, 0x61, //                   out 0x61, eax
  0xf4, //                               hlt
]);

test('a wide access is reported by its first port; one that reaches a reported port that ends the run still ends it at that OUT', () => {
  const run = (ports: PortRange[]) => {
    let serial = '';
    const m = new Machine({ image: 'wide.bin', imageData: WIDE, format: 'flat', mode: 'real', serialOutput: (b) => { serial += String.fromCharCode(b); } });
    m.setReportedExits([X.X64IoPortAccess], undefined, ports);
    const stops: number[] = [];
    let end = 'stop limit';
    for (let i = 0; i < 10; i++) {
      const s = m.run(1000);
      if (s.kind !== 'exit') { end = s.kind === 'ended' ? s.end.kind : s.kind; break; }
      stops.push(s.exit.IoPortAccess!.PortNumber);
      m.completeExit(s.vp, s.exit);
      if (m.guestEnd) { end = m.guestEnd.kind; break; }
    }
    return { stops, serial, end, instructions: m.instructionsRetired() };
  };
  // 0x3F9 and 0x64 reported: neither wide write has them as its first port, so neither stops;
  // the second still exits (it reaches a device whose writes end the run) and the machine ends
  // the run at that OUT, the HLT after it never retiring.
  assert.deepEqual(run([{ base: 0x3f9, count: 1 }, { base: 0x64, count: 1 }]), { stops: [], serial: 'A', end: 'reset', instructions: 5 });
  assert.deepEqual(run([{ base: 0x3f8, count: 1 }, { base: 0x61, count: 1 }]), { stops: [0x3f8, 0x61], serial: 'A', end: 'reset', instructions: 5 });
});
