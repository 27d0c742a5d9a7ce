// Starts dist/languageServer.js for x64asm documents. Loaded with a dynamic import on the
// first assembly document, so activating for a debug session does not pay for it.
import * as vscode from 'vscode';
import type * as lc from 'vscode-languageclient/lib/node/main';
// The package's `./node` entry is reachable only through its exports map, which this repo's
// TypeScript resolution (node10) does not read; esbuild resolves it at bundle time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LanguageClient, TransportKind } = require('vscode-languageclient/node') as typeof lc;
type LanguageClientOptions = lc.LanguageClientOptions;
type ServerOptions = lc.ServerOptions;
type LanguageClient = lc.LanguageClient;

export async function startLanguageClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const module = context.asAbsolutePath('dist/languageServer.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const settings = vscode.workspace.getConfiguration('vpdbg');
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'x64asm' }],
    synchronize: { configurationSection: 'vpdbg' },
    initializationOptions: {
      nasmPath: settings.get('nasmPath', 'nasm'),
      diagnostics: settings.get('diagnostics.enabled', true),
      diagnosticsDelay: settings.get('diagnostics.delay', 500),
    },
  };
  const client = new LanguageClient('vpdbg.asm', 'vpdbg x64 assembly', serverOptions, clientOptions);
  await client.start();
  return client;
}
