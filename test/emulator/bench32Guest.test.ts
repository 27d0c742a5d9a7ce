// The 32-bit protected-mode benchmark guest (test/guests/bench32.asm, paging off, flat
// segments from its own GDT) prints its four checksum lines and exits through port 0xF4.
// Expected output: test/fixtures/guests/bench32*.expected, recorded under QEMU by
// test/guests/bench32-build.sh --expected; where qemu-system-x86_64 is installed, QEMU must
// still print the same lines from the committed images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMultibootGuest } from '../support/guestRunner';

const FIXTURES = join(__dirname, '../fixtures/guests');
const image = (name: string) => readFileSync(join(FIXTURES, `${name}.elf`));
const expected = (name: string) => readFileSync(join(FIXTURES, `${name}.expected`), 'utf8');
const haveQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;

test('bench32-tiny.elf: 32-bit kernels print their four checksums and exit through port 0xF4', () => {
  const r = runMultibootGuest(image('bench32-tiny'), { maxInstructions: 1_000_000 });
  assert.equal(r.serial, expected('bench32-tiny'), `stop: ${r.stop}`);
  assert.match(r.serial, /^([0-9a-f]{8}\n){4}$/);
  assert.equal(r.stop, 'debug-exit');
  assert.equal(r.exitCode, 0x10);
});

// 239 M instructions: the whole benchmark, so a wrong translation of a hot 32-bit loop
// (reached only after thousands of iterations) shows up here, not only in `npm run bench`.
test('bench32.elf: full iteration counts give the expected checksums', () => {
  const r = runMultibootGuest(image('bench32'), { maxInstructions: 300_000_000 });
  assert.equal(r.serial, expected('bench32'), `stop: ${r.stop}`);
  assert.equal(r.exitCode, 0x10);
});

for (const name of ['bench32-tiny', 'bench32']) {
  test(`${name}.elf: QEMU prints the same lines`, { skip: haveQemu ? false : 'qemu-system-x86_64 not installed (Debian: qemu-system-x86)' }, () => {
    const q = spawnSync('qemu-system-x86_64', ['-kernel', join(FIXTURES, `${name}.elf`), '-display', 'none', '-serial', 'stdio', '-no-reboot',
      '-device', 'isa-debug-exit,iobase=0xf4', '-accel', 'tcg', '-m', '128'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(q.stdout, expected(name));
    assert.equal(q.status, 33, 'isa-debug-exit status (0x10 << 1) | 1');
  });
}
