import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startClient, type TestClient } from './lspClient';
import { writeExample } from '../../src/extension/example';

// The walkthrough's example guest, written to disk (nasm diagnostics read the file).
const fixture = writeExample(mkdtempSync(join(tmpdir(), 'vpdbg-lsp-')));
const text = readFileSync(fixture, 'utf8');
const lines = text.split('\n');
const pos = (needle: string, offset = 0, nth = 0) => {
  let count = 0;
  for (let line = 0; line < lines.length; line++) {
    const col = lines[line].indexOf(needle);
    if (col >= 0 && count++ === nth) return { line, character: col + offset };
  }
  throw new Error(`${needle} not in fixture`);
};
const hasNasm = (() => { try { execFileSync('nasm', ['-v']); return true; } catch { return false; } })();

let client: TestClient;
let uri: string;
before(async () => {
  client = await startClient({ diagnostics: hasNasm, diagnosticsDelay: 0 });
  uri = client.open(fixture, text);
});
after(() => client.close());

test('document symbols: sections, labels with their local labels, equ constants', async () => {
  const symbols = await client.request('textDocument/documentSymbol', { textDocument: { uri } });
  const names = (list: any[]): string[] => list.flatMap((s) => [s.name, ...names(s.children ?? [])]);
  assert.deepEqual(names(symbols).filter((n) => n !== 'COM1'), ['IA32_EFER', '.text', '_start', '.next', '.done', '.data', 'message']);
  const text_ = symbols.find((s: any) => s.name === '.text');
  assert.equal(text_.kind, 3, 'a section is a Namespace');
  const start = text_.children.find((s: any) => s.name === '_start');
  assert.equal(start.kind, 12);
  assert.deepEqual(start.children.map((s: any) => s.name), ['.next', '.done']);
  assert.ok(names(symbols).includes('COM1'), '%define appears as a symbol');
});

test('go to definition resolves a local label against its parent and a global across sections', async () => {
  const jz = pos('jz .done', 4);
  const defs = await client.request('textDocument/definition', { textDocument: { uri }, position: jz });
  assert.equal(defs.length, 1);
  assert.equal(defs[0].range.start.line, pos('.done:').line);
  const msg = await client.request('textDocument/definition', { textDocument: { uri }, position: pos('[rel message]', 6) });
  assert.equal(msg[0].range.start.line, pos('message:').line);
  const equ = await client.request('textDocument/definition', { textDocument: { uri }, position: pos('mov ecx, IA32_EFER', 10) });
  assert.equal(equ[0].range.start.line, pos('IA32_EFER equ').line);
});

test('find references of a label, with and without its declaration', async () => {
  const at = pos('.next:', 1);
  const withDecl = await client.request('textDocument/references', { textDocument: { uri }, position: at, context: { includeDeclaration: true } });
  assert.deepEqual(withDecl.map((l: any) => l.range.start.line), [pos('.next:').line, pos('jmp .next').line]);
  const without = await client.request('textDocument/references', { textDocument: { uri }, position: at, context: { includeDeclaration: false } });
  assert.deepEqual(without.map((l: any) => l.range.start.line), [pos('jmp .next').line]);
});

test('completion offers mnemonics at a statement start and registers/labels in operands', async () => {
  const start = await client.request('textDocument/completion', { textDocument: { uri }, position: { line: pos('    xor eax, eax').line, character: 5 } });
  const labels = start.map((i: any) => i.label);
  for (const m of ['mov', 'cpuid', 'rdmsr', 'jz', 'vpaddd', 'section']) assert.ok(labels.includes(m), `${m} offered`);
  assert.ok(!labels.includes('rax'), 'no registers where a mnemonic goes');
  const resolved = await client.request('completionItem/resolve', start.find((i: any) => i.label === 'rdmsr'));
  assert.match(resolved.detail, /RDMSR/);
  assert.match(resolved.documentation.value, /X64MsrAccess/);
  const operand = await client.request('textDocument/completion', { textDocument: { uri }, position: pos('mov ecx, IA32_EFER', 9) });
  const ops = operand.map((i: any) => i.label);
  for (const o of ['rax', 'r15d', 'xmm3', 'message', '_start', 'IA32_EFER', '.done', 'qword']) assert.ok(ops.includes(o), `${o} offered`);
  assert.ok(!ops.includes('cpuid'));
});

test('hover shows instruction forms and encodings from iced-x86, and register descriptions', async () => {
  const out = await client.request('textDocument/hover', { textDocument: { uri }, position: pos('out dx, al', 1) });
  assert.match(out.contents.value, /OUT DX, AL/);
  assert.match(out.contents.value, /`EE`/, 'the one-byte encoding of OUT DX, AL');
  assert.match(out.contents.value, /X64IoPortAccess/);
  const push = await client.request('textDocument/hover', { textDocument: { uri }, position: pos('jmp .next', 1) });
  assert.match(push.contents.value, /in 64-bit code \(\d+ more in other modes\)/, 'forms are those valid under bits 64');
  const lea = await client.request('textDocument/hover', { textDocument: { uri }, position: pos('lea rsi', 1) });
  assert.match(lea.contents.value, /LEA r64, m/);
  assert.match(lea.contents.value, /o64 8D \/r/);
  const reg = await client.request('textDocument/hover', { textDocument: { uri }, position: pos('lea rsi', 5) });
  assert.match(reg.contents.value, /\*\*rsi\*\* — 64-bit source index/);
  const num = await client.request('textDocument/hover', { textDocument: { uri }, position: pos('IA32_EFER equ 0xC0000080', 16) });
  assert.equal(num.contents.value, '`0xC0000080` · `3221225600` · `0b1100_0000_0000_0000_0000_0000_1000_0000` · `0o30000000200` · as int32 -1073741696');
  const label = await client.request('textDocument/hover', { textDocument: { uri }, position: pos('jmp .next', 5) });
  assert.match(label.contents.value, /_start\.next.*local label/);
});

