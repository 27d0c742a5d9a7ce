// Generates x64asm.tmLanguage.json (NASM syntax). The mnemonic list comes from iced-x86, so
// every instruction iced can encode is highlighted and a typo is not; the rest is NASM's
// manual (chapter 3: numbers, strings, expressions; chapter 4: the preprocessor; chapters
// 6-7: directives). Run: node syntaxes/generate.mjs   (the JSON is committed).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const iced = require('iced-x86');

// Condition-code aliases NASM accepts that iced names by one spelling only (jz = je ...).
const cc = { z: 'e', nz: 'ne', c: 'b', nc: 'ae', nae: 'b', nb: 'ae', na: 'be', nbe: 'a', pe: 'p', po: 'np', nge: 'l', nl: 'ge', ng: 'le', nle: 'g' };
const pseudo = new Set(['invalid', 'db', 'dw', 'dd', 'dq']);
export function mnemonics() {
  const set = new Set();
  for (const k of Object.keys(iced.Mnemonic)) if (Number.isNaN(Number(k)) && !pseudo.has(k.toLowerCase())) set.add(k.toLowerCase());
  for (const [alias] of Object.entries(cc)) for (const p of ['j', 'set', 'cmov']) set.add(p + alias);
  for (const extra of ['retn', 'retq', 'int1', 'icebp', 'sal', 'jmpe', 'sysretq', 'iretq', 'pushfq', 'popfq', 'lock', 'rep', 'repe', 'repz', 'repne', 'repnz', 'xacquire', 'xrelease', 'bnd', 'o16', 'o32', 'o64', 'a16', 'a32', 'a64']) set.add(extra);
  return [...set].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

const n = (x) => `${x}`;
const gpr64 = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', ...Array.from({ length: 8 }, (_, i) => `r${i + 8}`)];
export const registers = [
  ...gpr64,
  'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', ...Array.from({ length: 8 }, (_, i) => `r${i + 8}d`),
  'ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp', ...Array.from({ length: 8 }, (_, i) => `r${i + 8}w`),
  'al', 'bl', 'cl', 'dl', 'ah', 'bh', 'ch', 'dh', 'sil', 'dil', 'bpl', 'spl', ...Array.from({ length: 8 }, (_, i) => `r${i + 8}b`),
  'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'rip', 'eip', 'ip',
  ...Array.from({ length: 16 }, (_, i) => `cr${i}`), ...Array.from({ length: 16 }, (_, i) => `dr${i}`), ...Array.from({ length: 8 }, (_, i) => `tr${i}`),
  ...Array.from({ length: 32 }, (_, i) => `xmm${i}`), ...Array.from({ length: 32 }, (_, i) => `ymm${i}`), ...Array.from({ length: 32 }, (_, i) => `zmm${i}`),
  ...Array.from({ length: 8 }, (_, i) => `mm${i}`), ...Array.from({ length: 8 }, (_, i) => `st${i}`), ...Array.from({ length: 8 }, (_, i) => `k${i}`),
  ...Array.from({ length: 4 }, (_, i) => `bnd${i}`), ...Array.from({ length: 8 }, (_, i) => `tmm${i}`), 'st',
].map(n);

const words = (list) => `(?i)\\b(?:${list.join('|')})\\b`;
const ID = '[A-Za-z_.?$@#~][A-Za-z0-9_.?$@#~]*';

const directives = ['section', 'segment', 'bits', 'use16', 'use32', 'use64', 'org', 'global', 'extern', 'required', 'common', 'static', 'default', 'absolute', 'cpu', 'float', 'warning', 'map', 'sectalign', 'align', 'alignb', 'struc', 'endstruc', 'istruc', 'iend', 'at', 'times', 'equ', 'incbin'];
const data = ['db', 'dw', 'dd', 'dq', 'dt', 'do', 'dy', 'dz', 'resb', 'resw', 'resd', 'resq', 'rest', 'reso', 'resy', 'resz'];
const sizes = ['byte', 'word', 'dword', 'qword', 'tword', 'oword', 'yword', 'zword', 'ptr'];
const modifiers = ['near', 'far', 'short', 'strict', 'nosplit', 'rel', 'abs', 'seg', 'wrt', 'to', '__\\?\\w+\\?__', '__\\w+__'];

const grammar = {
  $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
  name: 'x64 Assembly (NASM)',
  scopeName: 'source.x64asm',
  fileTypes: ['asm', 'nasm', 'inc'],
  patterns: [
    { include: '#comment' },
    { include: '#preprocessor' },
    { include: '#label' },
    { include: '#statement' },
  ],
  repository: {
    comment: { match: ';.*$', name: 'comment.line.semicolon.x64asm' },
    preprocessor: {
      patterns: [
        {
          begin: '^\\s*((%)(?i:i?macro|rmacro|irmacro))\\s+([A-Za-z_.?$@#~][\\w.?$@#~]*)',
          beginCaptures: { 1: { name: 'keyword.control.preprocessor.x64asm' }, 2: { name: 'punctuation.definition.preprocessor.x64asm' }, 3: { name: 'entity.name.function.macro.x64asm' } },
          end: '$', name: 'meta.preprocessor.macro.x64asm',
          patterns: [{ include: '#comment' }, { include: '#number' }, { match: '[-+*]', name: 'keyword.operator.x64asm' }],
        },
        {
          begin: '^\\s*((%)(?i:x?i?define|idefstr|defstr|deftok|assign|iassign|undef|strlen|substr|strcat|unmacro|defalias))\\s+([A-Za-z_.?$@#~][\\w.?$@#~]*)',
          beginCaptures: { 1: { name: 'keyword.control.preprocessor.x64asm' }, 2: { name: 'punctuation.definition.preprocessor.x64asm' }, 3: { name: 'entity.name.function.preprocessor.x64asm' } },
          end: '$', name: 'meta.preprocessor.define.x64asm',
          patterns: [{ include: '#comment' }, { include: '#operands' }],
        },
        {
          begin: '^\\s*((%)(?i:include|pathsearch|depend|use))\\b',
          beginCaptures: { 1: { name: 'keyword.control.import.x64asm' }, 2: { name: 'punctuation.definition.preprocessor.x64asm' } },
          end: '$', name: 'meta.preprocessor.include.x64asm',
          patterns: [{ include: '#comment' }, { include: '#string' }],
        },
        {
          match: '(%)(?i:end(?:macro|m|rep|if|while)|exitmacro|exitrep|rep|while|if\\w*|elif\\w*|else|error|warning|fatal|line|push|pop|repl|rotate|arg|stacksize|local|clear|pragma|\\+|\\*)\\b',
          name: 'keyword.control.preprocessor.x64asm', captures: { 1: { name: 'punctuation.definition.preprocessor.x64asm' } },
        },
      ],
    },
    label: {
      patterns: [
        { match: '^\\s*(\\.\\.@[\\w.?$@#~]*|\\.[A-Za-z_?$@#~][\\w.?$@#~]*)\\s*(:)', captures: { 1: { name: 'entity.name.function.label.local.x64asm' }, 2: { name: 'punctuation.separator.label.x64asm' } } },
        { match: `^\\s*(${ID})\\s*(:)`, captures: { 1: { name: 'entity.name.function.label.x64asm' }, 2: { name: 'punctuation.separator.label.x64asm' } } },
        // `name equ value` defines a constant; `name db ...` labels data (both without a colon).
        { match: `^\\s*(${ID})\\s+(?=(?i:equ|${data.join('|')})\\b)`, captures: { 1: { name: 'entity.name.constant.x64asm' } } },
      ],
    },
    statement: {
      patterns: [
        { include: '#comment' },
        { match: '\\[\\s*(?i:bits|section|segment|org|default|cpu|absolute|map|warning|global|extern)\\b[^\\]]*\\]', name: 'keyword.control.directive.x64asm' },
        { match: words(directives), name: 'keyword.control.directive.x64asm' },
        { match: words(data), name: 'storage.type.data.x64asm' },
        { match: words(mnemonics()), name: 'keyword.mnemonic.x64asm' },
        { include: '#operands' },
      ],
    },
    operands: {
      patterns: [
        { include: '#comment' },
        { include: '#string' },
        { include: '#number' },
        { match: '(?i)\\bst\\s*\\(\\s*[0-7]\\s*\\)', name: 'variable.language.register.x64asm' },
        { match: words(registers), name: 'variable.language.register.x64asm' },
        { match: words(sizes), name: 'storage.type.size.x64asm' },
        { match: words(modifiers), name: 'storage.modifier.x64asm' },
        { match: '%%[\\w.?$@#~]+', name: 'variable.other.macro-local.x64asm' },
        { match: '%(?:[0-9]+|\\{[^}]*\\}|[-+]?[0-9]+)', name: 'variable.parameter.macro.x64asm' },
        { match: '%[A-Za-z_?$@#~][\\w.?$@#~]*', name: 'variable.other.preprocessor.x64asm' },
        { match: '\\$\\$|\\$(?![0-9A-Za-z_])', name: 'variable.language.location.x64asm' },
        { match: '\\[|\\]', name: 'punctuation.definition.memory.x64asm' },
        { match: '\\{|\\}', name: 'punctuation.definition.decorator.x64asm' },
        { match: '<<<|>>>|<<|>>|//|%%|==|!=|<>|<=>|<=|>=|&&|\\|\\||\\^\\^|[-+*/%&|^~!<>?:]', name: 'keyword.operator.x64asm' },
        { match: ',', name: 'punctuation.separator.x64asm' },
        { match: '\\.[A-Za-z_?$@#~][\\w.?$@#~]*', name: 'variable.other.label.local.x64asm' },
        { match: ID, name: 'variable.other.label.x64asm' },
      ],
    },
    string: {
      patterns: [
        { begin: '"', end: '"|$', name: 'string.quoted.double.x64asm' },
        { begin: "'", end: "'|$", name: 'string.quoted.single.x64asm' },
        {
          begin: '`', end: '`|$', name: 'string.quoted.other.backtick.x64asm',
          patterns: [{ match: '\\\\(?:[\'"`\\\\?abtnvfre]|[0-7]{1,3}|x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})', name: 'constant.character.escape.x64asm' }],
        },
      ],
    },
    // NASM 3.4.1: hex 0x/0h/$digit/suffix h|x; binary 0b/0y/suffix b|y; octal 0o/0q/suffix o|q;
    // decimal 0d/0t/suffix d|t; underscores anywhere after the first digit; floats incl. hex floats.
    number: {
      patterns: [
        { match: '\\b(?:[0-9][0-9_]*\\.[0-9_]*(?:[eE][-+]?[0-9_]+)?|[0-9][0-9_]*[eE][-+]?[0-9_]+|0[xXhH][0-9A-Fa-f_]*\\.[0-9A-Fa-f_]*(?:[pP][-+]?[0-9_]+)?)\\b', name: 'constant.numeric.float.x64asm' },
        { match: '(?i)\\b(?:0[xh][0-9a-f_]+|[0-9][0-9a-f_]*[hx])\\b|\\$[0-9][0-9a-f_]*\\b', name: 'constant.numeric.hex.x64asm' },
        { match: '(?i)\\b(?:0[by][01_]+|[01][01_]*[by])\\b', name: 'constant.numeric.binary.x64asm' },
        { match: '(?i)\\b(?:0[oq][0-7_]+|[0-7][0-7_]*[oq])\\b', name: 'constant.numeric.octal.x64asm' },
        { match: '(?i)\\b(?:0[dt][0-9_]+|[0-9][0-9_]*[dt]?)\\b', name: 'constant.numeric.decimal.x64asm' },
      ],
    },
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('./x64asm.tmLanguage.json', import.meta.url), JSON.stringify(grammar, null, 2) + '\n');
  console.log('wrote syntaxes/x64asm.tmLanguage.json');
}
