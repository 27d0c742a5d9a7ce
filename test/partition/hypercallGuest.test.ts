// The nasm guest test/guests/hypercall.asm on a real partition: it discovers the hypervisor,
// enables the hypercall page, calls HvCallGet/SetVpRegisters on itself and provokes the error
// statuses, printing each result on COM1. This harness services COM1 (0x3F8) and the exit port
// (0xF4) itself; the real UART lives in src/machine, which this layer must not import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { Partition } from '../../src/partition/partition';
import { HvRegisterName as R, WhvRunVpExitReason as X } from '../../src/partition/hvdef';
import { u64Value, segmentValue, tableValue } from '../../src/partition/registerValue';
import { setRegs, getReg, CODE64, DATA64 } from './harness';

const FIXTURES = join(__dirname, '..', 'fixtures', 'guests');
const IMAGE = join(FIXTURES, 'hypercall.bin');
const SOURCE = join(__dirname, '..', '..', '..', 'test', 'guests', 'hypercall.asm');
const LOAD = 0x10000;

interface GuestRun { output: string; exitCode: number | undefined; exits: number; partition: Partition }

function runGuest(image: Uint8Array): GuestRun {
  const p = new Partition({ processorCount: 1, memoryBytes: 16 * 1024 * 1024 });
  assert.ok(p.memory.write(LOAD, image));
  // Long mode through SetVpRegisters: the image holds its GDT at +0x100 and page tables at +0x1000.
  setRegs(p, [
    [R.Cr3, u64Value(LOAD + 0x1000)], [R.Cr4, u64Value(0x20)], [R.Efer, u64Value(0x500)], [R.Cr0, u64Value(0x80000031)],
    [R.Gdtr, tableValue({ base: BigInt(LOAD + 0x100), limit: 0x17 })],
    [R.Cs, segmentValue(CODE64)], [R.Ss, segmentValue(DATA64)], [R.Ds, segmentValue(DATA64)], [R.Es, segmentValue(DATA64)],
    [R.Rip, u64Value(LOAD)], [R.Rflags, u64Value(2)],
  ]);
  let output = '';
  let exitCode: number | undefined;
  let exits = 0;
  while (exitCode === undefined && exits < 10_000) {
    const c = p.runVirtualProcessor(0, { instructionBudget: 1_000_000 });
    exits++;
    if (c.ExitReason === X.X64IoPortAccess && c.IoPortAccess!.AccessInfo.IsWrite) {
      const value = Number(c.IoPortAccess!.Rax & 0xFFn);
      if (c.IoPortAccess!.PortNumber === 0x3F8) output += String.fromCharCode(value);
      else if (c.IoPortAccess!.PortNumber === 0xF4) exitCode = value;
      else assert.fail(`unexpected OUT to port 0x${c.IoPortAccess!.PortNumber.toString(16)}`);
      p.completeIoPortAccess(0);
      continue;
    }
    assert.fail(`unexpected exit 0x${c.ExitReason.toString(16)} at RIP 0x${c.VpContext.Rip.toString(16)}; output so far:\n${output}`);
  }
  return { output, exitCode, exits, partition: p };
}

test('hypercall guest: CPUID discovery, hypercall page, Get/SetVpRegisters on itself, error statuses', () => {
  const r = runGuest(new Uint8Array(readFileSync(IMAGE)));
  assert.equal(r.output, readFileSync(join(FIXTURES, 'hypercall.expected'), 'utf8'));
  assert.equal(r.exitCode, 0, r.output);
  // What the guest did is visible from the root too.
  const p = r.partition;
  assert.equal(getReg(p, R.R12), 0x123456789ABCDEF0n, 'HvCallSetVpRegisters wrote R12');
  assert.equal(getReg(p, R.GuestOsId), 0x8100_0000_0000_0001n);
  assert.equal(getReg(p, R.Hypercall), 0x20001n);
  const page = new Uint8Array(4);
  p.memory.read(0x20000, page);
  assert.deepEqual([...page], [0x0F, 0x01, 0xC1, 0xC3]);
  assert.equal(p.memory.lookup(0x20000)?.permissions.write, false, 'the hypercall page is a read/execute overlay');
});

test('hypercall guest: the same run twice gives the same output and exit count (determinism)', () => {
  const image = new Uint8Array(readFileSync(IMAGE));
  const a = runGuest(image);
  const b = runGuest(image);
  assert.equal(a.output, b.output);
  assert.equal(a.exits, b.exits);
});

test('hypercall guest: the committed image is what nasm assembles from the source', (t) => {
  if (!existsSync(SOURCE)) { t.skip(`source not found at ${SOURCE}`); return; }
  if (spawnSync('nasm', ['-v']).status !== 0) { t.skip('nasm is not installed'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-hc-'));
  try {
    const out = join(dir, 'hypercall.bin');
    const r = spawnSync('nasm', ['-f', 'bin', '-o', out, SOURCE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(out), readFileSync(IMAGE));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
