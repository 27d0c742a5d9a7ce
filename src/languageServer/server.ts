// The x64asm language server's request handlers over an LSP connection.
import type * as ls from 'vscode-languageserver-types';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { LspConnection, LspRuntime } from './lspConnection';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AsmDocument, type Definition, type DefinitionKind, type Range } from './asmDocument';
import { allMnemonics, exitNote, instructionForms, isMnemonic } from './instructionInfo';
import { describeRegister, registerNames } from './registers';
import { runNasm } from './nasmDiagnostics';
import { describeNumber, numberAt } from './nasmNumber';
import { codeOf } from './asmDocument';
import { includedDefinitions, type IncludedDefinition } from './includes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lsp = require('vscode-languageserver/node') as LspRuntime;

export interface ServerSettings {
  nasmPath: string;
  diagnostics: boolean;
  diagnosticsDelay: number;
}

const directives = ['section', 'segment', 'bits', 'org', 'global', 'extern', 'default', 'align', 'alignb', 'times', 'equ', 'cpu', 'absolute', 'common', 'static', 'struc', 'endstruc', 'istruc', 'at', 'iend', 'incbin',
  'db', 'dw', 'dd', 'dq', 'dt', 'do', 'dy', 'dz', 'resb', 'resw', 'resd', 'resq', 'rest', 'reso', 'resy', 'resz',
  '%define', '%xdefine', '%idefine', '%undef', '%assign', '%macro', '%imacro', '%endmacro', '%if', '%ifdef', '%ifndef', '%elif', '%else', '%endif', '%include', '%rep', '%endrep', '%error', '%warning', '%local', '%strlen', '%substr'];
const sizes = ['byte', 'word', 'dword', 'qword', 'tword', 'oword', 'yword', 'zword', 'rel', 'abs', 'near', 'far', 'short', 'strict'];

// LSP SymbolKind numbers: Namespace 3, Method 6, Function 12, Variable 13, Constant 14, Key 20, Struct 23.
const symbolKinds: Record<DefinitionKind, ls.SymbolKind> = {
  section: 3, label: 12, localLabel: 20, data: 13, macro: 6, define: 14, constant: 14, struc: 23,
};

const toRange = (r: Range): ls.Range => ({ start: { line: r.line, character: r.start }, end: { line: r.line, character: r.end } });

export function documentSymbols(doc: AsmDocument): ls.DocumentSymbol[] {
  const node = (d: Definition): ls.DocumentSymbol => ({
    name: d.text,
    detail: d.detail ?? (d.kind === 'localLabel' ? `local label of ${d.parent}` : d.kind),
    kind: symbolKinds[d.kind],
    range: { start: { line: d.range.line, character: 0 }, end: { line: d.endLine, character: doc.lines[d.endLine]?.length ?? 0 } },
    selectionRange: toRange(d.range),
    children: [],
  });
  const roots: ls.DocumentSymbol[] = [];
  let section: ls.DocumentSymbol | undefined;
  let label: ls.DocumentSymbol | undefined;
  for (const d of doc.definitions) {
    const n = node(d);
    if (d.kind === 'section') { section = n; label = undefined; roots.push(n); continue; }
    if (d.kind === 'localLabel' && label) { label.children!.push(n); continue; }
    if (d.kind === 'label' || d.kind === 'data') label = n;
    (section && d.range.line <= section.range.end.line ? section.children! : roots).push(n);
  }
  return roots;
}

