// DWARF .debug_line reader (versions 2 to 5): runs each line-number program and returns
// its rows. This is the part of DWARF a source-level debugger of assembly and C guests
// needs for breakpoints and stack-less stepping; it reads nothing else (no .debug_info).
// Every read is bounds-checked; a malformed unit ends that unit, never the process.

export interface LineRow {
  address: number;
  /** Index into LineTable.files. */
  file: number;
  line: number;
  column: number;
  isStmt: boolean;
  /** First address past a sequence: no code lives here for this sequence. */
  endSequence: boolean;
}

export interface LineUnit {
  version: number;
  /** Paths as the producer wrote them, joined with their include directory. */
  files: string[];
  rows: LineRow[];
}

export class DwarfError extends Error {}

class Cursor {
  readonly view: DataView;
  constructor(readonly data: Uint8Array, public pos: number, public end: number) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  need(n: number): void { if (this.pos + n > this.end) throw new DwarfError(`.debug_line: read past the end of a unit at offset ${this.pos}`); }
  u8(): number { this.need(1); return this.data[this.pos++]; }
  i8(): number { const v = this.u8(); return v >= 0x80 ? v - 0x100 : v; }
  u16(): number { this.need(2); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(): number { this.need(8); const v = this.view.getBigUint64(this.pos, true); this.pos += 8; return Number(v); }
  uN(n: number): number {
    if (n === 1) return this.u8();
    if (n === 2) return this.u16();
    if (n === 4) return this.u32();
    if (n === 8) return this.u64();
    throw new DwarfError(`.debug_line: unsupported address size ${n}`);
  }
  uleb(): number {
    let result = 0, mul = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return result;
      if (mul > 2 ** 63) throw new DwarfError('.debug_line: LEB128 value too long');
    }
  }
  sleb(): number {
    let result = 0, mul = 1, b: number;
    do {
      b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (mul > 2 ** 63) throw new DwarfError('.debug_line: LEB128 value too long');
    } while (b & 0x80);
    if (b & 0x40) result -= mul;
    return result;
  }
  cstring(): string {
    let e = this.pos;
    while (e < this.end && this.data[e] !== 0) e++;
    if (e >= this.end) throw new DwarfError('.debug_line: unterminated string');
    const s = Buffer.from(this.data.subarray(this.pos, e)).toString('utf8');
    this.pos = e + 1;
    return s;
  }
}

function strAt(section: Uint8Array | undefined, offset: number, name: string): string {
  if (!section || offset >= section.length) throw new DwarfError(`.debug_line: string offset ${offset} outside ${name}`);
  let e = offset;
  while (e < section.length && section[e] !== 0) e++;
  return Buffer.from(section.subarray(offset, e)).toString('utf8');
}

// DW_FORM codes that can appear in v5 directory/file entry formats.
const FORM = { block: 0x09, block1: 0x0a, data1: 0x0b, data2: 0x05, data4: 0x06, data8: 0x07, data16: 0x1e, string: 0x08, strp: 0x0e, lineStrp: 0x1f, udata: 0x0f, strx: 0x1a, strx1: 0x25, strx2: 0x26, strx4: 0x28 };
const LNCT_PATH = 1, LNCT_DIRECTORY_INDEX = 2;

interface Sections { debugStr?: Uint8Array; debugLineStr?: Uint8Array }

function readForm(c: Cursor, form: number, offsetSize: number, s: Sections): string | number | undefined {
  switch (form) {
    case FORM.string: return c.cstring();
    case FORM.lineStrp: return strAt(s.debugLineStr, c.uN(offsetSize), '.debug_line_str');
    case FORM.strp: return strAt(s.debugStr, c.uN(offsetSize), '.debug_str');
    case FORM.udata: return c.uleb();
    case FORM.data1: return c.u8();
    case FORM.data2: return c.u16();
    case FORM.data4: return c.u32();
    case FORM.data8: return c.u64();
    case FORM.data16: c.need(16); c.pos += 16; return undefined;
    case FORM.block: { const n = c.uleb(); c.need(n); c.pos += n; return undefined; }
    case FORM.block1: { const n = c.u8(); c.need(n); c.pos += n; return undefined; }
    default: throw new DwarfError(`.debug_line: unsupported form 0x${form.toString(16)} in an entry format`);
  }
}

function readEntryTable(c: Cursor, offsetSize: number, s: Sections): { path: string; dir: number }[] {
  const formatCount = c.u8();
  const formats: [number, number][] = [];
  for (let i = 0; i < formatCount; i++) formats.push([c.uleb(), c.uleb()]);
  const count = c.uleb();
  const out: { path: string; dir: number }[] = [];
  for (let i = 0; i < count; i++) {
    let path = '', dir = 0;
    for (const [kind, form] of formats) {
      const v = readForm(c, form, offsetSize, s);
      if (kind === LNCT_PATH && typeof v === 'string') path = v;
      else if (kind === LNCT_DIRECTORY_INDEX && typeof v === 'number') dir = v;
    }
    out.push({ path, dir });
  }
  return out;
}

