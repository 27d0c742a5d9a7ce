// A minimal LSP client for tests: spawns dist/languageServer.js --stdio and talks to it
// through vscode-languageserver-protocol's connection over the child's streams.
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const protocol = require('vscode-languageserver-protocol/node');

export interface TestClient {
  request<R = any>(method: string, params: unknown): Promise<R>;
  notify(method: string, params: unknown): void;
  waitForDiagnostics(uri: string, predicate?: (d: any[]) => boolean): Promise<any[]>;
  open(path: string, text: string, version?: number): string;
  close(): Promise<void>;
}

export async function startClient(initializationOptions: unknown = {}): Promise<TestClient> {
  const child: ChildProcess = spawn(process.execPath, ['dist/languageServer.js', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = protocol.createProtocolConnection(new protocol.StreamMessageReader(child.stdout), new protocol.StreamMessageWriter(child.stdin));
  const diagnostics = new Map<string, any[]>();
  const waiters: { uri: string; predicate: (d: any[]) => boolean; resolve: (d: any[]) => void }[] = [];
  connection.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: any[] }) => {
    diagnostics.set(p.uri, p.diagnostics);
    for (const w of waiters.slice()) if (w.uri === p.uri && w.predicate(p.diagnostics)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(p.diagnostics); }
  });
  connection.onNotification('window/showMessage', () => {});
  connection.listen();
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions });
  connection.sendNotification('initialized', {});
  return {
    request: (method, params) => connection.sendRequest(method, params),
    notify: (method, params) => connection.sendNotification(method, params),
    waitForDiagnostics: (uri, predicate = () => true) => new Promise((resolve) => {
      const have = diagnostics.get(uri);
      if (have && predicate(have)) resolve(have);
      else waiters.push({ uri, predicate, resolve });
    }),
    open(path, text, version = 1) {
      const uri = pathToFileURL(path).href;
      connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'x64asm', version, text } });
      return uri;
    },
    async close() {
      await connection.sendRequest('shutdown');
      connection.sendNotification('exit');
      connection.dispose();
      await new Promise((r) => { if (child.exitCode !== null) r(null); else child.once('exit', r); });
    },
  };
}
