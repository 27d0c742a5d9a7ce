// Port I/O the machine serves in-process (src/machine/inProcessPorts.ts) under the debugger:
// with the X64IoPortAccess exit filter on (a condition on the UART's data port) every write
// to it still stops, at the OUT, with the byte the guest writes; with the filter off the rest
// runs in-process and the output is the guest's exact text.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ADAPTER = resolve('dist/debugAdapter.js');
const TINY = resolve('test/fixtures/guests/perf-serial-tiny.bin');
const STOPS = 70;

/** The text test/guests/perf-serial.asm writes for `lines` lines. */
function perfSerialText(lines: number): string {
  let s = '';
  for (let k = 0; k < lines; k++) {
    s += k.toString(16).padStart(8, '0') + ' ';
    for (let j = 0; j < 54; j++) s += String.fromCharCode(65 + ((k + j) % 26));
    s += '\n';
  }
  return s;
}

let dc: DebugClient | undefined;
afterEach(async () => { await dc?.stop().catch(() => undefined); dc = undefined; });

test('an I/O exit filter on the UART data port stops at every write; without it the guest runs to its end', async () => {
  const client = new DebugClient('node', ADAPTER, 'vpdbg');
  dc = client;
  client.defaultTimeout = 20_000;
  await client.start();
  let output = '';
  client.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.category === 'stdout') output += e.body.output; });
  await client.initializeRequest({ adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = client.waitForEvent('initialized');
  await client.launchRequest({ program: TINY } as DebugProtocol.LaunchRequestArguments);
  await initialized;
  await client.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'X64IoPortAccess', condition: 'PortNumber == 0x3f8' }] });
  const text = perfSerialText(64);
  let stop = client.waitForEvent('stopped');
  await client.configurationDoneRequest();
  const rips = new Set<string>();
  for (let i = 0; i < STOPS; i++) {
    const s = (await stop) as DebugProtocol.StoppedEvent;
    const byte = text.charCodeAt(i);
    assert.equal(s.body.description, `X64IoPortAccess: OUT 0x3F8 ← 0x${byte.toString(16).toUpperCase()} (1 byte)`, `write ${i}`);
    rips.add((await client.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].instructionPointerReference!);
    stop = client.waitForEvent('stopped');
    await client.continueRequest({ threadId: 1 });
  }
  // Every stop was putc's one OUT.
  assert.equal(rips.size, 1);
  await stop;
  await client.setExceptionBreakpointsRequest({ filters: [] });
  const exited = client.waitForEvent('exited');
  const terminated = client.waitForEvent('terminated');
  await client.continueRequest({ threadId: 1 });
  assert.equal(((await exited) as DebugProtocol.ExitedEvent).body.exitCode, 1);
  await terminated;
  assert.equal(output, text);
});
