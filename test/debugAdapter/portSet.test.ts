// Which ports an I/O exit filter's condition can stop at (src/debugAdapter/portSet.ts): the
// forms it narrows, the ones it must leave at every port, and — over thousands of generated
// conditions — that it never leaves out a port where the filter, evaluated on a real I/O exit,
// would stop (a condition error stops too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterPorts } from '../../src/debugAdapter/portSet';
import { exitFieldNames, exitStops, type ExitContext } from '../../src/debugAdapter/exitFilters';
import { Machine } from '../../src/machine/machine';
import { decodeRunVpExitContext } from '../../src/partition/exitContext';
import { WhvRunVpExitReason as X, WHV_RUN_VP_EXIT_CONTEXT_SIZE } from '../../src/partition/hvdef';

const one = (p: number) => ({ base: p, count: 1 });

test('conditions that restrict PortNumber narrow the reported ports', () => {
  const cases: [string, ReturnType<typeof filterPorts>][] = [
    ['PortNumber == 0x80', [one(0x80)]],
    ['0x3f8 == portnumber', [one(0x3f8)]],
    ['IoPortAccess.PortNumber == 3F8h', [one(0x3f8)]],
    ['PortNumber == 0x60 || PortNumber == 0x64', [one(0x60), one(0x64)]],
    ['PortNumber >= 0x3f8 && PortNumber <= 0x3ff', [{ base: 0x3f8, count: 8 }]],
    ['PortNumber > 0x3f7 && PortNumber < 0x400', [{ base: 0x3f8, count: 8 }]],
    ['(PortNumber == 0x3f8 || PortNumber == 0x3f9) && AccessInfo.IsWrite', [{ base: 0x3f8, count: 2 }]],
    ['AccessInfo.IsWrite && PortNumber == 0x80 && (Rax & 0xff) == 0x42', [one(0x80)]],
    ['Rip == 0x1000 && (PortNumber == 0x20 || PortNumber >= 0xfff0)', [one(0x20), { base: 0xfff0, count: 16 }]],
    ['PortNumber == 0x80 && NoSuchField', [one(0x80)]],
    ['PortNumber == 0x70 + 1, x', [one(0x71)]],
    ['PortNumber == 0x10000', []],
    ['PortNumber < 0', []],
    ['0', []],
    ['0 && NoSuchField', []],
    ['PortNumber != 0x80 && PortNumber < 0x100', [{ base: 0, count: 0x80 }, { base: 0x81, count: 0x7f }]],
    // Other expressions of the port alone are evaluated at every port.
    ['(PortNumber & ~7) == 0x3f8 && AccessInfo.IsWrite', [{ base: 0x3f8, count: 8 }]],
    ['(PortNumber & 0xfff8) == 0x3f8 || (PortNumber | 1) == 0x61', [{ base: 0x60, count: 2 }, { base: 0x3f8, count: 8 }]],
    ['!(PortNumber != 0x80)', [one(0x80)]],
    ['PortNumber - 0x3f8 == 0', [one(0x3f8)]],
    ['PortNumber == PortNumber + 0 && PortNumber == 0x21', [one(0x21)]],
    ['PortNumber < 0x40 ? PortNumber == 0x20 : PortNumber == 0x80', [one(0x20), one(0x80)]],
    // A division that errors at one port stops there.
    ['1 / (PortNumber - 0x70) == 2', [one(0x70)]],
  ];
  for (const [condition, want] of cases) assert.deepEqual(filterPorts(condition), want, condition);
});

test('conditions it cannot prove report every port', () => {
  for (const condition of [
    undefined, '', '1', 'AccessInfo.IsWrite', 'PortNumber != 0x10000',
    // A name or memory read that errors before the port test stops at every access.
    'NoSuchField && PortNumber == 0x80', 'byte [0x1000] == 1 && PortNumber == 0x80', 'Rax / Rcx && PortNumber == 0x80',
    'PortNumber == 0x80 || AccessInfo.IsWrite', '!(PortNumber == 0x80 && AccessInfo.IsWrite)', 'PortNumber == Rdx',
    'PortNumber == 1 / 0', 'PortNumber == 0x80 ||',
  ]) assert.equal(filterPorts(condition), undefined, String(condition));
  // Expressions evaluated at every port are limited per condition (32 syntax-tree nodes), so a
  // long condition cannot stall the adapter: six masks of five nodes narrow, seven report every port.
  const masks = (n: number) => Array.from({ length: n }, (_, i) => `(PortNumber & 0xfff8) == ${0x100 * (i + 1)}`).join(' || ');
  assert.equal(filterPorts(masks(6))?.length, 6);
  assert.equal(filterPorts(masks(7)), undefined);
});

