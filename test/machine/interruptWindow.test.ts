// Interrupt-window exits (X64InterruptWindow) the way a WHP VMM gets them: with the exit
// reported, the machine sets DeliverabilityNotifications.InterruptNotification on a processor
// that has a device interrupt pending while IF=0 (or in an interrupt shadow), and reports the
// exit at the first instruction boundary where it could take it. test/guests/devices-intwindow.asm
// spins with IF=0 while the PIT ticks, then opens a window with `sti; nop; cli`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine';
import { HvRegisterName as R, WhvRunVpExitReason as X, WhvX64PendingInterruptionType } from '../../src/partition/hvdef';
import type { RunVpExitContext } from '../../src/partition/exitContext';

const IMAGE = 'test/fixtures/guests/devices-intwindow.bin';
const LOAD = 0x100000;
/** `sti; nop; cli` in the image: window_sti, and window_open two bytes on. */
const WINDOW_STI = LOAD + readFileSync(IMAGE).indexOf(Buffer.from([0xfb, 0x90, 0xfa]));
const WINDOW_OPEN = WINDOW_STI + 2;
const IF = 0x200n;
/** pit_irq (devices-lib.inc): `inc dword [pit_ticks]; push eax; mov al, 0x20; out 0x20, al`. */
const PIT_TICKS = ((): number => {
  const img = readFileSync(IMAGE);
  const at = img.indexOf(Buffer.from([0x50, 0xb0, 0x20, 0xe6, 0x20])) - 6;
  assert.deepEqual([...img.subarray(at, at + 2)], [0xff, 0x05]);
  return img.readUInt32LE(at + 2);
})();

interface Run { exits: RunVpExitContext[]; instructions: number; serial: string; end: string }

/** Runs the guest to its end with `reported` exits, completing each; `atExit` sees the machine at each. */
function runGuest(reported: readonly number[], atExit?: (m: Machine, exit: RunVpExitContext) => void): Run {
  let serial = '';
  const m = new Machine({ image: IMAGE, serialOutput: (b) => { serial += String.fromCharCode(b); } });
  m.setReportedExits(reported);
  const exits: RunVpExitContext[] = [];
  for (let i = 0; i < 1000; i++) {
    const s = m.run(10_000_000);
    if (s.kind === 'ended') return { exits, instructions: m.instructionsRetired(), serial, end: s.end.reason };
    assert.equal(s.kind, 'exit', `stop ${i}: ${s.kind}`);
    if (s.kind !== 'exit') break;
    exits.push(s.exit);
    atExit?.(m, s.exit);
    assert.ok(m.completeExit(s.vp, s.exit));
  }
  assert.fail('the guest did not end');
}

function u32(m: Machine, gpa: number): number {
  const b = new Uint8Array(4);
  assert.ok(m.partition.memory.read(gpa, b));
  return new DataView(b.buffer).getUint32(0, true);
}

test('with the exit reported, each window the guest opens over a pending PIT interrupt is an X64InterruptWindow exit after STI and its shadow', () => {
  const seen: { ticks: number; shadow: bigint; notification: bigint }[] = [];
  const run = runGuest([X.X64InterruptWindow], (m) => {
    seen.push({ ticks: u32(m, PIT_TICKS), shadow: m.getRegister(0, R.InterruptState), notification: m.getRegister(0, R.DeliverabilityNotifications) });
  });
  assert.equal(run.serial, 'intwindow: 4 ticks\n');
  assert.equal(run.end, 'the guest wrote 0x10 to the isa-debug-exit port 0xF4');
  // Rounds 1-3 and 5; round 4 masked IRQ 0 before its window, so it has nothing to report.
  assert.equal(run.exits.length, 4);
  for (const [i, e] of run.exits.entries()) {
    assert.equal(e.ExitReason, X.X64InterruptWindow);
    assert.equal(e.VpContext.Rip, BigInt(WINDOW_OPEN), `exit ${i}: past STI and the NOP in its shadow`);
    assert.equal(e.VpContext.Rflags & IF, IF);
    assert.equal(e.VpContext.InstructionLength, 0);
    assert.deepEqual(e.InterruptWindow, { DeliverableType: WhvX64PendingInterruptionType.Interrupt });
    // At the exit the tick is still pending (taken when the VP runs on), the shadow is over
    // and the one-shot request is cleared.
    assert.deepEqual(seen[i], { ticks: i, shadow: 0n, notification: 0n });
  }
});

test('after the exit the pending interrupt is delivered before the instruction at the window', () => {
  const m = new Machine({ image: IMAGE });
  m.setReportedExits([X.X64InterruptWindow]);
  const s = m.run(10_000_000);
  assert.ok(s.kind === 'exit' && s.exit.ExitReason === X.X64InterruptWindow);
  const esp = Number(m.getRegister(0, R.Rsp));
  assert.ok(m.completeExit(s.vp, s.exit));
  // One instruction: the interrupt is delivered first, so it is the handler's first.
  assert.equal(m.run(1).kind, 'budget');
  const frame = [u32(m, esp - 12), u32(m, esp - 8), u32(m, esp - 4)];
  assert.equal(frame[0], WINDOW_OPEN, 'the return address is the instruction at the window');
  assert.equal(frame[1], 0x08);
  assert.equal(frame[2] & 0x200, 0x200, 'the pushed EFLAGS had IF set');
  assert.equal(Number(m.getRegister(0, R.Rsp)), esp - 12);
  assert.equal(m.getRegister(0, R.Rflags) & IF, 0n, 'in the handler (an interrupt gate)');
});

test('with the exit not reported nothing changes: no exit, no request, the same instructions and output as with it reported', () => {
  let requests = 0;
  const off = runGuest([]);
  const on = runGuest([X.X64InterruptWindow]);
  assert.equal(off.exits.length, 0);
  assert.deepEqual({ ...off, exits: 0 }, { ...on, exits: 0 });
  // Nothing sets DeliverabilityNotifications while the exit is not reported.
  const m = new Machine({ image: IMAGE });
  const set = m.partition.setVpRegisters.bind(m.partition);
  m.partition.setVpRegisters = (...a) => { if (a[3].includes(R.DeliverabilityNotifications)) requests++; return set(...a); };
  assert.equal(m.run(100_000_000).kind, 'ended');
  assert.equal(requests, 0);
});

test('turning the exit off withdraws a request the machine made', () => {
  const m = new Machine({ image: IMAGE });
  m.setReportedExits([X.X64InterruptWindow]);
  // Into round 1's spin: a PIT tick is pending with IF=0, so the machine has asked for a window.
  assert.equal(m.run(30_000).kind, 'budget');
  assert.equal(m.getRegister(0, R.DeliverabilityNotifications), 2n);
  m.setReportedExits([]);
  assert.equal(m.getRegister(0, R.DeliverabilityNotifications), 0n);
  assert.equal(m.run(100_000_000).kind, 'ended');
});

test('devices-intwindow.bin is its assembled source', { skip: spawnSync('nasm', ['-v']).status === 0 ? false : 'nasm not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-intwindow-'));
  try {
    const out = join(dir, 'devices-intwindow.bin');
    const r = spawnSync('nasm', ['-f', 'bin', '-i', 'test/guests/', 'test/guests/devices-intwindow.asm', '-o', out]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(readFileSync(out), readFileSync(IMAGE));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