test('diagnostics from nasm land on the offending lines, and clear when fixed', { timeout: 30_000, skip: hasNasm ? false : 'nasm is not installed (sudo apt install nasm)' }, async () => {
  const clean = await client.waitForDiagnostics(uri);
  assert.deepEqual(clean, []);
  const broken = text.replace('    cpuid', '    cpuid eax, 1').replace('jmp .next', 'jmp .nowhere');
  client.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: broken }] });
  const diags = await client.waitForDiagnostics(uri, (d) => d.length > 0);
  const brokenLines = broken.split('\n');
  const lineOf = (s: string) => brokenLines.findIndex((l) => l.includes(s));
  assert.ok(diags.some((d) => d.range.start.line === lineOf('cpuid eax, 1') && d.severity === 1 && d.source === 'nasm'), JSON.stringify(diags));
  assert.ok(diags.some((d) => d.range.start.line === lineOf('jmp .nowhere') && /nowhere/.test(d.message)), JSON.stringify(diags));
  client.notify('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text }] });
  assert.deepEqual(await client.waitForDiagnostics(uri, (d) => d.length === 0), []);
});

test('definitions, hover and completion reach into %include files', { timeout: 30_000 }, async () => {
  const main = join('test', 'fixtures', 'asm', 'with-include.asm');
  const src = readFileSync(main, 'utf8');
  const mainUri = client.open(main, src);
  const at = (needle: string, offset: number) => {
    const line = src.split('\n').findIndex((l) => l.includes(needle));
    return { line, character: src.split('\n')[line].indexOf(needle) + offset };
  };
  const defs = await client.request('textDocument/definition', { textDocument: { uri: mainUri }, position: at('call uart_putc', 6) });
  assert.equal(defs.length, 1);
  assert.match(defs[0].uri, /uart\.inc$/);
  assert.equal(defs[0].range.start.line, readFileSync(join('test', 'fixtures', 'asm', 'uart.inc'), 'utf8').split('\n').findIndex((l) => l.startsWith('uart_putc:')));
  const h = await client.request('textDocument/hover', { textDocument: { uri: mainUri }, position: at('mov dx, COM1', 9) });
  assert.match(h.contents.value, /\*\*COM1\*\* — constant, line 2 of uart\.inc/);
  const items = await client.request('textDocument/completion', { textDocument: { uri: mainUri }, position: { line: at('hlt', 0).line, character: 4 } });
  assert.ok(items.some((i: any) => i.label === 'UART_OUT'), 'the included macro is offered where an instruction goes');
  if (hasNasm) assert.deepEqual(await client.waitForDiagnostics(mainUri), [], 'nasm finds uart.inc beside the unsaved document');
});

test('rename rewrites a label and its references; a local label keeps its dot; clashes are refused', async () => {
  const src = 'main:\n.loop:\n    dec ecx\n    jnz .loop\n    jmp main.loop\nother:\n.loop:\n    jmp .loop\n';
  const path = join('test', 'fixtures', 'asm', 'rename-scratch.asm');
  const u = client.open(path, src);
  const edit = await client.request('textDocument/rename', { textDocument: { uri: u }, position: { line: 3, character: 9 }, newName: 'again' });
  const edits = edit.changes[u].map((e: any) => [e.range.start.line, src.split('\n')[e.range.start.line].slice(e.range.start.character, e.range.end.character), e.newText]);
  assert.deepEqual(edits, [[1, '.loop', '.again'], [3, '.loop', '.again'], [4, 'main.loop', 'main.again']], 'other.loop is untouched');
  const prep = await client.request('textDocument/prepareRename', { textDocument: { uri: u }, position: { line: 0, character: 1 } });
  assert.deepEqual(prep, { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 4 } }, placeholder: 'main' });
  await assert.rejects(client.request('textDocument/rename', { textDocument: { uri: u }, position: { line: 0, character: 1 }, newName: 'other' }), /other is already defined on line 6/);
  await assert.rejects(client.request('textDocument/prepareRename', { textDocument: { uri: u }, position: { line: 2, character: 5 } }), /Only labels/);
  const hl = await client.request('textDocument/documentHighlight', { textDocument: { uri: u }, position: { line: 1, character: 2 } });
  assert.deepEqual(hl.map((h: any) => [h.range.start.line, h.kind]), [[1, 3], [3, 2], [4, 2]]);
});
