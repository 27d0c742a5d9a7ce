// The X64InterruptWindow exit filter through a real DAP client: on devices-intwindow (a PIT
// interrupt pending while the guest runs with IF=0, then `sti; nop; cli`), the filter is
// verified, each window stops with the decoded exit after STI and its shadow, and continuing
// delivers the interrupt: the guest counts its ticks and ends as it does without the filter.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { launchWithExitFilters, nextStopOrExit, type FilteredSession } from '../support/filteredSession';

const IMAGE = resolve('test/fixtures/guests/devices-intwindow.bin');
/** window_open: past `sti; nop` (flat image loaded at 1 MiB). */
const WINDOW_OPEN = 0x100000 + readFileSync(IMAGE).indexOf(Buffer.from([0xfb, 0x90, 0xfa])) + 2;
const RIP = `0x${WINDOW_OPEN.toString(16).toUpperCase()}`;

let dc: DebugClient | undefined;
afterEach(async () => { await dc?.stop().catch(() => undefined); dc = undefined; });

function launch(filterOptions: DebugProtocol.ExceptionFilterOptions[]): Promise<FilteredSession> {
  return launchWithExitFilters(IMAGE, filterOptions, (c) => { dc = c; });
}

async function exitField(client: DebugClient, name: string): Promise<string> {
  return (await client.evaluateRequest({ expression: `$exit.${name}`, context: 'watch', frameId: 0 })).body.result;
}

test('the X64InterruptWindow filter stops at each window over a pending interrupt, with the decoded exit; continuing delivers it', { timeout: 30_000 }, async () => {
  const { client, output, filters, first } = await launch([{ filterId: 'X64InterruptWindow' }]);
  assert.deepEqual(filters.map((b) => b.verified), [true]);
  let stop = first;
  for (let i = 0; i < 4; i++) {
    const s = (await stop) as DebugProtocol.StoppedEvent;
    assert.equal(s.event, 'stopped', `window ${i}`);
    assert.equal(s.body.reason, 'exception');
    assert.equal(s.body.description, `X64InterruptWindow: interrupts deliverable at RIP ${RIP}`);
    const info = await client.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'X64InterruptWindow');
    const frame = (await client.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(Number(frame.instructionPointerReference), WINDOW_OPEN);
    // The Exit Context scope holds the union member.
    const scopes = (await client.scopesRequest({ frameId: frame.id })).body.scopes;
    const exitScope = scopes.find((sc) => sc.name === 'Exit Context');
    assert.ok(exitScope);
    const fields = (await client.variablesRequest({ variablesReference: exitScope.variablesReference })).body.variables;
    assert.ok(fields.some((f) => f.name === 'InterruptWindow'));
    assert.equal(await exitField(client, 'DeliverableType'), '0x0');
    assert.equal(BigInt(await exitField(client, 'Rflags')) & 0x200n, 0x200n, 'IF is set at the window');
    stop = nextStopOrExit(client);
    await client.continueRequest({ threadId: 1 });
  }
  // Round 4 masked its interrupt, so no fifth stop: the guest ends, having taken every tick.
  const end = (await stop) as DebugProtocol.ExitedEvent;
  assert.equal(end.event, 'exited');
  assert.equal(end.body.exitCode, 33);
  assert.equal(output(), 'intwindow: 4 ticks\n');
});

test('a condition on the interrupt-window exit: one that never holds lets the guest run to its end', { timeout: 30_000 }, async () => {
  const { filters, first, output } = await launch([{ filterId: 'X64InterruptWindow', condition: `Rip != ${WINDOW_OPEN}` }]);
  assert.deepEqual(filters.map((b) => b.verified), [true]);
  const end = (await first) as DebugProtocol.ExitedEvent;
  assert.equal(end.event, 'exited');
  assert.equal(end.body.exitCode, 33);
  assert.equal(output(), 'intwindow: 4 ticks\n');
});
