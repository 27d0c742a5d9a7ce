// A debug session through the real DAP client on a guest with exit filters set before
// configurationDone, collecting the guest's COM1 output (the adapter's stdout events).
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ADAPTER = resolve('dist/debugAdapter.js');

export interface FilteredSession {
  client: DebugClient;
  /** COM1 output so far. */
  output: () => string;
  /** The adapter's answer for each filter option (verified or not, with the reason). */
  filters: DebugProtocol.Breakpoint[];
  /** The first stopped or exited event after configurationDone. */
  first: Promise<DebugProtocol.Event>;
}

/**
 * The next stopped or exited event. Without waitForEvent's timer: a waiter for the event that
 * does not come would keep the test process alive until it fires.
 */
export function nextStopOrExit(client: DebugClient): Promise<DebugProtocol.Event> {
  return new Promise((resolve) => {
    const on = (e: DebugProtocol.Event): void => { client.off('stopped', on); client.off('exited', on); resolve(e); };
    client.on('stopped', on);
    client.on('exited', on);
  });
}

/** Starts the adapter, launches `program` and sets `filterOptions`; `started` gets the client at once (for cleanup). */
export async function launchWithExitFilters(program: string, filterOptions: DebugProtocol.ExceptionFilterOptions[], started: (c: DebugClient) => void): Promise<FilteredSession> {
  const client = new DebugClient('node', ADAPTER, 'vpdbg');
  started(client);
  client.defaultTimeout = 20_000;
  await client.start();
  let output = '';
  client.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.category === 'stdout') output += e.body.output; });
  await client.initializeRequest({ adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = client.waitForEvent('initialized');
  await client.launchRequest({ program: resolve(program) } as DebugProtocol.LaunchRequestArguments);
  await initialized;
  const r = await client.setExceptionBreakpointsRequest({ filters: [], filterOptions });
  const first = nextStopOrExit(client);
  await client.configurationDoneRequest();
  return { client, output: () => output, filters: r.body?.breakpoints ?? [], first };
}
