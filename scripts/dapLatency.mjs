// Measures the debug adapter's latencies through a real DAP client (figures for issue 8,
// printed, not asserted): launch to stopped-on-entry, stepIn round trip (instruction and
// line), scopes + variables of a stop, and pause of a guest spinning with interrupts off.
// Usage: node scripts/build.mjs && node scripts/dapLatency.mjs [rounds]
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { resolve } from 'node:path';

const ADAPTER = resolve('dist/debugAdapter.js');
const MAIN = resolve('test/fixtures/guests/dap-main.elf');
const SPIN = resolve('test/fixtures/guests/dap-spin.bin');
const rounds = Number(process.argv[2] ?? 20);

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (xs) => `median ${median(xs).toFixed(2)} ms, min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)} (n=${xs.length})`;

async function session(program, stopOnEntry) {
  const dc = new DebugClient('node', ADAPTER, 'vpdbg');
  await dc.start();
  const t0 = process.hrtime.bigint();
  await dc.initializeRequest({ adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = dc.waitForEvent('initialized');
  const stopped = stopOnEntry ? dc.waitForEvent('stopped') : undefined;
  await dc.launchRequest({ program, stopOnEntry });
  await initialized;
  await dc.configurationDoneRequest();
  if (stopped) await stopped;
  return { dc, launchMs: ms(t0) };
}

async function step(dc, request, args) {
  const t0 = process.hrtime.bigint();
  const stopped = dc.waitForEvent('stopped');
  await dc[request](args);
  await stopped;
  return ms(t0);
}

async function scopesAndVariables(dc) {
  const t0 = process.hrtime.bigint();
  const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
  const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
  const groups = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
  // What VS Code shows by default: the first groups expanded.
  for (const g of groups.slice(0, 2)) await dc.variablesRequest({ variablesReference: g.variablesReference });
  return ms(t0);
}

const launches = [], stepsInsn = [], stepsLine = [], views = [], pauses = [];
for (let r = 0; r < Math.max(3, Math.min(rounds, 10)); r++) {
  const { dc, launchMs } = await session(MAIN, true);
  launches.push(launchMs);
  for (let i = 0; i < Math.ceil(rounds / 3); i++) {
    stepsInsn.push(await step(dc, 'stepInRequest', { threadId: 1, granularity: 'instruction' }));
    views.push(await scopesAndVariables(dc));
  }
  await dc.stop();
}
{
  const { dc } = await session(MAIN, true);
  for (let i = 0; i < 8; i++) stepsLine.push(await step(dc, 'nextRequest', { threadId: 1 }));
  await dc.stop();
}
for (let r = 0; r < 5; r++) {
  const { dc } = await session(SPIN, false);
  await new Promise((res) => setTimeout(res, 100));
  pauses.push(await step(dc, 'pauseRequest', { threadId: 1 }));
  await dc.stop();
}

console.log('vpdbg debug adapter latency (node dist/debugAdapter.js over stdio, DebugClient)');
console.log(`launch → stopped on entry:      ${fmt(launches)}`);
console.log(`stepIn (instruction) round trip: ${fmt(stepsInsn)}`);
console.log(`next (line) round trip:          ${fmt(stepsLine)}`);
console.log(`stackTrace+scopes+variables:     ${fmt(views)}`);
console.log(`pause of a cli/jmp spin loop:    ${fmt(pauses)}`);
