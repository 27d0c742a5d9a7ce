// Loads the real dist/extension.js against a stand-in `vscode` module that records what
// activation registers, and prints how long activation took (a figure, not an assertion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const registered: { api: string; id: unknown }[] = [];

/** Any property is another stub; calling one returns a disposable stub. */
function stub(path: string): any {
  const fn = function () { /* stub */ };
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      if (prop === Symbol.iterator) return function* () { /* empty */ };
      if (prop === 'textDocuments' || prop === 'all') return [];
      return stub(`${path}.${String(prop)}`);
    },
    apply(_t, _this, args) {
      if (/\.register\w*$|\.createTreeView$|\.createStatusBarItem$/.test(path)) registered.push({ api: path.replace(/^vscode\./, ''), id: args[0] });
      return stub(`${path}()`);
    },
    construct() { return stub(`new ${path}`); },
    set() { return true; },
  });
}

const api = ['window', 'workspace', 'debug', 'commands', 'env', 'languages', 'Uri', 'EventEmitter', 'ThemeIcon', 'TreeItem', 'TreeItemCollapsibleState',
  'StatusBarAlignment', 'DebugAdapterExecutable', 'DebugConfigurationProviderTriggerKind', 'TabInputText', 'TabInputCustom', 'Range', 'ViewColumn'];
const vscodeStub = Object.fromEntries(api.map((name) => [name, stub(`vscode.${name}`)]));

test('activate registers the debugger, views and commands without starting anything', () => {
  const load = (Module as any)._load;
  (Module as any)._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? vscodeStub : load.call(this, request, ...rest);
  };
  try {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle under test, loaded with the stub in place
    const ext = require(resolve('dist/extension.js'));
    const t1 = performance.now();
    ext.activate({ subscriptions: [], asAbsolutePath: (p: string) => resolve(p), workspaceState: stub('state'), globalStorageUri: stub('uri') });
    const t2 = performance.now();
    console.log(`# extension activation: bundle load ${(t1 - t0).toFixed(1)} ms + activate() ${(t2 - t1).toFixed(1)} ms`);
  } finally {
    (Module as any)._load = load;
  }
  const ids = (api: string) => registered.filter((r) => r.api === api).map((r) => r.id);
  assert.deepEqual(ids('debug.registerDebugConfigurationProvider'), ['vpdbg', 'vpdbg']);
  assert.deepEqual(ids('debug.registerDebugAdapterDescriptorFactory'), ['vpdbg']);
  assert.deepEqual(ids('debug.registerDebugAdapterTrackerFactory'), ['vpdbg']);
  assert.deepEqual(ids('window.createTreeView'), ['vpdbg.exits']);
  assert.ok(ids('commands.registerCommand').includes('vpdbg.breakOnExitReason'));
});
