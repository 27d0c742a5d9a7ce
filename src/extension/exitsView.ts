// The "VP Exits" tree view and the read-only documents that reveal one exit.
import * as vscode from 'vscode';
import { exitDocument, type ExitHistory, type ExitNode } from './exitHistory';
import type { ExitRecord } from './protocol';

export const EXIT_SCHEME = 'vpdbg-exit';

export class ExitsTreeProvider implements vscode.TreeDataProvider<ExitNode> {
  private readonly emitter = new vscode.EventEmitter<ExitNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly history: ExitHistory) {
    // Exits can arrive in bursts; refresh the tree at most every 100 ms.
    history.onDidChange(() => {
      this.pending ??= setTimeout(() => { this.pending = undefined; this.emitter.fire(undefined); }, 100);
    });
  }

  getChildren(node?: ExitNode): ExitNode[] {
    return this.history.children(node);
  }

  getTreeItem(node: ExitNode): vscode.TreeItem {
    const d = this.history.item(node);
    const state = { none: vscode.TreeItemCollapsibleState.None, collapsed: vscode.TreeItemCollapsibleState.Collapsed, expanded: vscode.TreeItemCollapsibleState.Expanded }[d.collapsible];
    const item = new vscode.TreeItem(d.label, state);
    item.description = d.description;
    item.tooltip = d.tooltip;
    item.contextValue = d.contextValue;
    if (d.icon) item.iconPath = new vscode.ThemeIcon(d.icon);
    if (d.reveal) item.command = { command: 'vpdbg.exits.reveal', title: 'Reveal Exit', arguments: [d.reveal] };
    return item;
  }
}

/** Serves vpdbg-exit:/<index> documents from the history's records. */
export class ExitDocumentProvider implements vscode.TextDocumentContentProvider {
  private readonly records = new Map<string, ExitRecord>();

  uriFor(record: ExitRecord): vscode.Uri {
    const key = `exit-${record.index ?? 0}-${record.reason}`;
    this.records.set(key, record);
    return vscode.Uri.from({ scheme: EXIT_SCHEME, path: `/${key}.txt` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const record = this.records.get(uri.path.replace(/^\//, '').replace(/\.txt$/, ''));
    return record ? exitDocument(record) : 'This exit is no longer in the history.\n';
  }
}

/** Click on an exit: show its decoded context beside the editor and its source line if known. */
export async function revealExit(docs: ExitDocumentProvider, record: ExitRecord): Promise<void> {
  if (record.source) {
    const doc = await vscode.workspace.openTextDocument(record.source.path);
    const line = Math.max(0, record.source.line - 1);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0), preview: true });
  }
  const doc = await vscode.workspace.openTextDocument(docs.uriFor(record));
  await vscode.window.showTextDocument(doc, { viewColumn: record.source ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preview: true, preserveFocus: !!record.source });
}
