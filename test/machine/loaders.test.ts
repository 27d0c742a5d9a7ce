import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { loadImageBytes, loadImageFile } from '../../src/machine/loaders/loadImage';
import { ImageError } from '../../src/machine/loaders/imageError';
import type { BootPlan } from '../../src/machine/loaders/bootPlan';
import { buildElf, multiboot1Header, multiboot2Header } from './elfBuilder';
import { applyBootPlan } from '../../src/machine/loaders/applyBootPlan';
import { Partition } from '../../src/partition/partition';
import { HvRegisterName } from '../../src/partition/hvdef';
import { valueU64 } from '../../src/partition/registerValue';

const MiB = 2 ** 20;
const mem = { memoryBytes: 64 * MiB };
const code = (n: number, fill = 0x90) => new Uint8Array(n).fill(fill);
const seg = (p: BootPlan, what: string) => p.segments.find((s) => s.what.includes(what));
const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
const u64 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(o, true);

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected ImageError, got ${String(e)}`);
    assert.match(e.message, /^img: /, 'the message names the file');
    assert.match(e.message, pattern);
    return true;
  });
}

test('a boot sector starts at 0000:7C00 in real mode with DL = 0x80', () => {
  const img = code(512, 0xf4);
  img[510] = 0x55; img[511] = 0xaa;
  const p = loadImageBytes(img, 'img', mem);
  assert.equal(p.format, 'flat');
  assert.equal(p.state.mode, 'real');
  assert.equal(p.state.cs.selector, 0);
  assert.equal(p.state.rip, 0x7c00n);
  assert.equal(p.state.gprs.rdx, 0x80n);
  assert.equal(p.state.gprs.rsp, 0x7c00n);
  assert.deepEqual(p.segments.map((s) => [s.gpa, s.memSize]), [[0x7c00, 512]]);
});

test('a flat binary honours load address, entry and start mode', () => {
  const p = loadImageBytes(code(100), 'img', { ...mem, load: 0x200000, entry: 0x200010, mode: 'protected' });
  assert.equal(p.state.mode, 'protected');
  assert.equal(p.entry, 0x200010n);
  assert.equal(p.state.cs.selector, 0x08);
  assert.equal(p.state.cs.attributes & 0x4000, 0x4000, 'CS is a 32-bit segment');
  const gdt = seg(p, 'GDT')!;
  assert.equal(p.state.gdtr.base, BigInt(gdt.gpa));
  assert.equal(u64(gdt.data, 8), 0x00cf9b000000ffffn);
  assert.equal(p.state.gprs.rdx, undefined, 'DL is only set for boot sectors');
});

test('a flat binary in real mode above 64 KiB gets a segment:offset entry', () => {
  const p = loadImageBytes(code(16), 'img', { ...mem, load: 0x12340 });
  assert.equal(p.state.cs.selector, 0x1000);
  assert.equal(p.state.cs.base, 0x10000n);
  assert.equal(p.state.rip, 0x2340n);
});

test('long mode builds identity page tables that cover RAM and the local APIC', () => {
  const p = loadImageBytes(code(64), 'img', { ...mem, load: 0x100000, mode: 'long' });
  assert.equal(p.state.mode, 'long');
  assert.equal(p.state.efer, 0x500n);
  assert.equal(p.state.cr0 & 0x80000001n, 0x80000001n);
  assert.equal(p.state.cr4 & 0x20n, 0x20n);
  assert.equal(p.state.cs.attributes & 0x2000, 0x2000, 'CS.L');
  const pt = seg(p, 'page tables')!;
  assert.equal(p.state.cr3, BigInt(pt.gpa));
  const walk = (va: number) => {
    const pml4e = u64(pt.data, 0);
    const pdpt = Number(pml4e & ~0xfffn) - pt.gpa;
    const pdpte = u64(pt.data, pdpt + Math.floor(va / 2 ** 30) * 8);
    const pd = Number(pdpte & ~0xfffn) - pt.gpa;
    const pde = u64(pt.data, pd + ((va >>> 21) & 511) * 8);
    assert.equal(pde & 0x81n, 0x81n, 'present 2 MiB page');
    return Number(pde & ~0x1fffffn);
  };
  assert.equal(walk(0x100000), 0);
  assert.equal(walk(0xfee00000), 0xfee00000);
});

test('flat images: empty, larger than RAM, outside RAM, unreachable entry', () => {
  rejects(() => loadImageBytes(new Uint8Array(0), 'img', mem), /empty/);
  rejects(() => loadImageBytes(code(4096), 'img', { memoryBytes: 2048 }), /needs 4096 bytes.*2048 bytes of RAM/);
  rejects(() => loadImageBytes(code(16), 'img', { ...mem, load: 64 * MiB - 8 }), /outside guest RAM/);
  rejects(() => loadImageBytes(code(16), 'img', { ...mem, entry: 128 * MiB }), /entry point 0x8000000 is outside guest RAM/);
  rejects(() => loadImageBytes(code(16), 'img', { ...mem, load: 0x200000 }), /not reachable in real mode/);
});

test('ELF64 loads PT_LOAD segments at p_paddr and enters long mode with a stack', () => {
  const elf = buildElf(64, 0x100000, [{ paddr: 0x100000, data: code(0x200) }, { paddr: 0x200000, data: code(0x10, 1), memsz: 0x3000 }]);
  const p = loadImageBytes(elf, 'img', mem);
  assert.equal(p.format, 'elf');
  assert.equal(p.state.mode, 'long');
  assert.equal(p.state.rip, 0x100000n);
  const bss = seg(p, 'PT_LOAD at 0x200000')!;
  assert.equal(bss.data.length, 0x10);
  assert.equal(bss.memSize, 0x3000);
  const stack = seg(p, 'stack')!;
  assert.equal(p.state.gprs.rsp, BigInt(stack.gpa + stack.memSize));
});

test('ELF32 enters flat protected mode; a higher-half entry is moved to its physical address', () => {
  const p = loadImageBytes(buildElf(32, 0xc0100010, [{ paddr: 0x100000, vaddr: 0xc0100000, data: code(0x100) }]), 'img', mem);
  assert.equal(p.state.mode, 'protected');
  assert.equal(p.entry, 0x100010n);
});

test('bad ELF files give errors that name the problem', () => {
  const good = buildElf(64, 0x100000, [{ paddr: 0x100000, data: code(0x100) }]);
  rejects(() => loadImageBytes(good.subarray(0, 40), 'img', mem), /truncated: ELF header/);
  rejects(() => loadImageBytes(good.subarray(0, 80), 'img', mem), /truncated: program header table/);
  rejects(() => loadImageBytes(good.subarray(0, good.length - 10), 'img', mem), /truncated: program header 0/);
  rejects(() => loadImageBytes(buildElf(64, 0x100000, [{ paddr: 0x100000, data: code(0x100) }, { paddr: 0x100080, data: code(0x10) }]), 'img', mem), /overlaps/);
  rejects(() => loadImageBytes(buildElf(64, 0x100000, [{ paddr: 0x100000, data: code(0x10), memsz: 128 * MiB }]), 'img', mem), /needs .* bytes of memory/);
  rejects(() => loadImageBytes(buildElf(64, 0x100000, [{ paddr: 63 * MiB, data: code(0x10), memsz: 2 * MiB }]), 'img', mem), /outside guest RAM/);
  rejects(() => loadImageBytes(buildElf(64, 0x300000, [{ paddr: 0x100000, data: code(0x10) }]), 'img', mem), /entry point 0x300000 is outside every loaded segment/);
  rejects(() => loadImageBytes(buildElf(64, 0x100000, [{ paddr: 0x100000, data: code(0x10) }], 40), 'img', mem), /not x86/);
  rejects(() => loadImageBytes(buildElf(64, 0x100000, []), 'img', mem), /no loadable/);
  rejects(() => loadImageBytes(good, 'img', { ...mem, mode: 'real' }), /--mode applies to flat images only/);
  const fileszTooBig = buildElf(32, 0x100000, [{ paddr: 0x100000, data: code(0x20), memsz: 0x10 }]);
  rejects(() => loadImageBytes(fileszTooBig, 'img', mem), /file size 32 exceeds memory size 16/);
});

function checkMultiboot1Info(p: BootPlan, memoryBytes: number, cmdline: string): void {
  assert.equal(p.state.mode, 'protected');
  assert.equal(p.state.gprs.rax, 0x2badb002n);
  const info = seg(p, 'multiboot information')!;
  assert.equal(p.state.gprs.rbx, BigInt(info.gpa));
  const d = info.data;
  const flags = u32(d, 0);
  assert.equal(flags & 0x245, 0x245, 'mem, cmdline, mmap and boot loader name flags');
  assert.equal(u32(d, 4), 639);
  assert.equal(u32(d, 8), (memoryBytes - MiB) / 1024);
  const str = (addr: number) => { const o = addr - info.gpa; return Buffer.from(d.subarray(o, d.indexOf(0, o))).toString(); };
  assert.equal(str(u32(d, 16)), cmdline);
  assert.equal(str(u32(d, 64)), 'vpdbg');
  const mmapLen = u32(d, 44), mmapAt = u32(d, 48) - info.gpa;
  const entries: [bigint, bigint, number][] = [];
  for (let o = mmapAt; o < mmapAt + mmapLen; o += u32(d, o) + 4) entries.push([u64(d, o + 4), u64(d, o + 12), u32(d, o + 20)]);
  assert.deepEqual(entries[0], [0n, 0x9fc00n, 1]);
  assert.deepEqual(entries.at(-1), [0x100000n, BigInt(memoryBytes - MiB), 1]);
}

test('multiboot v1 ELF kernel: entry state and information structure', () => {
  const body = new Uint8Array(0x200);
  body.set(multiboot1Header(0x3), 0);
  const elf = buildElf(32, 0x100010, [{ paddr: 0x100000, data: body, memsz: 0x4000 }]);
  const p = loadImageBytes(elf, '/some/dir/img', { ...mem, commandLine: 'console=ttyS0' });
  assert.equal(p.format, 'multiboot');
  assert.equal(p.entry, 0x100010n);
  checkMultiboot1Info(p, mem.memoryBytes, 'console=ttyS0');
});

test('multiboot v1 with the a.out address fields loads a non-ELF image', () => {
  const img = new Uint8Array(0x100);
  img.set(multiboot1Header(0x10002, [0x200000, 0x200000, 0, 0x208000, 0x200040]), 0);
  const p = loadImageBytes(img, 'img', mem);
  assert.equal(p.entry, 0x200040n);
  const s = seg(p, 'load range')!;
  assert.equal(s.gpa, 0x200000);
  assert.equal(s.data.length, 0x100);
  assert.equal(s.memSize, 0x8000);
  rejects(() => loadImageBytes(img.subarray(0, 24), 'img', mem), /truncated: multiboot header address fields/);
  const bad = new Uint8Array(0x100);
  bad.set(multiboot1Header(0x10002, [0x200000, 0x200000, 0x300000, 0, 0x200040]), 0);
  rejects(() => loadImageBytes(bad, 'img', mem), /truncated: multiboot load range/);
});

test('multiboot v1: unsupported required features are refused; a bad checksum is not a header', () => {
  const img = new Uint8Array(0x100);
  img.set(multiboot1Header(0x8), 0);
  rejects(() => loadImageBytes(img, 'img', mem), /unsupported features \(flag bits 0x8\)/);
  const h = multiboot1Header(0);
  h[8] ^= 1;
  const flat = new Uint8Array(0x100);
  flat.set(h, 0);
  assert.equal(loadImageBytes(flat, 'img', mem).format, 'flat');
  rejects(() => loadImageBytes(flat, 'img', { ...mem, format: 'multiboot' }), /no multiboot header/);
});

test('multiboot v2 kernel: magic, tags of the information structure', () => {
  const body = new Uint8Array(0x200);
  body.set(multiboot2Header([[1, 0, [1, 6]]]), 0);
  const elf = buildElf(32, 0x100100, [{ paddr: 0x100000, data: body }]);
  const p = loadImageBytes(elf, 'img', mem);
  assert.equal(p.format, 'multiboot2');
  assert.equal(p.state.gprs.rax, 0x36d76289n);
  const info = seg(p, 'multiboot information')!;
  assert.equal(info.gpa % 8, 0);
  const d = info.data;
  assert.equal(u32(d, 0), d.length);
  const tags = new Map<number, number>();
  for (let o = 8; o < d.length;) { const type = u32(d, o), size = u32(d, o + 4); tags.set(type, o); if (type === 0) break; o += (size + 7) & ~7; }
  assert.deepEqual([...tags.keys()].sort(), [0, 1, 2, 4, 6]);
  assert.equal(u32(d, tags.get(4)! + 8), 639);
  const mm = tags.get(6)!;
  assert.equal(u32(d, mm + 8), 24);
  assert.equal(u64(d, mm + 16 + 8), 0x9fc00n);
  const required = new Uint8Array(0x200);
  required.set(multiboot2Header([[8, 0, [0x100000]]]), 0);
  rejects(() => loadImageBytes(buildElf(32, 0x100100, [{ paddr: 0x100000, data: required }]), 'img', mem), /tag 8 \(EFI i386 entry\) is required/);
  const wantsAcpi = new Uint8Array(0x200);
  wantsAcpi.set(multiboot2Header([[1, 0, [14]]]), 0);
  rejects(() => loadImageBytes(buildElf(32, 0x100100, [{ paddr: 0x100000, data: wantsAcpi }]), 'img', mem), /requires information tag 14/);
});

test('format overrides detection', () => {
  const body = new Uint8Array(0x200);
  body.set(multiboot1Header(0), 0);
  const elf = buildElf(32, 0x100010, [{ paddr: 0x100000, data: body }]);
  assert.equal(loadImageBytes(elf, 'img', mem).format, 'multiboot');
  assert.equal(loadImageBytes(elf, 'img', { ...mem, format: 'elf' }).format, 'elf');
  assert.equal(loadImageBytes(elf, 'img', { ...mem, format: 'flat' }).format, 'flat');
  rejects(() => loadImageBytes(code(64), 'img', { ...mem, format: 'elf' }), /not an ELF file/);
});

test('a missing file is an ImageError naming it', () => {
  assert.throws(() => loadImageFile('/nonexistent/kernel.elf', mem), /\/nonexistent\/kernel.elf: cannot read the file \(ENOENT\)/);
});

const bench = '../shared/bench/bench-tiny.elf';
test('bench-tiny.elf loads as a multiboot v1 kernel at 1 MiB', { skip: existsSync(bench) ? false : `${bench} not present` }, () => {
  const p = loadImageBytes(readFileSync(bench), 'bench-tiny.elf', { memoryBytes: 128 * MiB });
  assert.equal(p.format, 'multiboot');
  assert.equal(p.segments.find((s) => s.what.includes('program header 0'))!.gpa, 0x100000);
  checkMultiboot1Info(p, 128 * MiB, 'bench-tiny.elf');
});

test('a boot plan applied to a partition: memory holds the segments, GetVpRegisters the entry state', () => {
  const p = new Partition({ processorCount: 1, memoryBytes: 16 * MiB });
  const elf = buildElf(64, 0x100000, [{ paddr: 0x100000, data: code(0x20, 0xcc), memsz: 0x40 }]);
  const plan = loadImageBytes(elf, 'img', { memoryBytes: 16 * MiB });
  applyBootPlan(p, plan);
  const bytes = new Uint8Array(0x40);
  assert.ok(p.memory.read(0x100000, bytes));
  assert.deepEqual([...bytes], [...code(0x20, 0xcc), ...new Uint8Array(0x20)]);
  const names = [HvRegisterName.Rip, HvRegisterName.Rsp, HvRegisterName.Cr3, HvRegisterName.Efer];
  const r = p.getVpRegisters(p.id, 0, 0, names);
  assert.equal(r.status, 0);
  assert.deepEqual(r.values.map(valueU64), [0x100000n, plan.state.gprs.rsp, plan.state.cr3, 0x500n]);
  assert.equal(p.virtualProcessors[0].cpu.getMode(), 'long64');
});
