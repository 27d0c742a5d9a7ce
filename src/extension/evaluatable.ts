// What a debug hover over guest assembly evaluates: a memory operand as a whole
// (`qword [rbp-8]`, read by the adapter through the guest's page tables), else the register,
// symbol or number under the cursor. VS Code's default would take only the word (`rbp`).

const SIZE = /\b(byte|word|dword|qword|tword|oword)\s*$/i;
const WORD = /[A-Za-z_.?$@#~][\w.?$@#~]*/g;

export interface Evaluatable { start: number; end: number; expression: string }

export function evaluatableAt(line: string, character: number): Evaluatable | undefined {
  const code = line.replace(/;.*$/, '');
  if (character >= code.length) return undefined;
  const open = code.lastIndexOf('[', character);
  const close = code.indexOf(']', open);
  if (open >= 0 && close >= character && !code.slice(open + 1, character).includes(']')) {
    const inner = code.slice(open + 1, close).replace(/\brel\s+/i, '').trim();
    const size = SIZE.exec(code.slice(0, open));
    const start = size ? open - size[0].length : open;
    // Without a size keyword the operand's width comes from the register; a qword shows it all.
    return { start, end: close + 1, expression: `${(size?.[1] ?? 'qword').toLowerCase()} [${inner}]` };
  }
  for (const m of code.matchAll(WORD)) {
    const start = m.index ?? 0;
    if (character >= start && character <= start + m[0].length) return { start, end: start + m[0].length, expression: m[0] };
  }
  return undefined;
}
