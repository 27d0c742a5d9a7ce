// Builds the .vsix with @vscode/vsce exactly as `npm run package` does (from the bundles the
// test build just made), checks its file list, then runs the packaged language server and
// debug adapter from an extracted copy far from node_modules: the bundles must need nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';

/** Reads a zip's central directory and inflates each entry. */
function unzip(buf: Buffer): Map<string, Buffer> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + size);
    files.set(name, method === 8 ? inflateRawSync(raw) : Buffer.from(raw));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

const vsce = resolve('node_modules', '.bin', 'vsce');
const skip = !existsSync(vsce) ? '@vscode/vsce is not installed (npm install)' : !existsSync('dist/debugAdapter.js') ? 'bundles not built (node scripts/build.mjs)' : false;

test('the .vsix holds the bundles, the wasm, the grammar and media — and nothing else', { skip }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'vpdbg-vsix-')), 'vpdbg.vsix');
  execFileSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out], { stdio: 'pipe' });
  const buf = readFileSync(out);
  const files = unzip(buf);
  const names = [...files.keys()].filter((n) => n.startsWith('extension/')).map((n) => n.slice('extension/'.length)).sort();
  for (const must of ['package.json', 'dist/extension.js', 'dist/languageClient.js', 'dist/debugAdapter.js', 'dist/languageServer.js', 'dist/iced_x86_bg.wasm', 'syntaxes/x64asm.tmLanguage.json', 'language-configuration.json', 'media/icon.png', 'media/walkthrough/f5.md', 'readme.md']) {
    assert.ok(names.includes(must), `${must} is packaged: ${names.join(', ')}`);
  }
  for (const n of names) {
    assert.ok(!/^(src|test|out|scripts|node_modules)\/|\.map$|\.ts$|^\.|tsconfig|eslint/.test(n), `${n} must not be packaged`);
  }
  assert.ok(buf.length < 5 * 1024 * 1024, `vsix is ${buf.length} bytes`);
  console.log(`# vpdbg.vsix: ${files.size} files, ${(buf.length / 1024).toFixed(0)} KiB`);

  // Extract and run the packaged servers where no node_modules can be found.
  const root = mkdtempSync(join(tmpdir(), 'vpdbg-installed-'));
  for (const [name, data] of files) {
    if (!name.startsWith('extension/')) continue;
    const path = join(root, name.slice('extension/'.length));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  }
  extracted = root;
});

let extracted: string | undefined;

/** Runs script, sends framed messages, resolves with the first reply whose id is `wantId`. */
function converse(script: string, args: string[], messages: object[], wantId: number): Promise<any> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: tmpdir(), stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = Buffer.alloc(0);
    let err = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`no answer from ${script}: ${err}`)); }, 20_000);
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited (${code}) without answering: ${err}`)); });
    child.stdout.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const headerEnd = buf.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\d+)/.exec(buf.toString('ascii', 0, headerEnd))?.[1]);
        if (buf.length < headerEnd + 4 + length) return;
        const msg = JSON.parse(buf.toString('utf8', headerEnd + 4, headerEnd + 4 + length));
        buf = buf.subarray(headerEnd + 4 + length);
        if (msg.id === wantId || msg.request_seq === wantId) { clearTimeout(timer); child.kill(); resolvePromise(msg); return; }
      }
    });
    for (const m of messages) { const b = JSON.stringify(m); child.stdin.write(`Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`); }
  });
}

test('the packaged language server starts and loads iced-x86\'s wasm from its own folder', { skip }, async () => {
  assert.ok(extracted, 'the vsix test ran');
  const hover = await converse(join(extracted!, 'dist', 'languageServer.js'), ['--stdio'], [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {}, initializationOptions: { diagnostics: false } } },
    { jsonrpc: '2.0', method: 'initialized', params: {} },
    { jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///x.asm', languageId: 'x64asm', version: 1, text: '  cpuid\n' } } },
    // The wasm loads on first use; a hover needs it.
    { jsonrpc: '2.0', id: 2, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///x.asm' }, position: { line: 0, character: 3 } } },
  ], 2);
  assert.match(hover.result.contents.value, /`CPUID` \| `0F A2`/);
});

test('the packaged debug adapter answers initialize with the exit filters', { skip }, async () => {
  assert.ok(extracted, 'the vsix test ran');
  const t0 = performance.now();
  const reply = await converse(join(extracted!, 'dist', 'debugAdapter.js'), [], [{ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' } }], 1);
  console.log(`# debug adapter process: spawn to initialize response ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(reply.success, true, JSON.stringify(reply));
  const filters = reply.body.exceptionBreakpointFilters.map((f: any) => f.filter);
  assert.ok(filters.includes('X64IoPortAccess') && filters.includes('ModeChange'));
});
