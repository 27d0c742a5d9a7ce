import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_FILTERS } from '../../src/debugAdapter/exitFilters';
import { validateLaunchConfig } from '../../src/debugAdapter/launchConfig';
import { exitReasons } from '../../src/extension/exitReasons';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const launch = pkg.contributes.debuggers[0].configurationAttributes.launch;

test('the launch schema documents every field with description, type and default', () => {
  const fields = ['program', 'format', 'loadAddress', 'entry', 'mode', 'memory', 'processors', 'stopOnEntry', 'cmdline', 'serial', 'cpuid', 'msrExits', 'exceptionExits', 'symbols', 'cwd', 'traceExits'];
  assert.deepEqual(Object.keys(launch.properties).sort(), fields.sort());
  assert.deepEqual(launch.required, ['program']);
  for (const [name, p] of Object.entries<any>(launch.properties)) {
    assert.ok(p.description?.length > 20, `${name}: description`);
    assert.ok(p.type, `${name}: type`);
    assert.ok('default' in p, `${name}: default`);
    if (p.enum) {
      assert.ok(p.enum.includes(p.default), `${name}: default is one of the enum`);
      assert.equal(p.enumDescriptions?.length, p.enum.length, `${name}: every enum value described`);
    }
  }
  assert.deepEqual(launch.properties.format.enum, ['auto', 'flat', 'elf', 'multiboot']);
  assert.deepEqual(launch.properties.mode.enum, ['real', 'protected', 'long']);
  assert.deepEqual(Object.keys(launch.properties.cpuid.items.properties), ['leaf', 'subleaf', 'eax', 'ebx', 'ecx', 'edx']);
});

test('initial configuration and snippets are valid launch configurations', () => {
  const dbg = pkg.contributes.debuggers[0];
  assert.equal(dbg.type, 'vpdbg');
  const configs = [...dbg.initialConfigurations, ...dbg.configurationSnippets.map((s: any) => s.body)];
  assert.ok(configs.length >= 5);
  for (const c of configs) {
    assert.equal(c.type, 'vpdbg');
    assert.equal(c.request, 'launch');
    assert.ok(c.program, 'program');
    for (const k of Object.keys(c)) if (!['type', 'request', 'name'].includes(k)) assert.ok(k in launch.properties, `${c.name}: ${k} is in the schema`);
    // The adapter accepts it as written (with a real file for the variable-based program).
    const { warnings } = validateLaunchConfig({ ...c, program: join('test', 'fixtures', 'asm', 'boot.bin') });
    assert.deepEqual(warnings, [], c.name);
    if (c.format === 'elf' || c.format === 'multiboot') assert.ok(!('mode' in c), `${c.name}: ELF/multiboot images bring their own mode`);
  }
});

test('schema defaults are values the adapter accepts', () => {
  const defaults = Object.fromEntries(Object.entries<any>(launch.properties).filter(([k]) => !['program', 'cwd', 'symbols'].includes(k)).map(([k, p]) => [k, p.default]));
  assert.deepEqual(validateLaunchConfig({ ...defaults, program: join('test', 'fixtures', 'asm', 'boot.bin') }).warnings, []);
});

test('activation is narrow: debug resolution, the language, own commands and view', () => {
  for (const e of pkg.activationEvents) assert.match(e, /^(onDebugResolve:vpdbg|onDebugDynamicConfigurations:vpdbg|onDebugInitialConfigurations|onLanguage:x64asm|onCommand:vpdbg\.|onView:vpdbg\.)/);
  assert.ok(!pkg.activationEvents.includes('*'));
  assert.equal(pkg.engines.vscode, '^1.100.0');
});

test('every contributed command is registered by the extension, and every registered one is contributed', () => {
  const source = readdirSync('src/extension').map((f) => readFileSync(join('src/extension', f), 'utf8')).join('\n');
  const registered = new Set([...source.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]));
  const contributed = new Set(pkg.contributes.commands.map((c: any) => c.command));
  assert.deepEqual([...contributed].sort(), [...registered].sort());
  const menus = [...Object.values<any[]>(pkg.contributes.menus).flat(), ...pkg.contributes.keybindings].map((m) => m.command);
  for (const m of menus) assert.ok(contributed.has(m), `menu command ${m}`);
});

test('language, grammar, breakpoints, views, walkthrough media and icon exist', () => {
  const c = pkg.contributes;
  assert.deepEqual(c.languages[0].extensions, ['.asm', '.nasm', '.inc']);
  assert.ok(existsSync(c.languages[0].configuration));
  assert.ok(existsSync(c.grammars[0].path));
  assert.deepEqual(c.breakpoints, [{ language: 'x64asm' }]);
  assert.equal(c.views.debug[0].id, 'vpdbg.exits');
  assert.equal(c.views.debug[0].name, 'VP Exits');
  assert.ok(c.menus['editor/title/run'].some((m: any) => m.command === 'vpdbg.debugFile'));
  assert.ok(c.menus['debug/variables/context'].length === 2);
  for (const step of c.walkthroughs[0].steps) assert.ok(existsSync(step.media.markdown), step.media.markdown);
  assert.ok(existsSync(pkg.icon));
  JSON.parse(readFileSync('language-configuration.json', 'utf8'));
});

test('the picker offers exactly the adapter\'s exit filters', () => {
  assert.deepEqual(exitReasons.map((r) => r.id), EXIT_FILTERS.map((f) => f.id));
  assert.deepEqual(EXIT_FILTERS.map((f) => f.id).sort(), ['Canceled', 'Exception', 'Hypercall', 'InvalidVpRegisterValue', 'MemoryAccess', 'ModeChange', 'UnrecoverableException', 'UnsupportedFeature', 'X64ApicEoi', 'X64Cpuid', 'X64Halt', 'X64InterruptWindow', 'X64IoPortAccess', 'X64MsrAccess', 'X64Rdtsc']);
});
