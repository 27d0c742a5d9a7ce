// Language server entry point (dist/languageServer.js): NASM x64 assembly over LSP. The
// transport comes from the command line (--stdio, --node-ipc, --socket=N), as
// vscode-languageclient and test clients pass it.
import type { LspRuntime } from './lspConnection';
import { startServer } from './server';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createConnection, ProposedFeatures } = require('vscode-languageserver/node') as LspRuntime;

startServer(createConnection(ProposedFeatures.all));
