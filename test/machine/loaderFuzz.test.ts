// Fixed-seed robustness run of the loaders and the symbol reader on mutated and random
// images: each case must give a boot plan or an ImageError — never another exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { loadImageBytes } from '../../src/machine/loaders/loadImage';
import { ImageError } from '../../src/machine/loaders/imageError';
import { Symbols } from '../../src/machine/symbols/symbols';
import { buildElf, multiboot1Header, multiboot2Header } from './elfBuilder';

/** xorshift32: deterministic and dependency-free. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
}

function seeds(): Uint8Array[] {
  const list: Uint8Array[] = [readFileSync('examples/demo.elf'), readFileSync('test/fixtures/guests/devices-timers.bin')];
  if (existsSync('../shared/bench/bench-tiny.elf')) list.push(readFileSync('../shared/bench/bench-tiny.elf'));
  const mb2 = new Uint8Array(0x100);
  mb2.set(multiboot2Header([[1, 0, [1, 2, 4, 6]], [6, 1, []]]), 0);
  list.push(buildElf(32, 0x100040, [{ paddr: 0x100000, data: mb2, memsz: 0x2000 }]));
  const mb1 = new Uint8Array(0x80);
  mb1.set(multiboot1Header(0x10003, [0x100000, 0x100000, 0, 0x104000, 0x100020]), 0);
  list.push(mb1);
  return list;
}

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const d = new Uint8Array(src);
  const kind = Math.floor(r() * 4);
  if (kind === 0) return d.subarray(0, Math.floor(r() * d.length)); // truncation
  const edits = 1 + Math.floor(r() * 8);
  for (let i = 0; i < edits; i++) {
    // Bias edits towards headers, where the interesting fields are.
    const at = Math.floor((r() < 0.7 ? Math.min(d.length, 256) : d.length) * r());
    if (kind === 1) d[at] = Math.floor(r() * 256);
    else if (kind === 2) d[at] ^= 1 << Math.floor(r() * 8);
    else if (at + 4 <= d.length) new DataView(d.buffer, d.byteOffset).setUint32(at, [0, 0xffffffff, 0x80000000, 0x7fffffff, Math.floor(r() * 2 ** 32)][Math.floor(r() * 5)], true);
  }
  return d;
}

test('loaders and symbols on 3000 mutated and random images: a plan or an ImageError, nothing else', () => {
  const r = rng(20261122);
  const base = seeds();
  let plans = 0, errors = 0;
  for (let i = 0; i < 3000; i++) {
    const img = i % 10 === 9 ? Uint8Array.from({ length: Math.floor(r() * 600) }, () => Math.floor(r() * 256)) : mutate(base[i % base.length], r);
    const format = (['auto', 'elf', 'multiboot', 'flat'] as const)[i % 4];
    try {
      const p = loadImageBytes(img, `case${i}`, { memoryBytes: 64 * 2 ** 20, format });
      plans++;
      for (const s of p.segments) assert.ok(s.gpa >= 0 && s.gpa + s.memSize <= 64 * 2 ** 20 && s.data.length <= s.memSize, `case ${i}: segment in RAM`);
    } catch (e) {
      if (!(e instanceof ImageError)) assert.fail(`case ${i} (${format}): ${(e as Error).stack}`);
      errors++;
    }
    try {
      Symbols.fromElf(img, `case${i}`);
    } catch (e) {
      if (!(e instanceof ImageError)) assert.fail(`case ${i} symbols: ${(e as Error).stack}`);
    }
  }
  assert.ok(plans > 100 && errors > 100, `both outcomes exercised (${plans} plans, ${errors} errors)`);
});
