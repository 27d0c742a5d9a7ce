// Adapter lifecycle: disconnect or terminate at any moment (mid-run, mid-step, while an
// evaluate is outstanding) ends the process on its own; a client that disappears ends it;
// in --server mode a dropped socket frees its session, the server keeps accepting, and it
// listens on 127.0.0.1 only. Each adapter is spawned here so its exit can be observed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { serverPort } from '../support/adapterServer';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ADAPTER = resolve('dist/debugAdapter.js');
const SPIN = resolve('test/fixtures/guests/dap-spin.bin');
const MAIN = resolve('test/fixtures/guests/dap-main.elf');
/** Only keeps a broken adapter from hanging the suite; not a timing assertion. */
const EXIT_BOUND_MS = 10_000;

/** A DebugClient over streams this test owns (a spawned adapter's pipes or a socket). */
class StreamClient extends DebugClient {
  constructor(readable: NodeJS.ReadableStream, writable: NodeJS.WritableStream) {
    super('node', ADAPTER, 'vpdbg');
    this.defaultTimeout = 10_000;
    this.connect(readable as never, writable as never);
  }
}

function spawnAdapter(args: string[] = []): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [ADAPTER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, exited };
}

/** Resolves with the exit code, or fails (and kills the adapter) when it is still alive after the bound. */
async function exitsOnItsOwn(child: ChildProcess, exited: Promise<number | null>, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'alive'>((res) => { timer = setTimeout(() => res('alive'), EXIT_BOUND_MS); });
  const r = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (r === 'alive') { child.kill('SIGKILL'); assert.fail(`${what}: the adapter process is still alive after ${EXIT_BOUND_MS} ms`); }
  return r;
}

async function session(dc: DebugClient, args: Record<string, unknown>): Promise<void> {
  await dc.initializeRequest({ adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = dc.waitForEvent('initialized');
  await dc.launchRequest(args as DebugProtocol.LaunchRequestArguments);
  await initialized;
  await dc.configurationDoneRequest();
}

/** Launches a spinning guest and lets it run a little. */
async function running(dc: DebugClient): Promise<void> {
  await session(dc, { program: SPIN });
  await new Promise((r) => setTimeout(r, 100));
}

async function stoppedOnEntry(dc: DebugClient): Promise<void> {
  const stop = dc.waitForEvent('stopped');
  await session(dc, { program: MAIN, stopOnEntry: true });
  await stop;
}

const cases: Array<[string, (dc: DebugClient) => Promise<void>]> = [
  ['disconnect while the guest runs', async (dc) => {
    await running(dc);
    await dc.disconnectRequest({});
  }],
  ['disconnect in the middle of a step', async (dc) => {
    await stoppedOnEntry(dc);
    void dc.stepInRequest({ threadId: 1 }).catch(() => undefined);
    await dc.disconnectRequest({});
  }],
  ['disconnect while an evaluate is outstanding', async (dc) => {
    await stoppedOnEntry(dc);
    void dc.evaluateRequest({ expression: 'qword [rsp] + rax * 3', context: 'watch', frameId: 0 }).catch(() => undefined);
    await dc.disconnectRequest({});
  }],
  ['terminate while the guest runs, then disconnect', async (dc) => {
    await running(dc);
    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest({});
    await terminated;
    await dc.disconnectRequest({});
  }],
];

for (const [what, act] of cases) {
  test(`${what}: the adapter process exits on its own`, async () => {
    const { child, exited } = spawnAdapter();
    const dc = new StreamClient(child.stdout!, child.stdin!);
    await act(dc);
    assert.equal(await exitsOnItsOwn(child, exited, what), 0);
  });
}

test('a client that disappears while the guest runs (stdin closes) ends the process', async () => {
  const { child, exited } = spawnAdapter();
  const dc = new StreamClient(child.stdout!, child.stdin!);
  await running(dc);
  child.stdin!.end();
  assert.equal(await exitsOnItsOwn(child, exited, 'stdin closed mid-run'), 0);
});

test('pause of a guest spinning with interrupts off (cli; jmp $): a stopped event', async (t) => {
  const { child, exited } = spawnAdapter();
  const dc = new StreamClient(child.stdout!, child.stdin!);
  await running(dc);
  const stop = dc.waitForEvent('stopped');
  const t0 = performance.now();
  await dc.pauseRequest({ threadId: 1 });
  const s = (await stop) as DebugProtocol.StoppedEvent;
  const ms = performance.now() - t0;
  t.diagnostic(`pause latency ${ms.toFixed(1)} ms`);
  console.log(`pause latency (cli; jmp $ guest): ${ms.toFixed(1)} ms`);
  assert.equal(s.body.reason, 'pause');
  await dc.disconnectRequest({});
  assert.equal(await exitsOnItsOwn(child, exited, 'disconnect after pause'), 0);
});

/** Local addresses of the TCP sockets listening on `port` (from /proc/net/tcp and tcp6). */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '0A') continue; // 0A = LISTEN
      const [addr, p] = f[1].split(':');
      if (parseInt(p, 16) === port) found.push(`${file.endsWith('6') ? 'tcp6' : 'tcp'} ${addr}`);
    }
  }
  return found;
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function ticksOver(pid: number, ms: number): Promise<number> {
  const before = cpuTicks(pid);
  await new Promise((r) => setTimeout(r, ms));
  return cpuTicks(pid) - before;
}

test('--server: disconnect/terminate at each moment and a socket dropped mid-run free their sessions; the next session is served; 127.0.0.1 only', async (t) => {
  const { child } = spawnAdapter(['--server=0']);
  try {
    const port = await serverPort(child);
    if (process.platform === 'linux') {
      // 0100007F is 127.0.0.1 in /proc's byte order: no wildcard or IPv6 listener on the port.
      assert.deepEqual(listeners(port), ['tcp 0100007F']);
    } else t.diagnostic('listening-socket address check needs /proc/net/tcp (Linux)');

    const connect = async (): Promise<net.Socket> => {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      return socket;
    };
    // The same moments as above, one session each on the same server.
    for (const [, act] of cases) {
      const socket = await connect();
      await act(new StreamClient(socket, socket));
      socket.destroy();
    }
    const dropped = await connect();
    await running(new StreamClient(dropped, dropped));
    const linux = process.platform === 'linux';
    // Control: a running session shows as CPU use, so the idle check below can see a leak.
    const spinTicks = linux ? await ticksOver(child.pid!, 500) : 0;
    dropped.destroy();

    const next = await connect();
    const dc = new StreamClient(next, next);
    await stoppedOnEntry(dc);
    await dc.disconnectRequest({});
    next.destroy();

    // A leaked session would keep its guest spinning: the idle server must use almost no CPU.
    if (linux) {
      const idleTicks = await ticksOver(child.pid!, 1000);
      t.diagnostic(`server CPU: ${spinTicks} clock ticks in 0.5 s with a guest running, ${idleTicks} in 1 s after every session ended`);
      assert.ok(spinTicks > 0, 'a running guest uses CPU (control)');
      assert.ok(idleTicks < 20, `the idle server used ${idleTicks} clock ticks of CPU in 1 s: a session's guest is still running`);
    }
    assert.equal(child.exitCode, null, 'the server is still up');
  } finally {
    child.kill();
  }
});