function joinPath(dir: string | undefined, name: string): string {
  if (!dir || name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** Parses every unit of a .debug_line section. Units that are malformed are reported in `errors` and skipped. */
export function readDebugLine(debugLine: Uint8Array, sections: Sections = {}, defaultAddressSize = 8): { units: LineUnit[]; errors: string[] } {
  const units: LineUnit[] = [];
  const errors: string[] = [];
  let pos = 0;
  while (pos + 4 <= debugLine.length) {
    const head = new Cursor(debugLine, pos, debugLine.length);
    let unitLength = head.u32();
    let offsetSize = 4;
    if (unitLength === 0xffffffff) { unitLength = head.u64(); offsetSize = 8; }
    const end = head.pos + unitLength;
    if (unitLength === 0 || end > debugLine.length) { errors.push(`.debug_line unit at ${pos}: length ${unitLength} runs past the section`); break; }
    try {
      units.push(readUnit(new Cursor(debugLine, head.pos, end), offsetSize, sections, defaultAddressSize));
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      errors.push(`.debug_line unit at ${pos}: ${e.message}`);
    }
    pos = end;
  }
  return { units, errors };
}

function readUnit(c: Cursor, offsetSize: number, s: Sections, defaultAddressSize: number): LineUnit {
  const version = c.u16();
  if (version < 2 || version > 5) throw new DwarfError(`unsupported .debug_line version ${version}`);
  let addressSize = defaultAddressSize;
  if (version >= 5) { addressSize = c.u8(); c.u8(); /* segment selector size */ }
  const headerLength = c.uN(offsetSize);
  const programStart = c.pos + headerLength;
  const minInst = c.u8();
  if (version >= 4) c.u8(); // maximum_operations_per_instruction (VLIW only)
  const defaultIsStmt = c.u8() !== 0;
  const lineBase = c.i8();
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  if (lineRange === 0) throw new DwarfError('line_range is 0');
  const opLengths = [0];
  for (let i = 1; i < opcodeBase; i++) opLengths.push(c.u8());

  const files: string[] = [];
  if (version >= 5) {
    const dirs = readEntryTable(c, offsetSize, s).map((d) => d.path);
    for (const f of readEntryTable(c, offsetSize, s)) files.push(joinPath(dirs[f.dir], f.path));
  } else {
    const dirs = [''];
    for (let d = c.cstring(); d !== ''; d = c.cstring()) dirs.push(d);
    files.push(''); // v2-4 file numbers start at 1
    for (let f = c.cstring(); f !== ''; f = c.cstring()) {
      const dir = c.uleb(); c.uleb(); c.uleb();
      files.push(joinPath(dirs[dir], f));
    }
  }
  c.pos = programStart;

  const rows: LineRow[] = [];
  let address = 0, file = 1, line = 1, column = 0, isStmt = defaultIsStmt;
  const reset = () => { address = 0; file = 1; line = 1; column = 0; isStmt = defaultIsStmt; };
  const emit = (endSequence: boolean) => rows.push({ address, file, line, column, isStmt, endSequence });
  while (c.pos < c.end) {
    const op = c.u8();
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      address += Math.floor(adj / lineRange) * minInst;
      line += lineBase + (adj % lineRange);
      emit(false);
      continue;
    }
    switch (op) {
      case 0: {
        const len = c.uleb();
        const next = c.pos + len;
        if (len === 0 || next > c.end) throw new DwarfError('bad extended opcode length');
        const sub = c.u8();
        if (sub === 1) { emit(true); reset(); }
        else if (sub === 2) address = c.uN(len - 1 === 4 || len - 1 === 8 || len - 1 === 2 ? len - 1 : addressSize);
        else if (sub === 3) { const f = c.cstring(); c.uleb(); c.uleb(); c.uleb(); files.push(f); }
        c.pos = next; // also skips DW_LNE_set_discriminator and vendor opcodes
        break;
      }
      case 1: emit(false); break;
      case 2: address += c.uleb() * minInst; break;
      case 3: line += c.sleb(); break;
      case 4: file = c.uleb(); break;
      case 5: column = c.uleb(); break;
      case 6: isStmt = !isStmt; break;
      case 7: break;
      case 8: address += Math.floor((255 - opcodeBase) / lineRange) * minInst; break;
      case 9: address += c.u16(); break;
      case 10: case 11: break;
      case 12: c.uleb(); break;
      default: for (let i = 0; i < opLengths[op]; i++) c.uleb();
    }
  }
  return { version, files, rows };
}
