// A NASM source as the language server sees it: its definitions (labels, local labels,
// sections, macros, %define/%assign, equ constants, strucs) and every identifier token,
// so symbols, definition, references and completion all come from one scan.

export type DefinitionKind = 'label' | 'localLabel' | 'data' | 'section' | 'macro' | 'define' | 'constant' | 'struc';

export interface Range { line: number; start: number; end: number }

export interface Definition {
  /** Full name: local labels carry their parent (`main.loop`). */
  name: string;
  /** As written at the definition (`.loop`). */
  text: string;
  kind: DefinitionKind;
  range: Range;
  /** Line range the definition covers (a label until the next label, a section until the next section). */
  endLine: number;
  parent?: string;
  detail?: string;
}

export interface Token {
  /** Resolved full name (local labels expanded against the enclosing label). */
  name: string;
  range: Range;
}

const ID = /[A-Za-z_.?$@#~%][\w.?$@#~]*/y;
const DATA = /^(?:db|dw|dd|dq|dt|do|dy|dz|resb|resw|resd|resq|rest|reso|resy|resz|times|incbin)$/i;
const NOT_LABELS = /^(?:section|segment|bits|org|global|extern|default|align|alignb|cpu|absolute|common|static|struc|endstruc|istruc|iend|at|equ|use16|use32|use64|times)$/i;

/** Removes a trailing comment, keeping string contents intact; returns the code part. */
export function codeOf(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '`') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === ';') return line.slice(0, i);
  }
  return line;
}

/** Identifier tokens outside strings, with their columns. */
export function identifiers(code: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i];
    if (c === '"' || c === "'" || c === '`') {
      const close = code.indexOf(c, i + 1);
      i = close < 0 ? code.length : close + 1;
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < code.length && /[\w.]/.test(code[i])) i++;
      continue;
    }
    ID.lastIndex = i;
    const m = ID.exec(code);
    if (m && !(c === '$' && /[0-9]/.test(code[i + 1] ?? ''))) {
      out.push({ text: m[0], start: i });
      i += m[0].length;
    } else i++;
  }
  return out;
}

export class AsmDocument {
  readonly definitions: Definition[] = [];
  readonly tokens: Token[] = [];
  readonly lines: string[];

  constructor(text: string) {
    this.lines = text.split(/\r?\n/);
    this.scan();
  }

