import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeHost } from './fakeHost';
import { configurationForFile, isDebuggableFile, prepareProgram, resolveConfiguration } from '../../src/extension/configurationProvider';
import { assemble, nasmVersion, ToolMissingError } from '../../src/extension/assembler';
import { writeExample } from '../../src/extension/example';

const fixtures = resolve('test', 'fixtures', 'asm');
/** The walkthrough's example guest, written where a user's workspace would hold it. */
const hello = writeExample(mkdtempSync(join(tmpdir(), 'vpdbg-hello-')));
const has = (tool: string, arg: string) => { try { execFileSync(tool, [arg], { stdio: 'ignore' }); return true; } catch { return false; } };
const hasNasm = has('nasm', '-v');
const hasLd = has('ld', '--version');

test('F5 without launch.json debugs the assembly source or image in the editor', async () => {
  const host = new FakeHost();
  host.file = { path: hello, languageId: 'x64asm' };
  const config = await resolveConfiguration({}, host);
  assert.deepEqual(config, { type: 'vpdbg', request: 'launch', name: 'Debug hello.asm', program: hello, stopOnEntry: true });
  host.file = { path: join(fixtures, 'boot.bin') };
  assert.equal((await resolveConfiguration({}, host))?.program, join(fixtures, 'boot.bin'));
  assert.deepEqual(host.errors, []);
});

test('F5 without launch.json on something else explains what to open', async () => {
  const host = new FakeHost();
  assert.equal(await resolveConfiguration({}, host), undefined);
  host.file = { path: join(fixtures, '..', '..', '..', 'package.json'), languageId: 'json' };
  assert.equal(await resolveConfiguration({}, host), undefined);
  assert.equal(host.errors.length, 2);
  assert.match(host.errors[0], /open a guest image .* or an assembly source/);
});

test('a configuration without program is refused with the field named', async () => {
  const host = new FakeHost();
  assert.equal(await resolveConfiguration({ type: 'vpdbg', request: 'launch', name: 'x' }, host), undefined);
  assert.match(host.errors[0], /needs "program"/);
});

test('a boot sector image gets real mode at 0x7c00 unless launch.json says otherwise', async () => {
  const host = new FakeHost();
  const boot = join(fixtures, 'boot.bin');
  assert.deepEqual(await prepareProgram(configurationForFile(boot), host), { ...configurationForFile(boot), format: 'flat', loadAddress: '0x7c00', mode: 'real' });
  const explicit = await prepareProgram({ ...configurationForFile(boot), loadAddress: '0x600' }, host);
  assert.equal(explicit?.loadAddress, '0x600');
  assert.equal((await prepareProgram({ ...configurationForFile(boot), program: 'missing.bin', cwd: fixtures }, host)), undefined);
  // Relative programs resolve against cwd (itself relative to the workspace folder), else the folder.
  assert.equal((await prepareProgram({ ...configurationForFile(boot), program: 'asm/boot.bin', cwd: 'fixtures' }, host, undefined, resolve('test')))?.program, boot);
  assert.equal((await prepareProgram({ ...configurationForFile(boot), program: 'test/fixtures/asm/boot.bin' }, host, undefined, resolve('.')))?.program, boot);
  assert.match(host.errors[0], /program not found: .*missing\.bin/);
});

test('an assembly program is replaced by the assembled image with the implied format and mode', async () => {
  const host = new FakeHost('/build');
  const calls: string[][] = [];
  const fakeAssembler = async (source: string, outDir: string, nasm: string) => {
    calls.push([source, outDir, nasm]);
    return { output: '/build/boot.bin', plan: { nasmFormat: 'bin' as const, format: 'flat' as const, mode: 'real' as const, loadAddress: 0x7c00 } };
  };
  host.settings.set('nasmPath', '/opt/nasm');
  const config = await prepareProgram({ ...configurationForFile(join(fixtures, 'boot.asm')), mode: 'protected' }, host, fakeAssembler);
  assert.deepEqual(calls, [[join(fixtures, 'boot.asm'), '/build', '/opt/nasm']]);
  assert.equal(config?.program, '/build/boot.bin');
  assert.equal(config?.format, 'flat');
  assert.equal(config?.loadAddress, '0x7c00');
  assert.equal(config?.mode, 'protected', 'launch.json wins over what the source implies');
});

