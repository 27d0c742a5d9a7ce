import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LaunchConfigError, validateLaunchConfig } from '../../src/debugAdapter/launchConfig';

const dir = mkdtempSync(join(tmpdir(), 'vpdbg-lc-'));
writeFileSync(join(dir, 'guest.bin'), new Uint8Array([0xf4]));

const ok = (extra: Record<string, unknown>) => validateLaunchConfig({ program: 'guest.bin', cwd: dir, ...extra });
function bad(extra: Record<string, unknown>, field: string, what: RegExp): void {
  assert.throws(() => ok(extra), (e: unknown) => {
    assert.ok(e instanceof LaunchConfigError, String(e));
    assert.equal(e.field, field);
    assert.match(e.message, what);
    return true;
  });
}

test('a minimal configuration gets defaults', () => {
  const { config, warnings } = ok({ type: 'vpdbg', request: 'launch', name: 'x', __sessionId: 'abc' });
  assert.equal(config.program, join(dir, 'guest.bin'));
  assert.equal(config.format, 'auto');
  assert.equal(config.processors, 1);
  assert.equal(config.memoryBytes, 64 << 20);
  assert.equal(config.stopOnEntry, false);
  assert.equal(config.serial, 'console');
  assert.deepEqual(warnings, []);
});

test('every field is parsed', () => {
  const { config } = ok({
    format: 'flat', loadAddress: '0x7c00', entry: '7C00h', mode: 'real', memory: '16M', processors: 2, stopOnEntry: true,
    cmdline: 'quiet', serial: 'terminal', cpuid: [{ leaf: '0x40000000', eax: 5 }], msrExits: ['0xC0000080', 0x1b],
    exceptionExits: ['#PF', 'gp', 6], symbols: 'guest.bin', traceExits: true,
  });
  assert.equal(config.loadAddress, 0x7c00n);
  assert.equal(config.entry, 0x7c00n);
  assert.equal(config.mode, 'real');
  assert.equal(config.memoryBytes, 16 << 20);
  assert.equal(config.processors, 2);
  assert.deepEqual(config.cpuid, [{ leaf: 0x40000000, eax: 5 }]);
  assert.deepEqual(config.msrExits, [0xc0000080, 0x1b]);
  assert.deepEqual(config.exceptionExits, [14, 13, 6]);
  assert.equal(ok({ entry: 'kmain' }).config.entry, 'kmain');
});

test('bad values name the field and what is allowed', () => {
  assert.throws(() => validateLaunchConfig({ cwd: dir }), /'program' is required/);
  bad({ program: 'missing.bin' }, 'program', /does not exist/);
  bad({ program: 42 }, 'program', /non-empty string/);
  bad({ format: 'pe' }, 'format', /"auto", "elf", "multiboot", "flat"/);
  bad({ loadAddress: 'here' }, 'loadAddress', /non-negative integer/);
  bad({ loadAddress: -1 }, 'loadAddress', /non-negative integer|between/);
  bad({ mode: 'smm' }, 'mode', /"real", "protected", "long"/);
  bad({ memory: '12X' }, 'memory', /size in bytes/);
  bad({ memory: 1024 }, 'memory', /between 1M and 1023G/);
  bad({ processors: 0 }, 'processors', /1 to 64/);
  bad({ processors: 1.5 }, 'processors', /1 to 64/);
  bad({ stopOnEntry: 'yes' }, 'stopOnEntry', /true or false/);
  bad({ cmdline: 3 }, 'cmdline', /string/);
  bad({ serial: 'com2' }, 'serial', /"console", "terminal", "none"/);
  bad({ cpuid: {} }, 'cpuid', /array/);
  bad({ cpuid: [{ eax: 1 }] }, 'cpuid[0].leaf', /required/);
  bad({ cpuid: [{ leaf: 1, esi: 1 }] }, 'cpuid[0].esi', /allowed: leaf/);
  bad({ msrExits: ['x'] }, 'msrExits[0]', /integer/);
  bad({ exceptionExits: ['#XX'] }, 'exceptionExits[0]', /"#PF"/);
  bad({ exceptionExits: [40] }, 'exceptionExits[0]', /vectors 0-31/);
  bad({ symbols: 'nope.elf' }, 'symbols', /does not exist/);
  bad({ cwd: join(dir, 'nodir') }, 'cwd', /existing directory/);
  assert.throws(() => validateLaunchConfig(null), /must be an object/);
  assert.throws(() => validateLaunchConfig([1]), /must be an object/);
});

test('unknown fields are reported as warnings', () => {
  assert.deepEqual(ok({ progam: 'x' }).warnings, ["launch configuration: unknown field 'progam' ignored"]);
});
