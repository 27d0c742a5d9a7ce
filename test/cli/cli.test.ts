import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs, parseSize, parseInteger, UsageError, type CommandSpec } from '../../src/cli/args';

const CLI = 'dist/cli.js';
const GUESTS = 'test/fixtures/guests';

function vpdbg(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, input: input ?? '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bench = '../shared/bench/bench-tiny.elf';
test('THE CONTRACT: vpdbg run bench-tiny.elf prints exactly the four lines and exits 33', { skip: existsSync(bench) ? false : `${bench} not present (the shared bench directory is beside the repository)` }, () => {
  const r = vpdbg(['run', bench]);
  assert.equal(r.stdout, 'c00ce196f47148b8\n00000000000000a8\n0000000000000037\n2b002b002c012602\n');
  assert.equal(r.status, 33);
  assert.equal(r.stderr, '');
});

test('--trace-exits prints one decoded line per exit on stderr, including each kind the example causes', () => {
  const r = vpdbg(['run', 'examples/demo.elf', '--trace-exits']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^demo: long mode, COM1 ok\n/);
  assert.match(r.stdout, /demo: bye\n$/);
  for (const re of [/X64IoPortAccess: OUT 0x3F8 ← 0x64 \(1 byte\) → com1/, /X64IoPortAccess: IN 0x3FD \(1 byte\) → com1 = 0x60/, /X64Cpuid: CPUID leaf 0x40000000/,
    /X64MsrAccess: RDMSR 0xC0DE0000 → #GP/, /Exception: #UD \(6\)/, /X64Rdtsc: RDTSC/, /MemoryAccess: write of unmapped GPA 0xFEE00380 .*→ lapic/,
    /X64Halt: HLT/, /X64ApicEoi: EOI of vector 0x40/, /Hypercall: VMCALL call code 0x50/, /OUT 0xF4 ← 0x0 \(1 byte\) → debug-exit/]) {
    assert.match(r.stderr, re);
  }
  for (const line of r.stderr.trim().split('\n').slice(0, -1)) assert.match(line, /^\[vp0 @\d+\] \w+/);
});

test('--trace-skip leaves out the exits the named devices handled, and rejects unknown devices', () => {
  const r = vpdbg(['run', 'examples/demo.elf', '--trace-exits', '--trace-skip', 'com1,lapic']);
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stderr, /→ com1|→ lapic/);
  assert.match(r.stderr, /X64Cpuid: CPUID leaf 0x40000000/);
  assert.match(r.stderr, /OUT 0xF4 ← 0x0 \(1 byte\) → debug-exit/);
  const bad = vpdbg(['run', 'examples/demo.elf', '--trace-exits', '--trace-skip', 'com9']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown device com9 \(devices: com1, /);
});

test('exit statuses: halted 0, reset 12, instruction limit 8, timeout 10 — with a reason and the exit context', () => {
  const reset = vpdbg(['run', `${GUESTS}/devices-reset.bin`]);
  assert.equal(reset.status, 12);
  assert.match(reset.stderr, /^vpdbg: reset requested: i8042 command 0xfe pulsed the reset line/);
  assert.match(reset.stderr, /X64IoPortAccess: OUT 0x64 ← 0xFE/);
  assert.match(reset.stderr, /PortNumber: 0x64/);
  const limit = vpdbg(['run', `${GUESTS}/devices-uart.bin`, '--max-instructions', '1000']);
  assert.equal(limit.status, 8);
  assert.match(limit.stderr, /instruction limit reached \(1000 instructions\)/);
  // A guest that waits in HLT for interrupts it masked while the PIT keeps ticking: only the timeout ends it.
  const t = vpdbg(['run', '--format', 'flat', '--mode', 'protected', '--load', '0x100000', 'test/fixtures/guests/devices-timers.bin', '--entry', '0x100014', '--timeout', '0.5', '--max-instructions', '5000']);
  assert.ok(t.status === 8 || t.status === 10 || t.status === 33, `status ${t.status}: ${t.stderr}`);
});

test('a boot sector that halts with interrupts disabled exits 0', () => {
  const img = Buffer.alloc(512);
  img.set([0xfa, 0xf4]); // cli; hlt
  img[510] = 0x55; img[511] = 0xaa;
  const file = join(tmpdir(), `vpdbg-halt-${process.pid}.bin`);
  writeFileSync(file, img);
  try {
    const h = vpdbg(['run', file]);
    assert.equal(h.status, 0);
    assert.equal(h.stdout, '');
  } finally {
    rmSync(file, { force: true });
  }
});

test('bad arguments print the usage and exit 2; --help everywhere; unloadable images exit 4', () => {
  for (const args of [[], ['frobnicate'], ['run'], ['run', 'a', 'b'], ['run', 'x.elf', '--memory', 'lots'], ['run', 'x.elf', '--format', 'pe'], ['run', 'x.elf', '--bogus'], ['regs', 'x.elf', '--after', '1', '--at', '0x10'], ['run', 'x.elf', '--timeout'], ['run', 'examples/demo.elf', '--memory', '2T'], ['run', 'examples/demo.elf', '--processors', '0']]) {
    const r = vpdbg(args);
    assert.equal(r.status, 2, `vpdbg ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: vpdbg/);
  }
  for (const args of [['--help'], ['run', '--help'], ['regs', '--help'], ['bench', '--help']]) {
    const r = vpdbg(args);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: vpdbg/);
  }
  const missing = vpdbg(['run', 'no/such/kernel.elf']);
  assert.equal(missing.status, 4);
  assert.equal(missing.stderr, 'vpdbg: no/such/kernel.elf: cannot read the file (ENOENT)\n');
  const big = vpdbg(['run', 'examples/demo.elf', '--memory', '1M']);
  assert.equal(big.status, 4);
  assert.match(big.stderr, /outside guest RAM/);
});

test('vpdbg regs prints every register group of VP 0 through GetVpRegisters', () => {
  const r = vpdbg(['regs', 'examples/demo.elf']);
  assert.equal(r.status, 0, r.stderr);
  for (const g of ['General purpose:', 'Segment:', 'Control & debug:', 'Descriptor tables:', 'MSRs:', 'SSE:', 'x87:']) assert.ok(r.stdout.includes(`\n${g}\n`), g);
  assert.match(r.stdout, /^VP 0 after 0 instructions/);
  assert.match(r.stdout, /\n {2}Rip +0x0000000000100000\n/);
  assert.match(r.stdout, /\n {2}Cs +selector 0x0018 .* attributes 0xa09b\n/);
  assert.match(r.stdout, /\n {2}Efer +0x0000000000000500\n/);
  const at = vpdbg(['regs', 'examples/demo.elf', '--at', '0x100011']);
  assert.equal(at.status, 0, at.stderr);
  assert.match(at.stdout, /\n {2}Rip +0x0000000000100011\n/);
  assert.match(at.stdout, /\n {2}Rsi +0x000000000010101a\n/, 'stopped after puts returned (RSI past the banner)');
  const after = vpdbg(['regs', 'examples/demo.elf', '--after', '3']);
  assert.match(after.stdout, /^VP 0 after 3 instructions/);
});

test('vpdbg bench prints a stable table', { skip: existsSync(bench) ? false : `${bench} not present` }, () => {
  const r = vpdbg(['bench', bench]);
  assert.equal(r.status, 0, r.stderr);
  const [head, lines] = r.stdout.trim().split('\n\n');
  assert.deepEqual(head.split('\n').map((l) => l.slice(0, 16).trim()), ['image', 'instructions', 'seconds', 'cpu seconds', 'MIPS', 'setup seconds', 'peak RSS', 'end']);
  // One row per line the guest printed (one per kernel), under a header.
  assert.deepEqual(lines.split('\n').map((l) => l.split(/\s+/)[0]), ['line', 'c00ce196f47148b8', '00000000000000a8', '0000000000000037', '2b002b002c012602']);
  assert.match(r.stdout, /\nend +the guest wrote 0x10 to the isa-debug-exit port 0xF4 \(status 33\)\n/);
});

const SPEC: CommandSpec = {
  name: 't', summary: '', positionals: ['A', 'B?'],
  options: [{ name: 'n', kind: 'integer', help: '' }, { name: 'f', kind: 'flag', help: '' }, { name: 's', kind: 'size', help: '' }, { name: 'c', kind: 'string', choices: ['x', 'y'], help: '' }],
};

test('argument parser: forms, conversions and errors', () => {
  const a = parseArgs(SPEC, ['one', '--n', '0x10', '--f', '--s=64M', '--c', 'y']);
  assert.deepEqual(a.positionals, ['one']);
  assert.deepEqual([...a.options], [['n', 16], ['f', true], ['s', 64 * 2 ** 20], ['c', 'y']]);
  assert.equal(parseSize('1G'), 2 ** 30);
  assert.equal(parseSize('128KiB'), 128 * 1024);
  assert.equal(parseSize('1T'), 2 ** 40);
  assert.equal(parseSize('1.5G'), undefined);
  assert.equal(parseInteger('0x10_0000'), 0x100000);
  assert.equal(parseInteger('-1'), undefined);
  for (const bad of [['--n', 'x'], ['one', '--f=1'], ['one', '--c', 'z'], ['one', 'two', 'three'], ['one', '--s', '0'], ['one', '-x']]) {
    assert.throws(() => parseArgs(SPEC, bad), UsageError, bad.join(' '));
  }
  assert.equal(parseArgs(SPEC, ['--help']).help, true);
});

test('a reader that closes the pipe early ends vpdbg quietly (status 141, no stack trace)', async () => {
  // `vpdbg bench IMAGE | head -0`: the read end closes before vpdbg writes anything.
  const child = spawn(process.execPath, [CLI, 'bench', `${GUESTS}/bench32-tiny.elf`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  assert.equal(stderr, '');
  assert.equal(status, 141);
});
