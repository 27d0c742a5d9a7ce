// Large guests: RAM above 3 GiB is mapped from 4 GiB up around the 32-bit MMIO hole (QEMU's
// pc layout), the partition stays sparse, loaders and the multiboot memory map follow the layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Machine, MAX_MEMORY_BYTES, MachineConfigError } from '../../src/machine/machine';
import { ramRanges } from '../../src/machine/ramLayout';
import { identityPageTables } from '../../src/machine/loaders/bootPlan';
import { loadImageBytes } from '../../src/machine/loaders/loadImage';
import { WhvRunVpExitReason as X, HvRegisterName as R } from '../../src/partition/hvdef';
import { multiboot1Header, multiboot2Header } from './elfBuilder';

const GiB = 2 ** 30, MiB = 2 ** 20;
const G64 = 64 * GiB;
const bench = '../shared/bench/bench-tiny.elf';
const noBench = existsSync(bench) ? false : `${bench} not present (the shared bench directory is beside the repository)`;

test('RAM layout: contiguous below 3.5 GiB, otherwise 3 GiB low and the rest from 4 GiB up', () => {
  assert.deepEqual(ramRanges(128 * MiB), [{ base: 0, size: 128 * MiB }]);
  assert.deepEqual(ramRanges(0xe0000000 - 4096), [{ base: 0, size: 0xe0000000 - 4096 }]);
  assert.deepEqual(ramRanges(0xe0000000), [{ base: 0, size: 0xc0000000 }, { base: 4 * GiB, size: 0x20000000 }]);
  assert.deepEqual(ramRanges(G64), [{ base: 0, size: 3 * GiB }, { base: 4 * GiB, size: 61 * GiB }]);
});

test('memory sizes: up to 1023 GiB is accepted, beyond is a clear configuration error', () => {
  assert.equal(MAX_MEMORY_BYTES, 1023 * GiB);
  const img = { image: 'x.bin', imageData: new Uint8Array([0xf4]) };
  const m = new Machine({ ...img, memoryBytes: MAX_MEMORY_BYTES });
  assert.equal(m.partition.memory.lookup(2 ** 40 - 4096) !== undefined, true, 'the last page of RAM is mapped');
  assert.throws(() => new Machine({ ...img, memoryBytes: 1024 * GiB }), (e: unknown) => e instanceof MachineConfigError && /too large: at most 1023 GiB fit the 40-bit/.test(e.message));
});

test('a 64 GiB machine runs bench-tiny.elf and keeps only the touched pages resident', { skip: noBench }, () => {
  let out = '';
  const m = new Machine({ image: bench, memoryBytes: G64, serialOutput: (b) => { out += String.fromCharCode(b); } });
  const atLaunch = m.partition.memory.residentBytes();
  assert.ok(atLaunch <= 64 * 4096, `resident after load: ${atLaunch} bytes`);
  let stop = m.run(10_000_000);
  while (stop.kind === 'budget') stop = m.run(10_000_000);
  assert.equal(stop.kind, 'ended');
  assert.equal(out, 'c00ce196f47148b8\n00000000000000a8\n0000000000000037\n2b002b002c012602\n');
  const resident = m.partition.memory.residentBytes();
  assert.ok(resident < 4 * MiB, `resident after the run: ${resident} bytes of ${G64}`);
});

