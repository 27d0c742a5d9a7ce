// Loader fuzzer: real images (examples/demo.elf, the bench ELF, test guests) and built ELF32/64,
// multiboot v1/v2 and flat images, mutated where the loaders look — ELF header fields (phoff,
// phnum, phentsize, shoff, shnum, entry), program-header offsets/sizes/addresses, multiboot
// header flags/addresses/tags — plus truncation, bit flips and random files. Each case goes
// through the whole path the adapter takes: a Machine (loader, symbols, boot plan applied to
// a partition through SetVpRegisters) and a short run. Allowed: a Machine, or an ImageError /
// MachineConfigError with a message. Finding: any other exception, or a segment outside RAM.
// (test/machine/loaderFuzz.test.ts checks the loaders alone; this covers the Machine around them.)
import { existsSync, readFileSync } from 'node:fs';
import { Machine, MachineConfigError } from '../../src/machine/machine';
import { ImageError } from '../../src/machine/loaders/imageError';
import { buildElf, multiboot1Header, multiboot2Header } from '../machine/elfBuilder';
import { campaign, Rng, type FuzzOptions, type FuzzReport } from './fuzzKit';

const MEMORY = 16 * 2 ** 20;

function seedImages(): { name: string; data: Uint8Array }[] {
  const files = ['examples/demo.elf', '../shared/bench/bench-tiny.elf', 'test/fixtures/guests/dap-main.elf',
    'test/fixtures/guests/devices-timers.bin', 'test/fixtures/guests/dap-spin.bin', 'test/fixtures/guests/hypercall.bin'];
  const list: { name: string; data: Uint8Array }[] = files.filter((f) => existsSync(f)).map((f) => ({ name: f, data: new Uint8Array(readFileSync(f)) }));
  const mb2 = new Uint8Array(0x100);
  mb2.set(multiboot2Header([[1, 0, [1, 2, 4, 6]], [2, 0, [0x100000, 0x100000, 0x101000, 0x102000]], [3, 0, [0x100040]], [6, 1, []]]), 0);
  list.push({ name: 'mb2.elf', data: buildElf(32, 0x100040, [{ paddr: 0x100000, data: mb2, memsz: 0x2000 }]) });
  const mb1 = new Uint8Array(0x80);
  mb1.set(multiboot1Header(0x10003, [0x100000, 0x100000, 0, 0x104000, 0x100020]), 0);
  list.push({ name: 'mb1-aout', data: mb1 });
  list.push({ name: 'elf64', data: buildElf(64, 0x200000, [{ paddr: 0x200000, data: Uint8Array.of(0xf4), memsz: 0x3000 }, { paddr: 0x300000, vaddr: 0xffff800000300000, data: new Uint8Array(64) }]) });
  const boot = new Uint8Array(512); boot[0] = 0xf4; boot[510] = 0x55; boot[511] = 0xaa;
  list.push({ name: 'bootsector', data: boot });
  return list;
}

const EXTREMES = [0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 0xfffff000, 0x100000, 0xffff, 0x40, 0x38, MEMORY, MEMORY - 1];

function put32(d: Uint8Array, at: number, v: number): void { if (at >= 0 && at + 4 <= d.length) new DataView(d.buffer, d.byteOffset).setUint32(at, v >>> 0, true); }
function put16(d: Uint8Array, at: number, v: number): void { if (at >= 0 && at + 2 <= d.length) new DataView(d.buffer, d.byteOffset).setUint16(at, v & 0xffff, true); }

/** Offsets of the fields a loader trusts: ELF header, program headers, multiboot header words. */
function fieldOffsets(d: Uint8Array): number[] {
  const out: number[] = [];
  if (d.length >= 64 && d[0] === 0x7f && d[1] === 0x45) {
    const dv = new DataView(d.buffer, d.byteOffset, d.length);
    const is64 = d[4] === 2;
    out.push(...(is64 ? [24, 32, 40, 54, 56, 58, 60, 62] : [24, 28, 32, 42, 44, 46, 48, 50]));
    const phoff = is64 ? Number(dv.getBigUint64(32, true) & 0xffffffn) : dv.getUint32(28, true);
    const phent = dv.getUint16(is64 ? 54 : 42, true), phnum = dv.getUint16(is64 ? 56 : 44, true);
    for (let i = 0; i < Math.min(phnum, 8); i++) {
      const p = phoff + i * phent;
      if (p + (is64 ? 56 : 32) > d.length) break;
      out.push(...(is64 ? [0, 8, 16, 24, 32, 40] : [0, 4, 8, 12, 16, 20]).map((o) => p + o));
    }
  }
  for (let off = 0; off + 12 <= Math.min(d.length, 32768); off += 4) {
    const m = new DataView(d.buffer, d.byteOffset, d.length).getUint32(off, true);
    if (m === 0x1badb002 || m === 0xe85250d6) for (let k = 0; k < 12; k++) out.push(off + 4 * k);
  }
  return out;
}

function mutate(src: Uint8Array, r: Rng): Uint8Array {
  const d = new Uint8Array(src);
  const fields = fieldOffsets(d);
  switch (r.int(5)) {
    case 0: return d.subarray(0, r.int(d.length + 1));
    case 1: for (let k = 1 + r.int(8); k > 0; k--) d[r.int(d.length)] ^= 1 << r.int(8); return d;
    default: {
      for (let k = 1 + r.int(3); k > 0; k--) {
        const at = fields.length > 0 && r.bool(0.85) ? r.pick(fields) : r.int(Math.min(d.length, 512));
        const v = r.bool(0.6) ? r.pick(EXTREMES) : r.u32();
        if (r.bool(0.3)) put16(d, at, v); else put32(d, at, v);
      }
      return d;
    }
  }
}

export function fuzzLoaders(opts: FuzzOptions): FuzzReport {
  const seeds = seedImages();
  return campaign('loaders', opts, (seed) => {
    const r = new Rng(seed);
    const base = r.pick(seeds);
    const data = r.bool(0.05) ? r.bytes(r.int(2048)) : mutate(base.data, r);
    const format = r.pick(['auto', 'auto', 'elf', 'multiboot', 'flat'] as const);
    const flat = format === 'flat' || r.bool(0.2);
    let m: Machine;
    try {
      m = new Machine({
        image: `${base.name}#${seed}`, imageData: data, memoryBytes: MEMORY, format,
        ...(flat ? { load: r.pick([0x7c00, 0x100000, MEMORY - 512, 0]), mode: r.pick(['real', 'protected', 'long'] as const) } : {}),
        ...(r.bool(0.2) ? { entry: r.pick([0, 0x7c00, 0x100000, 0xffffffff]) } : {}),
        serialOutput: () => undefined, rtcBaseMs: 0,
      });
    } catch (e) {
      if (e instanceof ImageError || e instanceof MachineConfigError) {
        if (!e.message) throw new Error(`${base.name}: empty error message`);
        return 'rejected';
      }
      throw new Error(`${base.name} (${format}) threw ${(e as Error).name}: ${(e as Error).stack}`);
    }
    for (const s of m.plan.segments) {
      if (!(s.gpa >= 0 && s.gpa + s.memSize <= MEMORY && s.data.length <= s.memSize)) throw new Error(`${base.name}: segment 0x${s.gpa.toString(16)}+0x${s.memSize.toString(16)} outside RAM`);
    }
    // The loaded guest runs briefly: whatever the image holds is guest code now.
    const stop = m.run(2000);
    return `loaded (${stop.kind})`;
  });
}
