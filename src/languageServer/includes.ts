// Definitions reachable through %include: an included file's labels, macros and constants
// are usable in the including file, so definition, hover and completion look there too.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AsmDocument, codeOf, type Definition } from './asmDocument';

export interface IncludedDefinition { uri: string; definition: Definition; doc: AsmDocument }

const MAX_DEPTH = 8;

/** The %include targets of a document, as written. */
export function includeTargets(doc: AsmDocument): string[] {
  const out: string[] = [];
  for (const line of doc.lines) {
    const m = /^\s*%include\s+(["'<])([^"'>]+)["'>]/i.exec(codeOf(line));
    if (m) out.push(m[2]);
  }
  return out;
}

/**
 * Definitions of every file the document includes, transitively, resolved like nasm does:
 * against the including file's folder first, then the extra include paths.
 * `read` returns an open editor's text for a path (unsaved edits win over the disk).
 */
export function includedDefinitions(doc: AsmDocument, docPath: string, read: (path: string) => string | undefined, includePaths: string[] = []): IncludedDefinition[] {
  const out: IncludedDefinition[] = [];
  const seen = new Set([docPath]);
  const visit = (d: AsmDocument, path: string, depth: number) => {
    if (depth > MAX_DEPTH) return;
    for (const target of includeTargets(d)) {
      const candidates = isAbsolute(target) ? [target] : [dirname(path), ...includePaths].map((dir) => resolve(dir, target));
      const found = candidates.find((c) => read(c) !== undefined || existsSync(c));
      if (!found || seen.has(found)) continue;
      seen.add(found);
      let text: string | undefined;
      try { text = read(found) ?? readFileSync(found, 'utf8'); } catch { continue; }
      const inc = new AsmDocument(text);
      const uri = pathToFileURL(found).href;
      for (const definition of inc.definitions) if (definition.kind !== 'section') out.push({ uri, definition, doc: inc });
      visit(inc, found, depth + 1);
    }
  };
  visit(doc, docPath, 0);
  return out;
}