test('an assembled ELF gets no mode: the image carries its own start state', async () => {
  const host = new FakeHost('/build');
  const elf = async () => ({ output: '/build/hello.elf', plan: { nasmFormat: 'elf64' as const, format: 'elf' as const, mode: 'long' as const } });
  const config = await prepareProgram(configurationForFile(hello), host, elf);
  assert.deepEqual(config, { ...configurationForFile(hello), program: '/build/hello.elf', format: 'elf' });
});

test('without nasm the error names the install step', async () => {
  const host = new FakeHost(mkdtempSync(join(tmpdir(), 'vpdbg-ext-')));
  host.settings.set('nasmPath', '/nonexistent/nasm');
  assert.equal(await prepareProgram(configurationForFile(hello), host), undefined);
  assert.match(host.errors[0], /nasm was not found\. Install it with `sudo apt install nasm`/);
});

test('isDebuggableFile: sources and images yes, other text no', () => {
  assert.ok(isDebuggableFile(hello));
  assert.ok(isDebuggableFile('/x/kernel.elf'));
  assert.ok(isDebuggableFile('/x/thing', 'x64asm'));
  assert.ok(!isDebuggableFile(resolve('package.json')));
  assert.ok(!isDebuggableFile(resolve('LICENSE')), 'an extensionless text file is not a guest');
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-kind-'));
  writeFileSync(join(dir, 'kernel'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
  assert.ok(isDebuggableFile(join(dir, 'kernel')), 'an extensionless ELF is');
  writeFileSync(join(dir, 'boot'), readFileSync(join(fixtures, 'boot.bin')));
  assert.ok(isDebuggableFile(join(dir, 'boot')), 'so is a boot sector');
});

test('nasm + ld turn a 64-bit source into an ELF with DWARF lines, linked at 1 MiB', { skip: !hasNasm || !hasLd ? 'needs nasm and ld (sudo apt install nasm binutils)' : false }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'vpdbg-asm-'));
  const { output, plan } = await assemble(hello, out);
  assert.equal(plan.format, 'elf');
  const elf = readFileSync(output);
  assert.deepEqual([...elf.subarray(0, 5)], [0x7f, 0x45, 0x4c, 0x46, 2], 'ELF64');
  assert.equal(elf.readUInt16LE(16), 2, 'an executable, not an object');
  assert.equal(elf.readBigUInt64LE(24), 0x100000n, '_start at 1 MiB is the entry point');
  const sections = execFileSync('readelf', ['-S', '-W', output], { encoding: 'utf8' });
  assert.match(sections, /\.debug_line/);
});

test('a boot sector source becomes a 512-byte flat image', { skip: !hasNasm ? 'needs nasm (sudo apt install nasm)' : false }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'vpdbg-asm-'));
  const { output, plan } = await assemble(join(fixtures, 'boot.asm'), out);
  assert.equal(plan.nasmFormat, 'bin');
  assert.equal(statSync(output).size, 512);
  assert.deepEqual(readFileSync(output), readFileSync(join(fixtures, 'boot.bin')));
});

test('an assembly error is reported with nasm\'s message', { skip: !hasNasm ? 'needs nasm' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-asm-'));
  const src = join(dir, 'bad.asm');
  writeFileSync(src, 'bits 64\n_start: mov rax, rbx, rcx\n');
  const host = new FakeHost(dir);
  assert.equal(await prepareProgram(configurationForFile(src), host), undefined);
  assert.match(host.errors[0], /bad\.asm did not assemble\. nasm failed:\n.*bad\.asm:2: error/);
});

test('nasmVersion reports the installed nasm or names the install step', async () => {
  await assert.rejects(nasmVersion('/nonexistent/nasm'), (e: unknown) => e instanceof ToolMissingError && /sudo apt install nasm/.test((e as Error).message));
  if (hasNasm) assert.match(await nasmVersion(), /^NASM version \d+\.\d+/);
});
