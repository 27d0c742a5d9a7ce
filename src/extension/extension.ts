// VS Code entry point. Activation stays cheap (< 50 ms): it registers providers and commands;
// the adapter process starts with a session and the language server with the first
// assembly document. The language client (~1 MB with its dependencies) is its own bundle,
// dist/languageClient.js, loaded only then.
//
// Custom DAP traffic the views expect from src/debugAdapter (see protocol.ts):
//   events   vpdbg.exit {index, vp, reason, description, rip, instruction, stopped, context, ...}
//            vpdbg.status {vp, mode, cpl, running, lastExit}
//   requests vpdbg.exitHistory -> {exits, counts}; vpdbg.setExitBreakpoints (setExceptionBreakpoints
//            arguments); vpdbg.setNumberFormat {hex} -> then an `invalidated` event.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { VscodeHost } from './vscodeHost';
import { registerDebugging } from './debugSetup';
import { createExampleCommand } from './example';

let stopLanguageClient: (() => Promise<void>) | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const host = new VscodeHost(context);
  registerDebugging(context, host);
  context.subscriptions.push(vscode.commands.registerCommand('vpdbg.createExample', () => createExampleCommand(host)));

  let starting = false;
  const maybeStart = (doc: vscode.TextDocument) => {
    if (starting || doc.languageId !== 'x64asm') return;
    starting = true;
    // A computed path, so esbuild leaves the require alone and the client stays a separate file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Promise.resolve().then(() => (require(join(__dirname, 'languageClient.js')) as typeof import('./languageClient')).startLanguageClient(context))
      .then((client) => { stopLanguageClient = () => client.stop(); })
      .catch((e) => { void vscode.window.showWarningMessage(`vpdbg: the assembly language server did not start: ${(e as Error).message}`); });
  };
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(maybeStart));
  vscode.workspace.textDocuments.forEach(maybeStart);
}

export function deactivate(): Promise<void> | undefined {
  return stopLanguageClient?.();
}
