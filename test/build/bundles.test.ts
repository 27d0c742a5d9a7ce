import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

test('the four bundles are built with source maps', () => {
  for (const name of ['extension', 'debugAdapter', 'languageServer', 'cli']) {
    assert.ok(existsSync(`dist/${name}.js`), `dist/${name}.js missing`);
    assert.ok(existsSync(`dist/${name}.js.map`), `dist/${name}.js.map missing`);
  }
});

test('the manifest points at the bundles', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.bin.vpdbg, 'dist/cli.js');
  for (const dep of ['@vscode/debugadapter', '@vscode/debugprotocol', 'iced-x86', 'vscode-languageclient', 'vscode-languageserver']) {
    assert.ok(pkg.dependencies[dep], `${dep} must be a runtime dependency`);
  }
});
