// Fixed-seed fuzzing of the adapter through its DAP transport: random and mutated requests
// (and raw garbage on the wire) must each get an answer or be ignored, and the adapter must
// keep serving valid requests afterwards. `VPDBG_FUZZ_CASES=N` runs a longer campaign.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { validateLaunchConfig, LaunchConfigError } from '../../src/debugAdapter/launchConfig';

const ADAPTER = resolve('dist/debugAdapter.js');
const MAIN = resolve('test/fixtures/guests/dap-main.elf');
const CASES = Number(process.env.VPDBG_FUZZ_CASES ?? 400);

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % n; };
}

const COMMANDS = ['stackTrace', 'scopes', 'variables', 'setVariable', 'setExpression', 'evaluate', 'completions', 'exceptionInfo',
  'readMemory', 'writeMemory', 'disassemble', 'setBreakpoints', 'setFunctionBreakpoints', 'setInstructionBreakpoints',
  'dataBreakpointInfo', 'setDataBreakpoints', 'setExceptionBreakpoints', 'threads', 'modules', 'loadedSources', 'next', 'stepIn',
  'stepOut', 'continue', 'pause', 'source', 'goto', 'restartFrame', 'vpdbg.exitHistory', 'vpdbg.setExitBreakpoints', 'vpdbg.setNumberFormat',
  'noSuchCommand', 'launch', 'configurationDone', 'initialize', '', 'restart', 'terminate'];

function randomValue(r: (n: number) => number, depth = 0): unknown {
  const strings = ['', 'rax', '0x100000', 'phys:0x7c00', '[rsp]', 'qword [rbp-8]', '$exit.PortNumber', '.pt 0x1000', '.gdt', '((((', '\u0000',
    'x'.repeat(5000), 'rflags.ZF = 1', 'v:100000:8', 'X64IoPortAccess', 'PortNumber == 1', '-1', '1e309', '__proto__', 'constructor'];
  switch (r(9)) {
    case 0: return r(2) === 0;
    case 1: return r(1 << 20) - 1000;
    case 2: return [0, 1, -1, 2 ** 53, 1.5, NaN, 1e308][r(7)];
    case 3: return strings[r(strings.length)];
    case 4: return null;
    case 5: return depth > 2 ? 1 : Array.from({ length: r(4) }, () => randomValue(r, depth + 1));
    case 6: return depth > 2 ? {} : randomArgs(r, depth + 1);
    case 7: return undefined;
    default: return r(100);
  }
}

const FIELDS = ['threadId', 'frameId', 'variablesReference', 'name', 'value', 'expression', 'context', 'memoryReference', 'offset', 'count',
  'data', 'instructionCount', 'instructionOffset', 'resolveSymbols', 'breakpoints', 'source', 'lines', 'filters', 'filterOptions', 'granularity',
  'text', 'column', 'line', 'dataId', 'asAddress', 'bytes', 'format', 'hex', 'levels', 'startFrame', 'program', 'allowPartial'];

function randomArgs(r: (n: number) => number, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = r(5);
  for (let i = 0; i < n; i++) o[FIELDS[r(FIELDS.length)]] = randomValue(r, depth);
  return o;
}

test('random and mutated DAP requests get answers; the adapter keeps serving', { timeout: 120_000 }, async () => {
  const dc = new DebugClient('node', ADAPTER, 'vpdbg');
  dc.defaultTimeout = 10_000;
  await dc.start();
  try {
    await dc.initializeRequest({ adapterID: 'vpdbg', pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: MAIN, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.configurationDoneRequest();
    const r = rng(0x5eed);
    const wire = (dc as unknown as { outputStream: NodeJS.WritableStream }).outputStream;
    let answered = 0, failed = 0;
    const internal: string[] = [];
    for (let i = 0; i < CASES; i++) {
      if (r(50) === 0) {
        // Garbage on the wire: a bad header, bad JSON, a non-request message.
        const junk = ['Content-Length: 5\r\n\r\n{{{{{', 'Content-Length: 2\r\n\r\n[]', 'Content-Length: 26\r\n\r\n{"type":"event","seq":1}  '][r(3)];
        wire.write(junk);
        continue;
      }
      const command = COMMANDS[r(COMMANDS.length)];
      try {
        await dc.customRequest(command, randomArgs(r));
        answered++;
      } catch (e) {
        const m = (e as Error).message;
        assert.ok(!/timeout|no response/i.test(m), `${command}: ${m}`);
        // An 'internal error' is a handler that threw on input it should have rejected.
        if (/internal error/.test(m)) internal.push(`${command}: ${m}`);
        failed++;
      }
    }
    assert.deepEqual([...new Set(internal)], []);
    // Still serving.
    const threads = await dc.threadsRequest();
    assert.ok(Array.isArray(threads.body.threads));
    const ev = await dc.evaluateRequest({ expression: '1 + 1', context: 'repl' });
    assert.ok(ev.body.result === '0x2' || ev.body.result === '2');
    console.log(`dap fuzz: ${CASES} cases, ${answered} succeeded, ${failed} error responses, adapter alive`);
  } finally {
    await dc.stop();
  }
});

test('random launch configurations are accepted or rejected with a LaunchConfigError', () => {
  const r = rng(42);
  const keys = ['program', 'format', 'loadAddress', 'entry', 'mode', 'memory', 'processors', 'stopOnEntry', 'cmdline', 'serial', 'cpuid',
    'msrExits', 'exceptionExits', 'symbols', 'cwd', 'traceExits'];
  let ok = 0, rejected = 0;
  for (let i = 0; i < 2000; i++) {
    const cfg: Record<string, unknown> = { program: MAIN };
    for (let k = r(5); k > 0; k--) cfg[keys[r(keys.length)]] = randomValue(r);
    try { validateLaunchConfig(cfg); ok++; } catch (e) {
      assert.ok(e instanceof LaunchConfigError, `${JSON.stringify(cfg)} threw ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(ok > 0 && rejected > 0);
});
