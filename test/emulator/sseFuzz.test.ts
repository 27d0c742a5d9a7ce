// Robustness: random encodings in the SSE and x87 opcode spaces (random prefixes, REX,
// ModRM/SIB/displacement/imm8, random register and MXCSR contents, random alignment) must
// either retire or raise a guest exception — never an internal error or a host exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, CODE, STACK_TOP } from './cpuKit';
import { CpuExitReason } from '../../src/emulator/vcpu';

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number { let x = this.s; x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; this.s = x; return x; }
  int(n: number): number { return this.u32() % n; }
}

test('random SSE/x87 encodings never end in an internal error', () => {
  const r = new Rng(0xf00d);
  const cpu = makeCpu('long64', []);
  cpu.setCr(4, 0x620n);
  const bad: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const code: number[] = [];
    const pfx = [0x66, 0xf2, 0xf3, 0xf0, 0x67, 0x64];
    for (let k = r.int(3); k > 0; k--) code.push(pfx[r.int(pfx.length)]);
    if (r.int(2)) code.push(0x40 | r.int(16));
    if (r.int(5) === 0) code.push(0xd8 + r.int(8));
    else { code.push(0x0f); const b = r.int(4) === 0 ? [0x38, 0x3a, 0xae, 0xc3][r.int(4)] : r.int(256); code.push(b); if (b === 0x38 || b === 0x3a) code.push(r.int(256)); }
    for (let k = 0; k < 8; k++) code.push(r.int(256));
    code.push(0xf4);
    const at = CODE + 0x100 * (i % 64);
    cpu.mem.write(at, Uint8Array.from(code));
    for (let g = 0; g < 16; g++) cpu.setGpr(g, BigInt(0x4000 + r.int(0x10000)));
    cpu.setGpr(4, BigInt(STACK_TOP));
    for (let x = 0; x < 16; x++) cpu.setXmm(x, BigInt(r.u32()) << 32n | BigInt(r.u32()), BigInt(r.u32()) << 32n | BigInt(r.u32()));
    cpu.setMxcsr(r.u32() & 0xffff);
    cpu.setRflags(2n);
    cpu.setRip(BigInt(at));
    const why = cpu.run(1);
    if (why === CpuExitReason.InternalError) bad.push(`${code.map((b) => b.toString(16).padStart(2, '0')).join(' ')}: ${cpu.exit.message}`);
    // Code pages were rewritten: let the block cache see fresh bytes next time.
    cpu.mem.write(at, new Uint8Array(code.length));
  }
  assert.deepEqual(bad.slice(0, 10), []);
});
