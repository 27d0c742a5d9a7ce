// VS Code entry point. Activation stays cheap: everything is registered lazily.
import * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Filled in by the extension work (issue 7).
}

export function deactivate(): void {
  // Nothing to release yet.
}
