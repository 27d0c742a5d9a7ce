import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const vsctm = require('vscode-textmate');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const oniguruma = require('vscode-oniguruma');

type Tok = { text: string; scopes: string[] };
let lines: Tok[][] = [];

function tokenize(grammar: any, text: string): Tok[][] {
  let rule = vsctm.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, rule);
    rule = r.ruleStack;
    return r.tokens.map((t: any) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

before(async () => {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async () => vsctm.parseRawGrammar(readFileSync('syntaxes/x64asm.tmLanguage.json', 'utf8'), 'x64asm.tmLanguage.json'),
  });
  const grammar = await registry.loadGrammar('source.x64asm');
  lines = tokenize(grammar, readFileSync(join('test', 'fixtures', 'asm', 'grammar-sample.asm'), 'utf8'));
});

/** The innermost scope of `text` on the line that contains `lineNeedle`. */
function scopeOf(lineNeedle: string, text: string): string {
  const line = lines.find((l) => l.map((t) => t.text).join('').includes(lineNeedle));
  assert.ok(line, `line with ${lineNeedle}`);
  const tok = line.find((t) => t.text.trim() === text) ?? line.find((t) => t.text.includes(text));
  assert.ok(tok, `${text} on line ${lineNeedle}: ${JSON.stringify(line.map((t) => t.text))}`);
  return tok.scopes[tok.scopes.length - 1];
}

test('numbers in every NASM form are numeric constants of the right base', () => {
  const cases: [string, string, string][] = [
    ['rax, 0x1F', '0x1F', 'hex'], ['rbx, 0h1F', '0h1F', 'hex'], ['rcx, 1Fh', '1Fh', 'hex'], ['rdx, $1F', '$1F', 'hex'],
    ['rsi, 0b1010', '0b1010', 'binary'], ['rdi, 1010b', '1010b', 'binary'], ['r8, 0o17', '0o17', 'octal'], ['r9, 17q', '17q', 'octal'],
    ['r10, 0d99', '0d99', 'decimal'], ['r11, 1_000_000', '1_000_000', 'decimal'], ['r12d, 99d', '99d', 'decimal'],
  ];
  for (const [line, text, base] of cases) assert.equal(scopeOf(line, text), `constant.numeric.${base}.x64asm`, text);
});

test('mnemonics, prefixes, registers and size keywords', () => {
  assert.equal(scopeOf('rax, 0x1F', 'mov'), 'keyword.mnemonic.x64asm');
  assert.equal(scopeOf('rax, 0x1F', 'rax'), 'variable.language.register.x64asm');
  assert.equal(scopeOf('r12d, 99d', 'r12d'), 'variable.language.register.x64asm');
  assert.equal(scopeOf('lock add', 'lock'), 'keyword.mnemonic.x64asm');
  assert.equal(scopeOf('lock add', 'qword'), 'storage.type.size.x64asm');
  assert.equal(scopeOf('lock add', 'rel'), 'storage.modifier.x64asm');
  assert.equal(scopeOf('movsd xmm0', 'xmm0'), 'variable.language.register.x64asm');
  assert.equal(scopeOf('jnz .loop', 'jnz'), 'keyword.mnemonic.x64asm', 'condition-code aliases are mnemonics');
  assert.equal(scopeOf('movsd xmm0', '['), 'punctuation.definition.memory.x64asm');
});

test('labels, local labels, constants and label references', () => {
  assert.equal(scopeOf('entry:', 'entry'), 'entity.name.function.label.x64asm');
  assert.equal(scopeOf('.loop:', '.loop'), 'entity.name.function.label.local.x64asm');
  assert.equal(scopeOf('size equ', 'size'), 'entity.name.constant.x64asm');
  assert.equal(scopeOf('jnz .loop', '.loop'), 'variable.other.label.local.x64asm');
  assert.equal(scopeOf('counter: dq', 'dq'), 'storage.type.data.x64asm');
});

test('directives, preprocessor and macros', () => {
  assert.equal(scopeOf('section .text', 'section'), 'keyword.control.directive.x64asm');
  assert.equal(scopeOf('bits 64', 'bits'), 'keyword.control.directive.x64asm');
  assert.equal(scopeOf('%include', 'include'), 'keyword.control.import.x64asm');
  assert.equal(scopeOf('%define PORT', 'PORT'), 'entity.name.function.preprocessor.x64asm');
  assert.equal(scopeOf('%macro OUTB', 'OUTB'), 'entity.name.function.macro.x64asm');
  assert.equal(scopeOf('mov dx, %1', '%1'), 'variable.parameter.macro.x64asm');
  assert.equal(scopeOf('%endmacro', 'endmacro'), 'keyword.control.preprocessor.x64asm');
});

test('strings, escapes and comments', () => {
  assert.equal(scopeOf('msg: db', '\\n'), 'constant.character.escape.x64asm');
  assert.equal(scopeOf('msg: db', '"'), 'string.quoted.double.x64asm');
  assert.equal(scopeOf("OUTB PORT, 'A'", "'"), 'string.quoted.single.x64asm');
  assert.equal(scopeOf('every NASM number form', '; every NASM number form, strings, labels, directives, macros'), 'comment.line.semicolon.x64asm');
  // `dq` inside a string is text, not a directive
  const line = lines.find((l) => l.some((t) => t.text.includes('msg')))!;
  const dqInString = line.find((t) => t.text === 'dq' && t.scopes.some((s) => s.startsWith('string')));
  assert.ok(dqInString, 'dq inside the string keeps the string scope');
});

test('every mnemonic iced-x86 knows is highlighted', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const iced = require('iced-x86');
  const grammar = JSON.parse(readFileSync('syntaxes/x64asm.tmLanguage.json', 'utf8'));
  const rule = grammar.repository.statement.patterns.find((p: any) => p.name === 'keyword.mnemonic.x64asm');
  const known = new Set(rule.match.replace(/^\(\?i\)\\b\(\?:/, '').replace(/\)\\b$/, '').split('|'));
  const missing = Object.keys(iced.Mnemonic).filter((k) => Number.isNaN(Number(k)) && !['INVALID', 'Db', 'Dw', 'Dd', 'Dq'].includes(k)).map((k) => k.toLowerCase()).filter((m) => !known.has(m));
  assert.deepEqual(missing, []);
});
