// Guest symbols from an ELF image: names from the symbol tables and source lines from
// DWARF .debug_line. Answers address -> name+offset, name -> address, address -> source
// line and source line -> addresses, for the debugger's stack, disassembly and breakpoints.

import { dirname, resolve } from 'node:path';
import { isElf, parseElf, readElfSymbols } from '../loaders/elf';
import { readDebugLine } from './dwarfLine';

const SHN_ABS = 0xfff1;

export interface SymbolEntry { name: string; address: number; size: number; isFunction: boolean }
export interface SourceLocation { file: string; line: number; column: number }
interface Span { start: number; end: number; file: string; line: number; column: number; isStmt: boolean }

export class Symbols {
  private readonly byAddress: SymbolEntry[];
  private readonly byName = new Map<string, SymbolEntry>();
  /** Sorted, non-overlapping address spans, each the code of one line-table row. */
  private readonly spans: Span[];
  /** Problems met while reading (malformed DWARF units); the rest of the data is still used. */
  readonly warnings: string[];

  constructor(symbols: SymbolEntry[], spans: Span[], warnings: string[] = []) {
    this.byAddress = symbols.filter((s) => s.name !== '').sort((a, b) => a.address - b.address || b.size - a.size);
    for (const s of this.byAddress) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    this.spans = spans.sort((a, b) => a.start - b.start);
    this.warnings = warnings;
  }

  static empty(): Symbols { return new Symbols([], []); }

  /**
   * Reads an ELF image's symbols and line table. Relative source paths are resolved against
   * the image's directory (where nasm and gcc are usually run). Non-ELF data gives no symbols.
   */
  static fromElf(data: Uint8Array, file: string): Symbols {
    if (!isElf(data)) return Symbols.empty();
    const elf = parseElf(data, file);
    const syms = readElfSymbols(data, file, elf)
      // Defined NOTYPE/OBJECT/FUNC symbols; absolute NOTYPE ones are assembler constants (equ), not addresses.
      .filter((s) => s.type <= 2 && s.shndx !== 0 && !(s.shndx === SHN_ABS && s.type === 0))
      .map((s) => ({ name: s.name, address: s.value, size: s.size, isFunction: s.type === 2 || s.type === 0 }));
    const spans: Span[] = [];
    const warnings: string[] = [];
    const debugLine = elf.sectionData('.debug_line');
    if (debugLine) {
      const { units, errors } = readDebugLine(debugLine, { debugStr: elf.sectionData('.debug_str'), debugLineStr: elf.sectionData('.debug_line_str') }, elf.class === 64 ? 8 : 4);
      warnings.push(...errors);
      const base = dirname(file);
      for (const u of units) {
        const paths = u.files.map((f) => (f === '' ? '' : resolve(base, f)));
        for (let i = 0; i + 1 < u.rows.length; i++) {
          const r = u.rows[i], next = u.rows[i + 1];
          if (r.endSequence || next.address <= r.address) continue;
          spans.push({ start: r.address, end: next.address, file: paths[r.file] ?? '', line: r.line, column: r.column, isStmt: r.isStmt });
        }
      }
    }
    return new Symbols(syms, spans, warnings);
  }

  get hasLines(): boolean { return this.spans.length > 0; }
  /** Source files the line table mentions. */
  sourceFiles(): string[] { return [...new Set(this.spans.map((s) => s.file))].filter((f) => f !== ''); }
  all(): readonly SymbolEntry[] { return this.byAddress; }

  lookup(name: string): number | undefined { return this.byName.get(name)?.address; }

  /** The symbol at or below `address` (within its size when it has one), as name and offset. */
  nameAt(address: number): { name: string; offset: number } | undefined {
    const list = this.byAddress;
    let lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].address <= address) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    // Prefer the nearest symbol that contains the address; fall back to the nearest below.
    for (let i = found; i >= 0 && i > found - 16; i--) {
      const s = list[i];
      if (s.size > 0 && address < s.address + s.size) return { name: s.name, offset: address - s.address };
    }
    if (found < 0) return undefined;
    const s = list[found];
    return { name: s.name, offset: address - s.address };
  }

  formatAddress(address: number): string {
    const n = this.nameAt(address);
    return n ? (n.offset ? `${n.name}+0x${n.offset.toString(16)}` : n.name) : `0x${address.toString(16)}`;
  }

  lineAt(address: number): SourceLocation | undefined {
    const spans = this.spans;
    let lo = 0, hi = spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = spans[mid];
      if (address < s.start) hi = mid - 1;
      else if (address >= s.end) lo = mid + 1;
      else return { file: s.file, line: s.line, column: s.column };
    }
    return undefined;
  }

  /**
   * Addresses of the statements on `line` of the source file `file` (matched by full path, or
   * by path suffix when the caller's path and the producer's differ, e.g. on another machine).
   * If the line has no code, the next line that does is used, as debuggers place breakpoints.
   */
  addressesFor(file: string, line: number): { line: number; addresses: number[] } | undefined {
    const matches = this.spans.filter((s) => s.isStmt && sameFile(s.file, file));
    let best: number | undefined;
    for (const s of matches) if (s.line >= line && (best === undefined || s.line < best)) best = s.line;
    if (best === undefined) return undefined;
    const addrs = new Set<number>();
    let prevLine = -1, prevEnd = -1;
    for (const s of matches) {
      // First address of each run of the line (a line split by other lines gives several).
      if (s.line === best && !(prevLine === best && prevEnd === s.start)) addrs.add(s.start);
      prevLine = s.line; prevEnd = s.end;
    }
    return { line: best, addresses: [...addrs].sort((a, b) => a - b) };
  }
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  const na = a.replace(/\\/g, '/'), nb = b.replace(/\\/g, '/');
  return na.endsWith('/' + nb) || nb.endsWith('/' + na) || na.split('/').pop() === nb.split('/').pop() && (!na.includes('/') || !nb.includes('/'));
}
