// The committed guest images are the assembled sources: rebuilt with nasm, they must match
// byte for byte (so a test never runs an image its .asm no longer describes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const nasm = spawnSync('nasm', ['-v']).status === 0;

test('device guests: committed images match their sources', { skip: nasm ? false : 'nasm not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-guests-'));
  try {
    for (const g of ['uart', 'timers', 'reset', 'smp']) {
      const out = join(dir, `${g}.bin`);
      const r = spawnSync('nasm', ['-f', 'bin', '-i', 'test/guests/', `test/guests/devices-${g}.asm`, '-o', out]);
      assert.equal(r.status, 0, r.stderr?.toString());
      assert.ok(readFileSync(out).equals(readFileSync(`test/fixtures/guests/devices-${g}.bin`)), `devices-${g}.bin is stale: rebuild it`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('examples/demo.elf matches examples/demo.asm (examples/build.sh)', { skip: nasm && spawnSync('ld', ['-v']).status === 0 ? false : 'nasm or ld not installed' }, () => {
  const before = readFileSync('examples/demo.elf');
  const copy = join(mkdtempSync(join(tmpdir(), 'vpdbg-demo-')), 'examples');
  try {
    // build.sh writes beside itself, so it runs on a copy: the checked-in image stays as committed.
    mkdirSync(copy);
    for (const f of ['build.sh', 'demo.asm']) copyFileSync(join('examples', f), join(copy, f));
    const r = spawnSync('sh', [join(copy, 'build.sh')]);
    assert.equal(r.status, 0, r.stderr?.toString());
    assert.ok(readFileSync(join(copy, 'demo.elf')).equals(before), 'examples/demo.elf is stale: run examples/build.sh');
  } finally {
    rmSync(dirname(copy), { recursive: true, force: true });
  }
});
