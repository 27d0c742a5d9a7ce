// The committed guest images are the assembled sources: rebuilt with nasm, they must match
// byte for byte (so a test never runs an image its .asm no longer describes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const nasm = spawnSync('nasm', ['-v']).status === 0;

test('device guests: committed images match their sources', { skip: nasm ? false : 'nasm not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-guests-'));
  try {
    for (const g of ['uart', 'timers', 'reset', 'smp']) {
      const out = join(dir, `${g}.bin`);
      const r = spawnSync('nasm', ['-f', 'bin', `test/guests/devices-${g}.asm`, '-o', out]);
      assert.equal(r.status, 0, r.stderr?.toString());
      assert.ok(readFileSync(out).equals(readFileSync(`test/fixtures/guests/devices-${g}.bin`)), `devices-${g}.bin is stale: rebuild it`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('examples/demo.elf matches examples/demo.asm (examples/build.sh)', { skip: nasm && spawnSync('ld', ['-v']).status === 0 ? false : 'nasm or ld not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-demo-'));
  try {
    const obj = join(dir, 'demo.o'), elf = join(dir, 'demo.elf');
    // The object is assembled from the same relative path build.sh uses, so the DWARF file name matches.
    assert.equal(spawnSync('nasm', ['-f', 'elf64', '-g', '-F', 'dwarf', 'demo.asm', '-o', obj], { cwd: 'examples' }).status, 0);
    const r = spawnSync('ld', ['-m', 'elf_x86_64', '-nostdlib', '-z', 'max-page-size=0x1000', '--no-warn-rwx-segments', '-Ttext=0x100000', '-e', '_start', '-o', elf, obj]);
    assert.equal(r.status, 0, r.stderr?.toString());
    assert.ok(readFileSync(elf).equals(readFileSync('examples/demo.elf')), 'examples/demo.elf is stale: run examples/build.sh');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
