import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyImage, parseNasmNumber, planAssembly } from '../../src/extension/guestKind';
import { exampleSource } from '../../src/extension/example';

const asm = (name: string) => readFileSync(join('test', 'fixtures', 'asm', name), 'utf8');

test('images are classified by content: ELF, multiboot, boot sector, flat', () => {
  const elf = new Uint8Array(64); elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  assert.equal(classifyImage(elf, 4096), 'elf');
  const mb = new Uint8Array(8192);
  const v = new DataView(mb.buffer);
  v.setUint32(4096, 0x1badb002, true); v.setUint32(4100, 3, true); v.setUint32(4104, (-(0x1badb002 + 3)) >>> 0, true);
  assert.equal(classifyImage(mb, 20000), 'multiboot');
  mb.set([0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(classifyImage(mb, 20000), 'multiboot', 'a multiboot ELF is a multiboot kernel');
  v.setUint32(4104, 0, true);
  mb.set([0, 0, 0, 0]);
  assert.equal(classifyImage(mb, 20000), 'flat', 'a bad checksum is not a multiboot header');
  const boot = new Uint8Array(readFileSync(join('test', 'fixtures', 'asm', 'boot.bin')));
  assert.equal(classifyImage(boot, boot.length), 'bootSector');
  assert.equal(classifyImage(boot, 1024), 'flat', 'the 55 AA signature counts only in a 512-byte image');
  assert.equal(classifyImage(new Uint8Array(0), 0), 'flat');
});

test('an assembly source says how to assemble it', () => {
  assert.deepEqual(planAssembly(exampleSource), { nasmFormat: 'elf64', format: 'elf', mode: 'long' });
  assert.deepEqual(planAssembly(asm('boot.asm')), { nasmFormat: 'bin', format: 'flat', mode: 'real', loadAddress: 0x7c00 });
  assert.deepEqual(planAssembly('bits 32\nsection .multiboot\ndd 0x1BADB002\n'), { nasmFormat: 'elf32', format: 'multiboot', mode: 'protected' });
  assert.deepEqual(planAssembly('[bits 32]\n_start: hlt\n'), { nasmFormat: 'elf32', format: 'elf', mode: 'protected' });
  assert.deepEqual(planAssembly('BITS 64\n[ORG 100000h]\nhlt\n'), { nasmFormat: 'bin', format: 'flat', mode: 'long', loadAddress: 0x100000 });
  assert.deepEqual(planAssembly('; org 0x7c00 in a comment\nbits 64\n'), { nasmFormat: 'elf64', format: 'elf', mode: 'long' });
});

test('NASM integer literals in every form', () => {
  const cases: [string, number | undefined][] = [
    ['0x7c00', 0x7c00], ['0h7C00', 0x7c00], ['7c00h', 0x7c00], ['$7c00', 0x7c00], ['0b1010', 10], ['1010b', 10], ['0y11', 3], ['11y', 3],
    ['0o17', 15], ['17q', 15], ['17o', 15], ['0d99', 99], ['99d', 99], ['0t99', 99], ['31744', 31744], ['1_000', 1000], ['0x7c_00', 0x7c00], ['zz', undefined], ['0xg', undefined],
  ];
  for (const [text, want] of cases) assert.equal(parseNasmNumber(text), want, text);
});