test('vpdbg run bench-tiny.elf --memory 64G prints its four lines', { skip: noBench || (!existsSync('dist/cli.js') && 'dist/ not built') }, () => {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'run', bench, '--memory', '64G'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'c00ce196f47148b8\n00000000000000a8\n0000000000000037\n2b002b002c012602\n');
  assert.equal(r.status, 33);
  const big = spawnSync(process.execPath, ['dist/cli.js', 'run', bench, '--memory', '2T'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(big.status, 2);
  assert.match(big.stderr, /memory size 2199023255552 is too large: at most 1023 GiB/);
});

/** Reads the multiboot v1 or v2 memory map the guest was handed, from guest memory at EBX. */
function guestMemoryMap(m: Machine, version: 1 | 2): { lower: number; upper: number; map: [number, number, number][] } {
  const mem = m.partition.memory;
  const at = Number(m.getRegister(0, R.Rbx));
  const buf = new Uint8Array(4096);
  assert.ok(mem.read(at, buf));
  const v = new DataView(buf.buffer);
  const map: [number, number, number][] = [];
  const entry = (o: number) => map.push([Number(v.getBigUint64(o, true)), Number(v.getBigUint64(o + 8, true)), v.getUint32(o + 16, true)]);
  if (version === 1) {
    assert.equal(v.getUint32(0, true) & 0x41, 0x41, 'mem_* and mmap flags');
    const len = v.getUint32(44, true), mmap = v.getUint32(48, true) - at;
    for (let o = mmap; o < mmap + len; o += v.getUint32(o, true) + 4) entry(o + 4);
    return { lower: v.getUint32(4, true), upper: v.getUint32(8, true), map };
  }
  let lower = -1, upper = -1;
  for (let o = 8; o < v.getUint32(0, true);) {
    const type = v.getUint32(o, true), size = v.getUint32(o + 4, true);
    if (type === 0) break;
    if (type === 4) { lower = v.getUint32(o + 8, true); upper = v.getUint32(o + 12, true); }
    if (type === 6) for (let e = o + 16; e < o + size; e += v.getUint32(o + 8, true)) entry(e);
    o += (size + 7) & ~7;
  }
  return { lower, upper, map };
}

const EXPECTED_64G: [number, number, number][] = [
  [0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0xf0000, 0x10000, 2], [0x100000, 3 * GiB - MiB, 1], [4 * GiB, 61 * GiB, 1],
];

test('multiboot v1 and v2 kernels on a 64 GiB machine receive both RAM ranges', () => {
  const v1 = new Uint8Array(0x100);
  v1.set(multiboot1Header(0x10002, [0x200000, 0x200000, 0, 0, 0x200040]), 0);
  v1[0x40] = 0xf4;
  const v2 = new Uint8Array(0x100);
  v2.set(multiboot2Header([[2, 0, [0x200000, 0x200000, 0, 0]], [3, 0, [0x200080]]]), 0);
  v2[0x80] = 0xf4;
  for (const [version, image] of [[1, v1], [2, v2]] as const) {
    const m = new Machine({ image: `mb${version}`, imageData: image, memoryBytes: G64 });
    const got = guestMemoryMap(m, version);
    assert.equal(got.lower, 639, `v${version} mem_lower`);
    assert.equal(got.upper, (3 * GiB - MiB) / 1024, `v${version} mem_upper: 1 MiB up to the hole`);
    assert.deepEqual(got.map, EXPECTED_64G, `v${version} memory map`);
    assert.equal(m.run(1000).kind, 'halted', 'the kernel ran to its HLT');
  }
});

test('small machines keep one contiguous range in the multiboot map', () => {
  const img = new Uint8Array(0x100);
  img.set(multiboot1Header(0x10002, [0x200000, 0x200000, 0, 0, 0x200040]), 0);
  const m = new Machine({ image: 'mb', imageData: img, memoryBytes: 128 * MiB });
  assert.deepEqual(guestMemoryMap(m, 1).map.at(-1), [0x100000, 127 * MiB, 1]);
});

// mov rax, 65 GiB - 8 (the last qword of RAM); mov qword [rax], 0x12345678; mov rbx, [rax];
// mov eax, 0xD0000000 (in the MMIO hole); mov ecx, [rax]
const HIGH_AND_HOLE = [0x48, 0xb8, ...u64le(65 * GiB - 8), 0x48, 0xc7, 0x00, 0x78, 0x56, 0x34, 0x12, 0x48, 0x8b, 0x18,
  0xb8, 0x00, 0x00, 0x00, 0xd0, 0x8b, 0x08, 0xf4];
function u64le(n: number): number[] { const b = Buffer.alloc(8); b.writeBigUint64LE(BigInt(n)); return [...b]; }

test('a long-mode guest reaches RAM above 4 GiB through the identity map; the hole exits as MemoryAccess', () => {
  const m = new Machine({ image: 'probe', imageData: new Uint8Array(HIGH_AND_HOLE), memoryBytes: G64, mode: 'long', load: 0x100000, reportUnclaimed: true });
  m.setReportedExits([X.MemoryAccess]);
  const stop = m.run(1000);
  assert.equal(stop.kind, 'exit');
  if (stop.kind !== 'exit') return;
  assert.equal(stop.exit.ExitReason, X.MemoryAccess);
  assert.equal(stop.exit.MemoryAccess!.Gpa, 0xd0000000n);
  assert.equal(stop.exit.MemoryAccess!.AccessInfo.GpaUnmapped, true);
  assert.equal(m.getRegister(0, R.Rbx), 0x12345678n, 'the value read back from 65 GiB - 8');
  const back = new Uint8Array(8);
  assert.ok(m.partition.memory.read(65 * GiB - 8, back));
  assert.deepEqual([...back], [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0]);
});

test('the CMOS memory-size bytes give RAM below and above 4 GiB in 64 KiB units (as SeaBIOS reads them)', () => {
  const m = new Machine({ image: 'x.bin', imageData: new Uint8Array([0xf4]), memoryBytes: G64 });
  const rd = (r: number) => { m.rtc.ioWrite(0x70, 1, r); return m.rtc.ioRead(0x71); };
  assert.equal(rd(0x34) | (rd(0x35) << 8), (3 * GiB - 16 * MiB) / 65536);
  assert.equal(rd(0x5b) | (rd(0x5c) << 8) | (rd(0x5d) << 16), 61 * GiB / 65536);
});

test('identity paging covers the first 4 GiB with 2 MiB pages and the RAM above with 1 GiB pages', () => {
  const t = identityPageTables(0x10000, 65 * GiB);
  const v = new DataView(t.buffer);
  assert.equal(t.length, (2 + 4) * 4096, 'PML4, one PDPT, four PDs');
  assert.equal(v.getBigUint64(0x1000 + 3 * 8, true), 0x10000n + 0x2000n + 3n * 0x1000n + 3n, 'PDPT[3] -> fourth PD');
  assert.equal(v.getBigUint64(0x2000 + 3 * 0x1000 + 0x1f7 * 8, true), 0xfee00083n, 'the local APIC page is mapped');
  assert.equal(v.getBigUint64(0x1000 + 64 * 8, true), (64n << 30n) | 0x83n, 'PDPT[64]: the 1 GiB page at 64 GiB');
  assert.equal(v.getBigUint64(0x1000 + 65 * 8, true), 0n, 'nothing above RAM');
  const huge = identityPageTables(0, 1024 * GiB);
  assert.equal(huge.length, (1 + 2 + 4) * 4096, 'two PDPTs for 1 TiB');
});

test('loaders place images in either RAM range and refuse the hole', () => {
  const code = new Uint8Array(16).fill(0x90);
  const p = loadImageBytes(code, 'img', { memoryBytes: G64, mode: 'long', load: 0x800000000 });
  assert.equal(p.entry, 0x800000000n);
  assert.throws(() => loadImageBytes(code, 'img', { memoryBytes: G64, mode: 'long', load: 0xd0000000 }),
    /flat image at 0xd0000000-0xd0000010 is outside guest RAM \(0x0-0xc0000000 and 0x100000000-0x1040000000; use --memory\)/);
  assert.throws(() => loadImageBytes(code, 'img', { memoryBytes: G64, mode: 'long', load: 0xbffffff8 }), /outside guest RAM/, 'no straddling the end of low RAM');
  assert.throws(() => loadImageBytes(code, 'img', { memoryBytes: G64, mode: 'protected', load: 0x800000000, entry: 0x100000 }), /flat image at 0x800000000 is above 4 GiB, out of reach of a kernel entered in 32-bit protected mode/);
});
