// The one real implementation of the Host seam.
import * as vscode from 'vscode';
import type { DebugSessionLike, Host, InputOptions, PickItem } from './seam';

export class VscodeHost implements Host {
  constructor(private readonly context: vscode.ExtensionContext) {}

  showError(message: string, ...actions: string[]) {
    return vscode.window.showErrorMessage(message, ...actions);
  }

  showInfo(message: string, ...actions: string[]) {
    return vscode.window.showInformationMessage(message, ...actions);
  }

  pickMany<T extends PickItem>(items: T[], options: { title: string; placeHolder?: string }) {
    return vscode.window.showQuickPick(items, { ...options, canPickMany: true, matchOnDescription: true, matchOnDetail: true });
  }

  input(options: InputOptions) {
    return vscode.window.showInputBox({ ...options, ignoreFocusOut: true });
  }

  activeFile() {
    const editor = vscode.window.activeTextEditor;
    if (editor && editor.document.uri.scheme === 'file') return { path: editor.document.uri.fsPath, languageId: editor.document.languageId };
    // Binary images open in a placeholder editor that is not a text editor.
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? input.uri : undefined;
    return uri?.scheme === 'file' ? { path: uri.fsPath } : undefined;
  }

  setting<T>(key: string, fallback: T): T {
    return vscode.workspace.getConfiguration('vpdbg').get<T>(key, fallback);
  }

  setContext(key: string, value: unknown) {
    return vscode.commands.executeCommand('setContext', key, value);
  }

  getState<T>(key: string): T | undefined {
    return this.context.workspaceState.get<T>(key);
  }

  setState(key: string, value: unknown) {
    return this.context.workspaceState.update(key, value);
  }

  storageDir(): string {
    return vscode.Uri.joinPath(this.context.storageUri ?? this.context.globalStorageUri, 'build').fsPath;
  }

  activeDebugSession(): DebugSessionLike | undefined {
    const s = vscode.debug.activeDebugSession;
    return s?.type === 'vpdbg' ? s : undefined;
  }

  workspaceDir() {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  open(path: string) {
    return vscode.window.showTextDocument(vscode.Uri.file(path));
  }

  openUrl(url: string) {
    return vscode.env.openExternal(vscode.Uri.parse(url));
  }
}