export function hover(doc: AsmDocument, line: number, character: number, included: IncludedDefinition[] = []): ls.Hover | undefined {
  const num = numberAt(codeOf(doc.lines[line] ?? ''), character);
  if (num) return { range: { start: { line, character: num.start }, end: { line, character: num.end } }, contents: { kind: 'markdown', value: describeNumber(num.value) } };
  const word = doc.wordAt(line, character);
  if (!word) return undefined;
  const range = { start: { line, character: word.start }, end: { line, character: word.end } };
  const resolved = doc.nameAt(line, character);
  const defs = resolved ? doc.definitionsOf(resolved.name) : [];
  const where = defs.length ? { d: defs[0], doc, file: '' } : (() => {
    const inc = resolved && included.find((i) => i.definition.name === resolved.name);
    return inc ? { d: inc.definition, doc: inc.doc, file: ` of ${decodeURIComponent(inc.uri.replace(/^.*\//, ''))}` } : undefined;
  })();
  if (where) {
    const { d } = where;
    return { range, contents: { kind: 'markdown', value: `**${d.name}** — ${d.kind === 'localLabel' ? 'local label' : d.kind}, line ${d.range.line + 1}${where.file}\n\n\`\`\`x64asm\n${where.doc.lines[d.range.line].trim()}\n\`\`\`` } };
  }
  const reg = describeRegister(word.text);
  if (reg) return { range, contents: { kind: 'markdown', value: reg } };
  const all = instructionForms(word.text);
  if (all.length) {
    // Forms valid where the cursor is (the `bits` in effect) first; the rest are counted.
    const bits = doc.bitsAt(line);
    const valid = all.filter((f) => f.modes.split('/').includes(String(bits)));
    const forms = valid.length ? valid : all;
    const shown = forms.slice(0, 24);
    const table = ['| form | encoding | modes |', '| --- | --- | --- |', ...shown.map((f) => `| \`${f.instruction}\` | \`${f.opcode}\` | ${f.modes} |`)];
    if (forms.length > shown.length) table.push(`| … ${forms.length - shown.length} more | | |`);
    const other = all.length - forms.length;
    const note = exitNote(word.text);
    const title = `**${word.text.toLowerCase()}** — ${forms.length} form${forms.length === 1 ? '' : 's'}${valid.length ? ` in ${bits}-bit code` : ''}${other ? ` (${other} more in other modes)` : ''} (iced-x86)`;
    return { range, contents: { kind: 'markdown', value: `${title}\n\n${table.join('\n')}${note ? `\n\n**vpdbg:** ${note}` : ''}` } };
  }
  return undefined;
}

export function completions(doc: AsmDocument, line: number, character: number, included: IncludedDefinition[] = []): ls.CompletionItem[] {
  const K = { keyword: 14, variable: 6, function: 3, constant: 21, module: 9, snippet: 15, field: 5, struct: 22 } as const;
  const defKind: Record<DefinitionKind, number> = { label: K.function, localLabel: K.field, data: K.variable, section: K.module, macro: K.snippet, define: K.constant, constant: K.constant, struc: K.struct };
  const items: ls.CompletionItem[] = [];
  const seen = new Set<string>();
  const add = (label: string, kind: number, detail?: string, data?: unknown) => {
    if (seen.has(label)) return;
    seen.add(label);
    items.push({ label, kind: kind as ls.CompletionItemKind, detail, data });
  };
  // Local labels of included files are not reachable from here; everything else is.
  const defs = [...doc.definitions, ...included.map((i) => i.definition).filter((d) => d.kind !== 'localLabel')];
  if (doc.isStatementStart(line, character)) {
    for (const m of allMnemonics()) add(m, K.keyword, undefined, { mnemonic: m });
    for (const d of directives) add(d, K.keyword, 'NASM directive');
    for (const d of defs) if (d.kind === 'macro') add(d.name, K.snippet, d.detail ?? 'macro');
  } else {
    for (const r of registerNames) add(r, K.variable, 'register');
    for (const s of sizes) add(s, K.keyword, 'NASM operand keyword');
    for (const d of defs) {
      if (d.kind === 'section') continue;
      add(d.kind === 'localLabel' ? d.text : d.name, defKind[d.kind], d.kind === 'localLabel' ? `local label of ${d.parent}` : d.kind);
    }
  }
  return items;
}

export function resolveCompletion(item: ls.CompletionItem): ls.CompletionItem {
  const m = (item.data as { mnemonic?: string } | undefined)?.mnemonic;
  if (!m) return item;
  const forms = instructionForms(m);
  if (forms.length) {
    item.detail = forms[0].instruction;
    item.documentation = { kind: 'markdown', value: forms.slice(0, 12).map((f) => `\`${f.instruction}\` — \`${f.opcode}\``).join('  \n') + (exitNote(m) ? `\n\n**vpdbg:** ${exitNote(m)}` : '') };
  }
  return item;
}

