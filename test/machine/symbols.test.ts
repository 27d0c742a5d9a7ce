import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Symbols } from '../../src/machine/symbols/symbols';
import { readDebugLine } from '../../src/machine/symbols/dwarfLine';
import { parseElf } from '../../src/machine/loaders/elf';

const DEMO = 'examples/demo.elf';
const DEMO_SRC = resolve('examples/demo.asm');
const sourceLines = readFileSync(DEMO_SRC, 'utf8').split('\n');
/** 1-based line of the first source line matching `re`. */
const lineOf = (re: RegExp) => sourceLines.findIndex((l) => re.test(l)) + 1;

test('DWARF line table of the example guest (nasm -g -F dwarf) maps addresses to demo.asm lines', () => {
  const s = Symbols.fromElf(readFileSync(DEMO), DEMO);
  assert.deepEqual(s.warnings, []);
  assert.deepEqual(s.sourceFiles(), [DEMO_SRC]);
  const start = s.lookup('_start')!;
  assert.equal(start, 0x100000);
  assert.deepEqual(s.lineAt(start), { file: DEMO_SRC, line: lineOf(/lea rsi, \[banner\]/), column: 0 });
  // A label's address is the next instruction's line.
  assert.equal(s.lineAt(s.lookup('wait_timer')!)!.line, lineOf(/^wait_timer:/) + 1);
  for (const re of [/^ {4}cpuid/, /^ {4}ud2/, /^ {4}rdtsc/, /^ {4}vmcall/]) {
    const line = lineOf(re);
    const found = s.addressesFor(DEMO_SRC, line);
    assert.ok(found, `line ${line} has code`);
    assert.equal(found.line, line);
    assert.equal(s.lineAt(found.addresses[0])!.line, line, 'address -> line -> address round trip');
  }
  // A line without code resolves to the next line that has some, as a breakpoint would.
  const blank = lineOf(/^wait_timer:/);
  assert.equal(s.addressesFor('demo.asm', blank)!.line, blank + 1, 'matched by file name alone');
  assert.equal(s.formatAddress(s.lookup('wait_timer')! + 1), 'wait_timer+0x1');
  assert.equal(s.nameAt(0x18), undefined, 'assembler constants (equ) are not addresses');
  assert.equal(s.lineAt(0x50), undefined);
});

test('a truncated .debug_line is reported, not thrown', () => {
  const data = readFileSync(DEMO);
  const elf = parseElf(data, DEMO);
  const line = elf.sectionData('.debug_line')!;
  const cut = readDebugLine(line.subarray(0, 40));
  assert.equal(cut.units.length, 0);
  assert.equal(cut.errors.length, 1);
  const garbage = new Uint8Array(line);
  garbage[4] = 9; // version 9
  assert.match(readDebugLine(garbage).errors[0], /unsupported .debug_line version 9/);
  const flipped = new Uint8Array(line);
  for (let i = 30; i < flipped.length; i += 7) flipped[i] ^= 0xff;
  assert.doesNotThrow(() => readDebugLine(flipped));
});

const cc = spawnSync('gcc', ['--version']).status === 0;
test('gcc -g line tables, DWARF versions 2 to 5', { skip: cc ? false : 'gcc not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-dwarf-'));
  try {
    const src = join(dir, 'k.c');
    writeFileSync(src, 'int g;\nint twice(int x) {\n  return x * 2;\n}\n\nvoid _start(void) {\n  g = twice(3);\n  for (;;) ;\n}\n');
    for (const version of [2, 3, 4, 5]) {
      const out = join(dir, `k${version}.elf`);
      const r = spawnSync('gcc', [`-gdwarf-${version}`, '-O0', '-ffreestanding', '-nostdlib', '-static', '-o', out, src]);
      assert.equal(r.status, 0, r.stderr?.toString());
      const s = Symbols.fromElf(readFileSync(out), out);
      assert.deepEqual(s.warnings, [], `DWARF ${version}`);
      const twice = s.lookup('twice')!;
      assert.equal(s.lineAt(twice)?.line, 2, `DWARF ${version}: twice() starts on line 2`);
      assert.equal(s.lineAt(twice)?.file, src);
      const body = s.addressesFor(src, 3)!;
      assert.equal(body.line, 3);
      assert.equal(s.nameAt(body.addresses[0])?.name, 'twice');
      assert.equal(s.addressesFor('k.c', 5)!.line, 6, 'the empty line 5 moves to line 6');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('non-ELF data has no symbols', () => {
  assert.equal(Symbols.fromElf(new Uint8Array(512), 'boot.bin').hasLines, false);
  assert.equal(existsSync(DEMO), true);
});
