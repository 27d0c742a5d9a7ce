// Containment and determinism: a guest cannot make the host allocate beyond its configured
// RAM; an exception thrown inside the emulator becomes an internal-error stop with the VP
// state intact; the same image and inputs give the same exits, instruction count and output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HvRegisterName as R, WhvRunVpExitReason as X } from '../../src/partition/hvdef';
import type { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { Machine } from '../../src/machine/machine';
import { getReg, longModePartition, CODE } from '../partition/harness';

const MiB = 2 ** 20;

test('a guest writing every page of 48 MiB with 4 MiB of RAM: resident memory stays within RAM, writes above RAM are exits', () => {
  const ram = 4 * MiB, span = 48 * MiB;
  // mov rdi, 0x100000; loop: mov byte [rdi], 1; add rdi, 4096; cmp rdi, span; jb loop; hlt
  const code = [0x48, 0xc7, 0xc7, 0x00, 0x00, 0x10, 0x00, 0xc6, 0x07, 0x01, 0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00,
    0x48, 0x81, 0xff, ...[0, 0, 0, span >>> 24].map((b, i) => (i === 3 ? b : (span >>> (8 * i)) & 0xff)), 0x72, 0xed, 0xf4];
  const heapBefore = process.memoryUsage().arrayBuffers;
  const p = longModePartition(code, { memoryBytes: ram });
  let exits = 0;
  for (;;) {
    const e = p.runVirtualProcessor(0, { instructionBudget: 1_000_000 });
    if (e.ExitReason === X.MemoryAccess) {
      assert.ok(e.MemoryAccess!.AccessInfo.GpaUnmapped && e.MemoryAccess!.Gpa >= BigInt(ram), `exit at 0x${e.MemoryAccess!.Gpa.toString(16)}`);
      exits++;
      p.completeMemoryAccess(0);
      continue;
    }
    if (e.ExitReason === X.None) continue;
    assert.equal(e.ExitReason, X.X64Halt);
    break;
  }
  assert.equal(exits, (span - ram) / 4096, 'one memory-access exit per page above RAM');
  const resident = p.memory.residentBytes();
  const grown = process.memoryUsage().arrayBuffers - heapBefore;
  console.log(`containment: ${span / MiB} MiB written, ${ram / MiB} MiB RAM -> ${resident / MiB} MiB resident, ${exits} exits, host ArrayBuffer growth ${(grown / MiB).toFixed(1)} MiB`);
  assert.ok(resident <= ram, `resident ${resident} > RAM ${ram}`);
});

test('an exception thrown inside the emulator is an internal-error exit with a message; the VP state is kept', () => {
  // mov rax, 0x1234; jmp CODE+0x1000 (a hlt). A memory listener that throws when the CPU first
  // decodes code in the second page stands for an emulator bug deep inside run().
  const code = new Array<number>(0x1001).fill(0x90);
  code.splice(0, 12, 0x48, 0xc7, 0xc0, 0x34, 0x12, 0x00, 0x00, 0xe9, ...u32le(0x1000 - 12));
  code[0x1000] = 0xf4;
  const p = longModePartition(code);
  const memory = p.memory as PhysicalMemory;
  memory.addListener({ onCodePage: (page) => { if (page.pfn === (CODE + 0x1000) / 4096) throw new Error('injected emulator fault'); }, onRemap: () => undefined });
  const e = p.runVirtualProcessor(0, { instructionBudget: 100 });
  assert.equal(e.ExitReason, X.VpdbgInternalError);
  assert.match(e.InternalError!.Message, /internal emulator error at RIP 0x[0-9a-f]+: Error: injected emulator fault/);
  assert.equal(getReg(p, R.Rax), 0x1234n, 'registers written before the failure are readable');
  const rip = getReg(p, R.Rip);
  assert.ok(rip === BigInt(CODE + 7) || rip === BigInt(CODE + 0x1000), `RIP 0x${rip.toString(16)} is the JMP or its target`);
  assert.equal(e.VpContext.Rip, rip);
});

function u32le(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]; }

/** Runs a guest to its end, hashing every stop, the instruction count and the serial output. */
function fingerprint(image: string): { hash: string; instructions: number; stops: number; serial: string } {
  let serial = '';
  const m = new Machine({ image, rtcBaseMs: Date.UTC(2026, 10, 22, 12, 34, 56), serialOutput: (b) => { serial += String.fromCharCode(b); } });
  // Every exit kind reported, so the sequence covers device-handled exits too.
  m.setReportedExits([X.X64IoPortAccess, X.MemoryAccess, X.X64MsrAccess, X.X64Cpuid, X.X64Halt, X.Exception, X.X64Rdtsc, X.Hypercall, X.X64ApicEoi]);
  const h = createHash('sha256');
  let stops = 0;
  for (let i = 0; i < 100_000; i++) {
    const s = m.run(5000);
    stops++;
    if (s.kind === 'exit') {
      h.update(`${s.vp}:${s.exit.ExitReason}:${s.exit.VpContext.Rip}:${m.instructionsRetired()};`);
      if (m.completeExit(s.vp, s.exit)) continue;
      break;
    }
    h.update(`${s.kind}:${m.instructionsRetired()};`);
    if (s.kind !== 'budget') break;
  }
  h.update(`retired ${m.instructionsRetired()} time ${m.now()} serial ${serial}`);
  return { hash: h.digest('hex').slice(0, 16), instructions: m.instructionsRetired(), stops, serial };
}

// Committed fingerprints: a change means the emulator or devices changed behaviour (update
// deliberately when that is intended) or lost determinism (a bug).
const EXPECTED: Record<string, string> = {
  'test/fixtures/guests/devices-timers.bin': '24844f4a094dec46',
  'examples/demo.elf': 'eaf3dcf284712cae',
};

for (const image of Object.keys(EXPECTED)) {
  test(`determinism: ${image} gives the same exits, instruction count and output twice`, () => {
    const a = fingerprint(image), b = fingerprint(image);
    console.log(`determinism ${image}: ${a.instructions} instructions, ${a.stops} stops, ${a.serial.length} serial bytes, hash ${a.hash}`);
    assert.deepEqual(a, b);
    if (EXPECTED[image]) assert.equal(a.hash, EXPECTED[image], 'fingerprint differs from the committed one');
  });
}
