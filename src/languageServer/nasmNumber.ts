// NASM integer literals (NASM manual 3.4.1), shared by the language server's hover and the
// extension's reading of `org`.

/** 0x1F, 0h1F, 1Fh, $1F, 0b101, 101b, 0y101, 0o17, 17q, 0d99, 99d, 0t99, with _ separators. */
export function parseNasmNumber(text: string): number | undefined {
  const t = text.replace(/_/g, '').toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^(?:0[xh]|\$(?=[0-9]))([0-9a-f]+)$/.exec(t)) || (m = /^([0-9][0-9a-f]*)[hx]$/.exec(t))) return parseInt(m[1], 16);
  if ((m = /^0[by]([01]+)$/.exec(t)) || (m = /^([01]+)[by]$/.exec(t))) return parseInt(m[1], 2);
  if ((m = /^0[oq]([0-7]+)$/.exec(t)) || (m = /^([0-7]+)[oq]$/.exec(t))) return parseInt(m[1], 8);
  if ((m = /^0[dt]([0-9]+)$/.exec(t)) || (m = /^([0-9]+)[dt]?$/.exec(t))) return parseInt(m[1], 10);
  return undefined;
}

/** The number literal under a column, if any. */
export function numberAt(code: string, character: number): { text: string; start: number; end: number; value: number } | undefined {
  const re = /\$[0-9][0-9a-fA-F_]*|\b[0-9][0-9a-zA-Z_]*/g;
  for (let m; (m = re.exec(code));) {
    const start = m.index;
    const end = start + m[0].length;
    if (character < start || character > end) continue;
    const value = parseNasmNumber(m[0]);
    return value === undefined ? undefined : { text: m[0], start, end, value };
  }
  return undefined;
}

/** A number in the bases an assembly programmer reads. */
export function describeNumber(value: number): string {
  const hex = value.toString(16).toUpperCase();
  const bin = value.toString(2).replace(/\B(?=(\d{4})+(?!\d))/g, '_');
  const signed = value >= 2 ** 31 && value < 2 ** 32 ? ` · as int32 ${value - 2 ** 32}` : '';
  return `\`0x${hex}\` · \`${value}\` · \`0b${bin}\` · \`0o${value.toString(8)}\`${signed}`;
}
