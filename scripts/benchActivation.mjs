// Extension startup for `npm run bench` (run in a fresh process): loads dist/extension.js
// against a stand-in `vscode` module (any property is a stub, as in
// test/extension/activation.test.ts) and times the bundle load and activate(). Prints JSON.
import Module from 'node:module';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

function stub() {
  const fn = function () { /* stub */ };
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      if (prop === Symbol.iterator) return function* () { /* empty */ };
      if (prop === 'textDocuments' || prop === 'all') return [];
      return stub();
    },
    apply() { return stub(); },
    construct() { return stub(); },
    set() { return true; },
  });
}

// The bundle copies the module's own properties (esbuild's ESM interop), so they must exist.
const API = ['window', 'workspace', 'debug', 'commands', 'env', 'languages', 'Uri', 'EventEmitter', 'ThemeIcon', 'TreeItem', 'TreeItemCollapsibleState',
  'StatusBarAlignment', 'DebugAdapterExecutable', 'DebugConfigurationProviderTriggerKind', 'TabInputText', 'TabInputCustom', 'Range', 'ViewColumn'];
const vscode = Object.fromEntries(API.map((name) => [name, stub()]));
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? vscode : load.call(this, request, ...rest); };
const require = createRequire(import.meta.url);
const t0 = performance.now();
const ext = require(resolve(process.argv[2] ?? '.', 'dist/extension.js'));
const t1 = performance.now();
await ext.activate({ subscriptions: [], asAbsolutePath: (p) => resolve(p), workspaceState: stub(), globalState: stub(), globalStorageUri: stub(), extensionUri: stub(), extensionPath: resolve('.') });
const t2 = performance.now();
console.log(JSON.stringify({ loadMs: t1 - t0, activateMs: t2 - t1 }));
