// Registers vpdbg's debugger with VS Code: configuration provider (F5 without launch.json,
// assembling sources), the adapter process, the DAP tracker feeding the views, commands.
import * as vscode from 'vscode';
import type { Host } from './seam';
import { configurationForFile, isDebuggableFile, prepareProgram, resolveConfiguration, type LaunchConfiguration } from './configurationProvider';
import { isAssemblySource } from './guestKind';
import { assemble, nasmVersion } from './assembler';
import { ExitHistory } from './exitHistory';
import { SessionWatcher } from './sessionWatcher';
import { ExitDocumentProvider, ExitsTreeProvider, EXIT_SCHEME, revealExit } from './exitsView';
import { statusText } from './statusText';
import { applyExitBreakpoints, breakOnExitReasonCommand, savedExitBreakpoints } from './exitBreakpoints';
import { DECIMAL_CONTEXT, setNumberFormat } from './numberFormat';
import { evaluatableAt } from './evaluatable';
import { ExitHistoryRequest, type ExitHistoryBody, type ExitRecord, type SetExitBreakpointsArgs } from './protocol';

class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly host: Host) {}

  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration) {
    return resolveConfiguration(config as LaunchConfiguration, this.host) as Promise<vscode.DebugConfiguration | undefined>;
  }

  resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration) {
    return prepareProgram(config as LaunchConfiguration, this.host, undefined, folder?.uri.fsPath) as Promise<vscode.DebugConfiguration | undefined>;
  }
}

/** "Run and Debug" dropdown entries for the guests and sources open in editors. */
class DynamicConfigurations implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    const paths = new Set<string>();
    for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
      if (tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === 'file') paths.add(tab.input.uri.fsPath);
    }
    return [...paths].filter((p) => isDebuggableFile(p)).map((p) => configurationForFile(p) as vscode.DebugConfiguration);
  }
}

/**
 * The adapter runs as its own process (dist/debugAdapter.js speaking DAP over stdio), so a
 * guest spinning in the emulator never blocks the extension host. It runs on the Node that
 * runs the extension host: process.execPath is that Node in code-server and remote hosts,
 * and VS Code's Electron binary on the desktop, where ELECTRON_RUN_AS_NODE=1 makes it Node.
 * Users need no Node of their own.
 */
class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly context: vscode.ExtensionContext) {}

  createDebugAdapterDescriptor(): vscode.DebugAdapterDescriptor {
    const script = this.context.asAbsolutePath('dist/debugAdapter.js');
    return new vscode.DebugAdapterExecutable(process.execPath, [script], { env: { ELECTRON_RUN_AS_NODE: '1' } });
  }
}

