// The shared benchmark kernels run to their expected COM1 output (../shared/bench/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { multibootCpu, runGuest } from './multibootHarness';

const TINY = '/work/shared/bench/bench-tiny.elf';

test('bench-tiny.elf prints its four checksums and exits through port 0xF4', { skip: !existsSync(TINY) && 'bench-tiny.elf not present' }, () => {
  const r = runGuest(multibootCpu(TINY), 5e6);
  assert.equal(r.serial, 'c00ce196f47148b8\n00000000000000a8\n0000000000000037\n2b002b002c012602\n', `reason ${r.reason}: ${r.cpu.exit.message}`);
  assert.equal(r.exitCode, 33);
});