  private scan(): void {
    let parent: string | undefined;
    let inMacro = false;
    const open: Definition[] = [];
    const close = (kinds: DefinitionKind[], line: number) => {
      for (let i = open.length - 1; i >= 0; i--) if (kinds.includes(open[i].kind)) { open[i].endLine = line; open.splice(i, 1); }
    };
    this.lines.forEach((raw, line) => {
      const code = codeOf(raw);
      const ids = identifiers(code);
      if (ids.length === 0) return;
      const first = ids[0];
      const def = (name: string, text: string, kind: DefinitionKind, start: number, detail?: string, owner?: string) => {
        const d: Definition = { name, text, kind, range: { line, start, end: start + text.length }, endLine: line, detail, parent: owner };
        this.definitions.push(d);
        return d;
      };
      let skip = 0; // tokens consumed as definitions
      const lower = first.text.toLowerCase();
      if (/^%i?macro$/i.test(first.text) && ids[1]) {
        def(ids[1].text, ids[1].text, 'macro', ids[1].start, code.slice(ids[1].start).trim());
        inMacro = true;
        skip = 2;
      } else if (/^%endm(acro)?$/i.test(first.text)) {
        const m = [...this.definitions].reverse().find((d) => d.kind === 'macro');
        if (m) m.endLine = line;
        inMacro = false;
        skip = 1;
      } else if (/^%(x|i|xi)?define$|^%i?assign$|^%(i)?defstr$|^%deftok$/i.test(first.text) && ids[1]) {
        def(ids[1].text, ids[1].text, 'define', ids[1].start, code.slice(ids[1].start + ids[1].text.length).trim());
        skip = 2;
      } else if ((lower === 'section' || lower === 'segment') && ids[1]) {
        close(['section'], line - 1);
        open.push(def(ids[1].text, ids[1].text, 'section', ids[1].start));
        skip = 2;
      } else if (lower === 'struc' && ids[1]) {
        open.push(def(ids[1].text, ids[1].text, 'struc', ids[1].start));
        parent = ids[1].text;
        skip = 2;
      } else if (lower === 'endstruc') {
        close(['struc'], line);
        skip = 1;
      } else if (first.start === code.search(/\S/) && !first.text.startsWith('%') && !NOT_LABELS.test(first.text)) {
        const after = code.slice(first.start + first.text.length);
        const colon = /^\s*:/.test(after);
        const next = ids[1]?.text ?? '';
        const isEqu = /^equ$/i.test(next);
        const isData = DATA.test(next);
        if (colon || isEqu || isData) {
          const local = first.text.startsWith('.') && !first.text.startsWith('..@');
          const name = local && parent ? `${parent}${first.text}` : first.text;
          const kind: DefinitionKind = isEqu ? 'constant' : local ? 'localLabel' : isData ? 'data' : 'label';
          if (!inMacro || !first.text.startsWith('%%')) {
            if (kind === 'label' || kind === 'data') { close(['label', 'data', 'localLabel'], line - 1); parent = first.text; }
            if (kind === 'localLabel') close(['localLabel'], line - 1);
            const d = def(name, first.text, kind, first.start, isEqu ? code.slice(code.toLowerCase().indexOf('equ', first.start + first.text.length) + 3).trim() : undefined, local ? parent : undefined);
            if (kind !== 'constant') open.push(d);
          }
          skip = 1;
        }
      }
      ids.slice(skip).forEach((t) => {
        const name = t.text.startsWith('.') && !t.text.startsWith('..@') && parent ? `${parent}${t.text}` : t.text;
        this.tokens.push({ name, range: { line, start: t.start, end: t.start + t.text.length } });
      });
    });
    for (const d of open) d.endLine = this.lines.length - 1;
  }

  /** The token (or definition name) under a position. */
  nameAt(line: number, character: number): { name: string; range: Range } | undefined {
    const hit = (r: Range) => r.line === line && character >= r.start && character <= r.end;
    const d = this.definitions.find((x) => hit(x.range));
    if (d) return { name: d.name, range: d.range };
    const t = this.tokens.find((x) => hit(x.range));
    return t ? { name: t.name, range: t.range } : undefined;
  }

  /** Definitions by name (NASM identifiers are case-sensitive). */
  definitionsOf(name: string): Definition[] {
    return this.definitions.filter((d) => d.name === name);
  }

  references(name: string, includeDeclaration: boolean): Range[] {
    const refs = this.tokens.filter((t) => t.name === name).map((t) => t.range);
    if (includeDeclaration) refs.unshift(...this.definitions.filter((d) => d.name === name).map((d) => d.range));
    return refs;
  }

  /** Word range at a position for hover (mnemonics and registers are not tokens we resolve). */
  wordAt(line: number, character: number): { text: string; start: number; end: number } | undefined {
    const code = codeOf(this.lines[line] ?? '');
    return identifiers(code).map((t) => ({ text: t.text, start: t.start, end: t.start + t.text.length })).find((t) => character >= t.start && character <= t.end);
  }

  /** The `bits` in effect on a line: the last `bits N` / `[bits N]` above it, else 64 (nasm's elf64 default). */
  bitsAt(line: number): 16 | 32 | 64 {
    for (let i = Math.min(line, this.lines.length - 1); i >= 0; i--) {
      const m = /^\s*\[?\s*(?:bits\s+(16|32|64)|use(16|32|64))\b/i.exec(codeOf(this.lines[i]));
      if (m) return Number(m[1] ?? m[2]) as 16 | 32 | 64;
    }
    return 64;
  }

  /** True if the position is where an instruction or directive name goes (first word after an optional label). */
  isStatementStart(line: number, character: number): boolean {
    const code = codeOf(this.lines[line] ?? '').slice(0, character);
    return /^\s*(?:[A-Za-z_.?$@#~][\w.?$@#~]*\s*:\s*)?[A-Za-z_.%]*$/.test(code);
  }
}