export function registerDebugging(context: vscode.ExtensionContext, host: Host): void {
  const history = new ExitHistory();
  const watcher = new SessionWatcher(history);
  const tree = new ExitsTreeProvider(history);
  const docs = new ExitDocumentProvider();
  const view = vscode.window.createTreeView('vpdbg.exits', { treeDataProvider: tree, showCollapseAll: true });
  const status = vscode.window.createStatusBarItem('vpdbg.status', vscode.StatusBarAlignment.Left, 50);
  status.name = 'vpdbg virtual processor';
  status.command = 'vpdbg.exits.focus';
  let historySupported = true;

  const updateStatus = () => {
    const { text, tooltip } = statusText(watcher.status, history.last);
    status.text = text;
    status.tooltip = tooltip;
    view.badge = history.size ? { value: history.size, tooltip: `${history.size} exits` } : undefined;
  };
  watcher.onDidChangeStatus(updateStatus);
  history.onDidChange(() => { updateStatus(); void vscode.commands.executeCommand('setContext', 'vpdbg.hasExits', history.size > 0); });

  const syncHistory = async (session: vscode.DebugSession | undefined) => {
    if (!session || session.type !== 'vpdbg' || !historySupported) return;
    try {
      const body = (await session.customRequest(ExitHistoryRequest, {})) as ExitHistoryBody;
      if (body && Array.isArray(body.exits)) history.replace(body);
    } catch {
      historySupported = false; // an older adapter: keep building the history from events
    }
  };

  let stopped = false;
  const uiFilters = new Map<string, SetExitBreakpointsArgs>();
  context.subscriptions.push(
    view, status,
    // The adapter's history also counts exits that did not stop; fetch it when the view shows.
    view.onDidChangeVisibility((e) => { if (e.visible && stopped) void syncHistory(vscode.debug.activeDebugSession); }),
    vscode.debug.registerDebugConfigurationProvider('vpdbg', new ConfigurationProvider(host)),
    vscode.debug.registerDebugConfigurationProvider('vpdbg', new DynamicConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory('vpdbg', new AdapterFactory(context)),
    vscode.debug.registerDebugAdapterTrackerFactory('vpdbg', {
      createDebugAdapterTracker: (session) => ({
        // VS Code's setExceptionBreakpoints replaces the adapter's filter set; remember what
        // it sent, and once the adapter has answered, add the picker's saved set to it.
        onWillReceiveMessage: (m) => {
          if (m.type === 'request' && m.command === 'setExceptionBreakpoints') {
            uiFilters.set(session.id, { filters: m.arguments?.filters ?? [], filterOptions: m.arguments?.filterOptions ?? [] });
          }
        },
        onDidSendMessage: (m) => {
          if (m.type === 'response' && m.command === 'setExceptionBreakpoints') {
            const saved = savedExitBreakpoints(host);
            if (saved.filterOptions.length) {
              void applyExitBreakpoints(host, saved, session, uiFilters.get(session.id)).then((err) => { if (err) void host.showError(`vpdbg: exit breakpoints: ${err}`); });
            }
          }
          if (vscode.debug.activeDebugSession && vscode.debug.activeDebugSession.id !== session.id) return;
          watcher.handle(m);
          if (m.type === 'event' && (m.event === 'continued' || m.event === 'terminated')) stopped = false;
          if (m.type === 'event' && m.event === 'stopped') {
            stopped = true;
            if (view.visible) void syncHistory(session);
          }
        },
      }),
    }),
    vscode.debug.onDidStartDebugSession((session) => {
      if (session.type !== 'vpdbg') return;
      history.clear();
      historySupported = true;
      watcher.status = undefined;
      updateStatus();
      status.show();
      void host.setContext(DECIMAL_CONTEXT, false);
    }),
    vscode.debug.onDidTerminateDebugSession((session) => {
      uiFilters.delete(session.id);
      if (session.type === 'vpdbg' && !vscode.debug.activeDebugSession) status.hide();
    }),
    vscode.workspace.registerTextDocumentContentProvider(EXIT_SCHEME, docs),
    vscode.languages.registerEvaluatableExpressionProvider('x64asm', {
      provideEvaluatableExpression: (document, position) => {
        const e = evaluatableAt(document.lineAt(position.line).text, position.character);
        return e && new vscode.EvaluatableExpression(new vscode.Range(position.line, e.start, position.line, e.end), e.expression);
      },
    }),
    vscode.commands.registerCommand('vpdbg.exits.reveal', (record: ExitRecord) => revealExit(docs, record)),
    vscode.commands.registerCommand('vpdbg.exits.clear', () => history.clear()),
    vscode.commands.registerCommand('vpdbg.exits.refresh', () => syncHistory(vscode.debug.activeDebugSession)),
    vscode.commands.registerCommand('vpdbg.breakOnExitReason', () => breakOnExitReasonCommand(host, () => uiFilters.get(vscode.debug.activeDebugSession?.id ?? ''))),
    vscode.commands.registerCommand('vpdbg.showDecimal', () => setNumberFormat(host, false)),
    vscode.commands.registerCommand('vpdbg.showHex', () => setNumberFormat(host, true)),
    vscode.commands.registerCommand('vpdbg.debugFile', (uri?: vscode.Uri) => startFile(host, uri, false)),
    vscode.commands.registerCommand('vpdbg.runFile', (uri?: vscode.Uri) => startFile(host, uri, true)),
    vscode.commands.registerCommand('vpdbg.assemble', () => assembleActive(host)),
  );
}

async function startFile(host: Host, uri: vscode.Uri | undefined, noDebug: boolean): Promise<void> {
  const path = uri?.fsPath ?? host.activeFile()?.path;
  if (!path) {
    await host.showError('vpdbg: open a guest image or an assembly source first.');
    return;
  }
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path));
  await vscode.debug.startDebugging(folder, configurationForFile(path, noDebug) as vscode.DebugConfiguration, { noDebug });
}

async function assembleActive(host: Host): Promise<void> {
  const file = host.activeFile();
  if (!file || !isAssemblySource(file.path, file.languageId)) {
    // No source open (the walkthrough's "Check nasm"): say whether nasm is there.
    try {
      await host.showInfo(`vpdbg: ${await nasmVersion(host.setting('nasmPath', 'nasm'))} is installed; open an .asm file and press F5.`);
    } catch (e) {
      await host.showError(`vpdbg: ${(e as Error).message}`);
    }
    return;
  }
  await vscode.window.activeTextEditor?.document.save();
  try {
    const { output, plan } = await assemble(file.path, host.storageDir(), host.setting('nasmPath', 'nasm'));
    await host.showInfo(`vpdbg: assembled ${plan.nasmFormat === 'bin' ? 'a flat image' : `an ELF (${plan.format}, ${plan.mode} mode) with DWARF lines`}: ${output}`);
  } catch (e) {
    await host.showError(`vpdbg: ${(e as Error).message}`);
  }
}
