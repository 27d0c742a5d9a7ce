// Diagnostics from nasm itself: the unsaved text is written to a scratch file and assembled
// (include paths still resolve against the document's folder); nasm's `file:line: severity:
// message` lines become diagnostics on those lines.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface NasmDiagnostic {
  line: number;
  severity: 'error' | 'warning';
  message: string;
}

export type NasmResult = { available: false } | { available: true; diagnostics: NasmDiagnostic[] };

/** Output format that accepts this source: `org` exists only in bin, `bits 32` wants elf32. */
export function nasmFormatFor(text: string): string {
  if (/^\s*\[?\s*org\b/im.test(text)) return 'bin';
  if (/^\s*\[?\s*bits\s+32\b/im.test(text)) return 'elf32';
  return 'elf64';
}

const LINE = /^(.*?):(\d+): (error|warning|fatal|panic): (.*)$/;

export function parseNasmOutput(output: string, scratchFile: string, text: string): NasmDiagnostic[] {
  const out: NasmDiagnostic[] = [];
  const lines = text.split(/\r?\n/);
  for (const raw of output.split(/\r?\n/)) {
    const m = LINE.exec(raw.trim());
    if (!m) {
      const fatal = /^nasm: (?:fatal|error): (.*)$/.exec(raw.trim());
      if (fatal) out.push({ line: 0, severity: 'error', message: fatal[1] });
      continue;
    }
    const [, file, lineText, sev, message] = m;
    const severity = sev === 'warning' ? 'warning' : 'error';
    if (file === scratchFile || basename(file) === basename(scratchFile)) {
      out.push({ line: Math.min(Math.max(0, Number(lineText) - 1), lines.length - 1), severity, message });
    } else {
      // An error inside an included file: show it on the %include that pulls the file in.
      const inc = lines.findIndex((l) => /^\s*%include\b/i.test(l) && l.includes(basename(file)));
      out.push({ line: Math.max(0, inc), severity, message: `${basename(file)}:${lineText}: ${message}` });
    }
  }
  return out;
}

export function runNasm(nasm: string, documentPath: string | undefined, text: string): Promise<NasmResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-nasm-'));
  const name = documentPath ? basename(documentPath) : 'untitled.asm';
  const scratch = join(dir, name);
  writeFileSync(scratch, text);
  const cwd = documentPath ? dirname(documentPath) : dir;
  // The output goes to the scratch folder: nasm deletes its output file after an error.
  const args = ['-f', nasmFormatFor(text), '-I', `${cwd}/`, '-o', join(dir, 'out'), scratch];
  return new Promise((resolve) => {
    execFile(nasm, args, { cwd, timeout: 20_000 }, (err, _stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve({ available: false });
      else resolve({ available: true, diagnostics: parseNasmOutput(stderr, scratch, text) });
    });
  });
}
