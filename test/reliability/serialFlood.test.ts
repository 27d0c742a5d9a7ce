// Serial flood: a guest writes 256 KiB to COM1 as fast as the UART takes it, then exits via
// port 0xF4. Every byte reaches the client, in order, in batched `output` events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ADAPTER = resolve('dist/debugAdapter.js');
const FLOOD = resolve('test/fixtures/guests/rel-flood.bin');
const LINES = 16384;

/** The text test/guests/rel-flood.asm writes. */
function expected(): string {
  const out: string[] = [];
  for (let k = 0; k < LINES; k++) {
    let letters = '';
    for (let j = 0; j < 10; j++) letters += String.fromCharCode(0x41 + ((k + j) & 15));
    out.push(`${k.toString(16).padStart(4, '0')}:${letters}\n`);
  }
  return out.join('');
}

test('a guest flooding COM1: every byte arrives in order, in batched output events', async () => {
  const dc = new DebugClient('node', ADAPTER, 'vpdbg');
  dc.defaultTimeout = 60_000;
  await dc.start();
  try {
    const chunks: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.category === 'stdout') chunks.push(e.body.output); });
    await dc.initializeRequest({ adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    const exited = dc.waitForEvent('exited');
    const t0 = performance.now();
    await dc.launchRequest({ program: FLOOD } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.configurationDoneRequest();
    const code = ((await exited) as DebugProtocol.ExitedEvent).body.exitCode;
    const ms = performance.now() - t0;
    const got = chunks.join('');
    const want = expected();
    console.log(`serial flood: ${got.length} bytes in ${chunks.length} output events (largest ${Math.max(...chunks.map((c) => c.length))}), ${ms.toFixed(0)} ms, ${(got.length / 1024 / (ms / 1000)).toFixed(0)} KiB/s`);
    assert.equal(code, 1, 'the guest wrote 0 to port 0xF4: status (0 << 1) | 1');
    assert.equal(got.length, want.length, 'byte count');
    if (got !== want) {
      let i = 0;
      while (got[i] === want[i]) i++;
      assert.fail(`first difference at byte ${i}: got ${JSON.stringify(got.slice(i, i + 32))}, want ${JSON.stringify(want.slice(i, i + 32))}`);
    }
    // One event per byte would be 262144; batching makes it a few hundred at most.
    assert.ok(chunks.length <= want.length / 256, `${chunks.length} output events for ${want.length} bytes`);
  } finally {
    await dc.stop();
  }
});