/** The first I/O exit of a real run: the context every generated condition is evaluated on. */
function liveIoExit(): ExitContext {
  const m = new Machine({ image: 'test/fixtures/guests/perf-serial-tiny.bin' });
  m.setReportedExits([X.X64IoPortAccess]);
  const s = m.run(1_000_000);
  assert.equal(s.kind === 'exit' && s.exit.ExitReason, X.X64IoPortAccess);
  return (s as { exit: ExitContext }).exit;
}

test('every field the analysis counts on resolves at a real I/O exit', () => {
  const bytes = new Uint8Array(WHV_RUN_VP_EXIT_CONTEXT_SIZE);
  new DataView(bytes.buffer).setUint32(0, X.X64IoPortAccess, true);
  const live = new Set(exitFieldNames(liveIoExit()));
  for (const name of exitFieldNames(decodeRunVpExitContext(bytes))) assert.ok(live.has(name), name);
});

/** A small deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
}

const PORTS = [0, 1, 0x20, 0x60, 0x64, 0x80, 0x3f7, 0x3f8, 0x3f9, 0x3ff, 0x400, 0xfffe, 0xffff];

test('never leaves out a port where the filter would stop (generated conditions on a real exit)', () => {
  const r = rng(0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const num = () => `0x${pick([...PORTS, 0x10000, 0x3f0, 2]).toString(16)}`;
  // Expressions of the port alone that are not comparisons are evaluated at every port
  // (milliseconds each), so they come less often than comparisons.
  const term = (depth: number): string => {
    const k = depth > 3 ? Math.floor(r() * 5) : Math.floor(r() * 10);
    if ((k === 3 || k >= 8) && r() < 0.5) return `PortNumber == ${num()}`;
    switch (k) {
      case 0: return `PortNumber ${pick(['==', '!=', '<', '<=', '>', '>='])} ${num()}`;
      case 1: return `${num()} ${pick(['==', '!=', '<', '>='])} IoPortAccess.PortNumber`;
      case 2: return pick(['AccessInfo.IsWrite', '(Rax & 0xff) == 0x30', 'Rip != 0', 'NoSuchField', 'Rax / Rcx', 'Rax % 3', 'byte [0x10]', '0', '1']);
      case 3: return r() < 0.7 ? `(PortNumber ${pick(['&', '+', '-', '^'])} ${num()}) == ${num()}` : `${num()} / (PortNumber - ${num()}) == 0`;
      case 4: return `PortNumber == ${num()} ${pick(['+', '-', '/'])} ${pick(['0', '1', '8'])}`;
      case 5: case 6: return `(${term(depth + 1)} && ${term(depth + 1)})`;
      case 7: return `(${term(depth + 1)} || ${term(depth + 1)})`;
      case 8: return `!${term(depth + 1)}`;
      default: return `(${term(depth + 1)} ? ${term(depth + 1)} : ${term(depth + 1)})`;
    }
  };
  const exit = liveIoExit();
  let narrowed = 0, outside = 0;
  for (let i = 0; i < 2000; i++) {
    const condition = term(0);
    const ranges = filterPorts(condition);
    if (ranges === undefined) continue;
    narrowed++;
    for (const port of PORTS) {
      if (ranges.some((g) => port >= g.base && port < g.base + g.count)) continue;
      outside++;
      const ctx = { ...exit, IoPortAccess: { ...exit.IoPortAccess, PortNumber: port } };
      const d = exitStops({ enabled: true, condition }, ctx);
      assert.equal(d.stop, false, `'${condition}' stops at port 0x${port.toString(16)} (${d.error ?? 'true'}) but reports only ${JSON.stringify(ranges)}`);
    }
  }
  // The generator reaches the narrowing forms often enough for the check to mean something.
  assert.ok(narrowed > 400 && outside > 2000, `${narrowed} narrowed, ${outside} ports left out`);
});
