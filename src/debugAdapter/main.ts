// Standalone debug adapter (dist/debugAdapter.js): DAP on stdin/stdout, or with
// --server=PORT on 127.0.0.1, one session per connection, sessions one after another.
import * as net from 'node:net';
import { VpdbgSession } from './session';
import { createMachineTarget } from './machineTarget';
import { steadyJitTiering } from '../emulator/jit/hostTiering';

function parsePort(argv: string[]): number | undefined {
  for (const a of argv) {
    const m = /^--server=(\d{1,5})$/.exec(a);
    if (m) {
      const port = Number(m[1]);
      if (port > 65535) throw new Error(`--server: port ${port} is out of range`);
      return port;
    }
    if (a.startsWith('--server')) throw new Error(`bad option '${a}' (use --server=PORT)`);
  }
  return undefined;
}

function main(): void {
  steadyJitTiering();
  let port: number | undefined;
  try {
    port = parsePort(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`vpdbg debug adapter: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (port === undefined) {
    const session = new VpdbgSession(createMachineTarget);
    process.on('SIGTERM', () => session.shutdown());
    // A client that goes away ends the process (the session's 'close' handler exits).
    session.start(process.stdin, process.stdout);
    return;
  }
  const server = net.createServer((socket) => {
    const session = new VpdbgSession(createMachineTarget);
    session.setRunAsServer(true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => session.shutdown());
    session.start(socket, socket);
  });
  server.on('error', (e) => {
    process.stderr.write(`vpdbg debug adapter: cannot listen on 127.0.0.1:${port}: ${e.message}\n`);
    process.exitCode = 1;
  });
  server.listen(port, '127.0.0.1', () => {
    const a = server.address();
    process.stderr.write(`vpdbg debug adapter listening on 127.0.0.1:${typeof a === 'object' && a ? a.port : port}\n`);
  });
}

main();