export function documentHighlights(doc: AsmDocument, name: string): ls.DocumentHighlight[] {
  const defs = new Set(doc.definitionsOf(name).map((d) => `${d.range.line}:${d.range.start}`));
  return doc.references(name, true).map((r) => ({ range: toRange(r), kind: defs.has(`${r.line}:${r.start}`) ? 3 : 2 }));
}

const IDENTIFIER = /^[A-Za-z_.?$@#~][\w.?$@#~]*$/;

/**
 * Text edits renaming a symbol everywhere in the document. A local label keeps its dot and
 * is rewritten both where it is written short (`.loop`) and in full (`main.loop`).
 */
export function renameEdits(doc: AsmDocument, name: string, newName: string): ls.TextEdit[] {
  const defs = doc.definitionsOf(name);
  if (defs.length === 0) throw new Error(`${name} is not defined in this file.`);
  const local = defs[0].kind === 'localLabel';
  const parent = defs[0].parent ?? '';
  const newText = local && !newName.startsWith('.') ? `.${newName}` : newName;
  if (!IDENTIFIER.test(newText)) throw new Error(`'${newName}' is not a NASM identifier.`);
  const newFull = local ? `${parent}${newText}` : newText;
  if (newFull !== name && doc.definitionsOf(newFull).length) throw new Error(`${newFull} is already defined on line ${doc.definitionsOf(newFull)[0].range.line + 1}.`);
  return doc.references(name, true).map((r) => {
    const written = doc.lines[r.line].slice(r.start, r.end);
    return { range: toRange(r), newText: local && !written.startsWith('.') ? `${parent}${newText}` : newText };
  });
}

export function startServer(connection: LspConnection): void {
  const documents = new lsp.TextDocuments(TextDocument);
  const parsed = new Map<string, { version: number; doc: AsmDocument }>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  let settings: ServerSettings = { nasmPath: 'nasm', diagnostics: true, diagnosticsDelay: 500 };
  let nasmMissing = false;

  const asm = (uri: string): AsmDocument | undefined => {
    const td = documents.get(uri);
    if (!td) return undefined;
    const cached = parsed.get(uri);
    if (cached && cached.version === td.version) return cached.doc;
    const doc = new AsmDocument(td.getText());
    parsed.set(uri, { version: td.version, doc });
    return doc;
  };

  const lint = async (uri: string) => {
    const td = documents.get(uri);
    // An include file is not a translation unit: assembled alone it only reports noise.
    if (!td || !settings.diagnostics || nasmMissing || /\.inc$/i.test(uri)) return;
    const version = td.version;
    const path = uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
    const result = await runNasm(settings.nasmPath, path, td.getText());
    if (!result.available) {
      nasmMissing = true;
      connection.window.showInformationMessage(`vpdbg: nasm not found (${settings.nasmPath}); install it (sudo apt install nasm) for assembler diagnostics.`);
      return;
    }
    if (documents.get(uri)?.version !== version) return; // stale: a newer run is scheduled
    const lines = td.getText().split(/\r?\n/);
    void connection.sendDiagnostics({
      uri,
      version,
      diagnostics: result.diagnostics.map((d) => ({
        range: { start: { line: d.line, character: lines[d.line]?.search(/\S/) ?? 0 }, end: { line: d.line, character: lines[d.line]?.length ?? 0 } },
        severity: (d.severity === 'error' ? 1 : 2) as ls.DiagnosticSeverity,
        source: 'nasm',
        message: d.message,
      })),
    });
  };
  const schedule = (uri: string, delay: number) => {
    clearTimeout(timers.get(uri));
    timers.set(uri, setTimeout(() => { timers.delete(uri); void lint(uri); }, delay));
  };

  connection.onInitialize((params) => {
    const o = (params.initializationOptions ?? {}) as Partial<ServerSettings>;
    settings = { ...settings, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: 2 /* Incremental */, save: { includeText: false } },
        documentSymbolProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        renameProvider: { prepareProvider: true },
        hoverProvider: true,
        completionProvider: { resolveProvider: true, triggerCharacters: ['.', '%'] },
      },
      serverInfo: { name: 'vpdbg-asm' },
    };
  });
  connection.onDidChangeConfiguration((change) => {
    const s = (change.settings?.vpdbg ?? {}) as { nasmPath?: string; diagnostics?: { enabled?: boolean; delay?: number } };
    settings = { nasmPath: s.nasmPath ?? settings.nasmPath, diagnostics: s.diagnostics?.enabled ?? settings.diagnostics, diagnosticsDelay: s.diagnostics?.delay ?? settings.diagnosticsDelay };
    nasmMissing = false;
    documents.all().forEach((d) => schedule(d.uri, 0));
  });

  documents.onDidOpen((e) => schedule(e.document.uri, 0));
  documents.onDidChangeContent((e) => schedule(e.document.uri, settings.diagnosticsDelay));
  documents.onDidSave((e) => schedule(e.document.uri, 0));
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    parsed.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onDocumentSymbol((p) => { const d = asm(p.textDocument.uri); return d ? documentSymbols(d) : []; });
  const included = (uri: string, doc: AsmDocument): IncludedDefinition[] => {
    if (!uri.startsWith('file:')) return [];
    const open = (path: string) => documents.get(pathToFileURL(path).href)?.getText();
    return includedDefinitions(doc, fileURLToPath(uri), open);
  };
  connection.onDefinition((p) => {
    const d = asm(p.textDocument.uri);
    const hit = d?.nameAt(p.position.line, p.position.character);
    if (!d || !hit) return [];
    const local = d.definitionsOf(hit.name).map((def) => ({ uri: p.textDocument.uri, range: toRange(def.range) }));
    if (local.length) return local;
    return included(p.textDocument.uri, d).filter((i) => i.definition.name === hit.name).map((i) => ({ uri: i.uri, range: toRange(i.definition.range) }));
  });
  connection.onReferences((p) => {
    const d = asm(p.textDocument.uri);
    const hit = d?.nameAt(p.position.line, p.position.character);
    if (!d || !hit || isMnemonic(hit.name) || describeRegister(hit.name)) return [];
    return d.references(hit.name, p.context.includeDeclaration).map((r) => ({ uri: p.textDocument.uri, range: toRange(r) }));
  });
  connection.onDocumentHighlight((p) => {
    const d = asm(p.textDocument.uri);
    const hit = d?.nameAt(p.position.line, p.position.character);
    if (!d || !hit || d.definitionsOf(hit.name).length === 0) return [];
    return documentHighlights(d, hit.name);
  });
  connection.onPrepareRename((p) => {
    const d = asm(p.textDocument.uri);
    const hit = d?.nameAt(p.position.line, p.position.character);
    if (!d || !hit || d.definitionsOf(hit.name).length === 0) throw new Error('Only labels, constants and macros defined in this file can be renamed.');
    return { range: toRange(hit.range), placeholder: d.lines[hit.range.line].slice(hit.range.start, hit.range.end) };
  });
  connection.onRenameRequest((p) => {
    const d = asm(p.textDocument.uri);
    const hit = d?.nameAt(p.position.line, p.position.character);
    if (!d || !hit) return null;
    return { changes: { [p.textDocument.uri]: renameEdits(d, hit.name, p.newName) } };
  });
  connection.onHover((p) => { const d = asm(p.textDocument.uri); return d ? hover(d, p.position.line, p.position.character, included(p.textDocument.uri, d)) : undefined; });
  connection.onCompletion((p) => { const d = asm(p.textDocument.uri); return d ? completions(d, p.position.line, p.position.character, included(p.textDocument.uri, d)) : []; });
  connection.onCompletionResolve(resolveCompletion);

  documents.listen(connection);
  connection.listen();
}
