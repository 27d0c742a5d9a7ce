// Debugger latency for `npm run bench`: a real DAP client (DebugClient from
// @vscode/debugadapter-testsupport) drives `node dist/debugAdapter.js` over stdio.
//   launch:   adapter process spawn + initialize + launch(stopOnEntry) + configurationDone -> stopped
//   stepIn:   stepIn(granularity instruction) request -> stopped event
//   view:     scopes + variables of every scope and of every register group (after stackTrace)
//   pause:    pause request -> stopped, on a guest spinning with interrupts off
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { resolve } from 'node:path';

const now = () => process.hrtime.bigint();
const ms = (t0) => Number(now() - t0) / 1e6;

async function session(adapter, program, stopOnEntry) {
  // DebugClient.start() only spawns; the adapter's startup lands in the first request.
  const t0 = now();
  const dc = new DebugClient('node', adapter, 'vpdbg');
  dc.defaultTimeout = 20000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = dc.waitForEvent('initialized');
  const stopped = stopOnEntry ? dc.waitForEvent('stopped') : undefined;
  await dc.launchRequest({ program, stopOnEntry, serial: 'none' });
  await initialized;
  await dc.configurationDoneRequest();
  if (stopped) await stopped;
  return { dc, launchMs: ms(t0) };
}

async function roundTrip(dc, request, args) {
  const stopped = dc.waitForEvent('stopped');
  const t0 = now();
  await dc[request](args);
  await stopped;
  return ms(t0);
}

/** What the Variables view needs after a stop, with every register group expanded (timed from scopes on). */
async function view(dc) {
  const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
  const t0 = now();
  const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
  let groups = 0;
  for (const s of scopes) {
    const vars = (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
    if (s.name !== 'Registers') continue;
    for (const g of vars) {
      if (g.variablesReference > 0) { await dc.variablesRequest({ variablesReference: g.variablesReference }); groups++; }
    }
  }
  return { ms: ms(t0), groups };
}

/** samples: stepIn/view samples per session; sessions: launches measured. */
export async function measureDap({ root, sessions, samples, pauses }) {
  const adapter = resolve(root, 'dist/debugAdapter.js');
  const main = resolve(root, 'test/fixtures/guests/dap-main.elf');
  const spin = resolve(root, 'test/fixtures/guests/dap-spin.bin');
  const r = { launch: [], stepIn: [], view: [], pause: [], groups: 0 };
  for (let s = 0; s < sessions; s++) {
    const { dc, launchMs } = await session(adapter, main, true);
    r.launch.push(launchMs);
    // Warm-up stop (first GetVpRegisters, first disassembly) is part of launch, not of the samples.
    await view(dc);
    for (let i = 0; i < samples; i++) {
      r.stepIn.push(await roundTrip(dc, 'stepInRequest', { threadId: 1, granularity: 'instruction' }));
      const v = await view(dc);
      r.view.push(v.ms); r.groups = v.groups;
    }
    await dc.stop();
  }
  for (let p = 0; p < pauses; p++) {
    const { dc } = await session(adapter, spin, false);
    await new Promise((res) => setTimeout(res, 100));
    r.pause.push(await roundTrip(dc, 'pauseRequest', { threadId: 1 }));
    await dc.stop();
  }
  return r;
}
