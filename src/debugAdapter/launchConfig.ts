// Validation of the `vpdbg` launch configuration. Each bad value yields an error that
// names the field and says what is allowed; nothing here touches the machine.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { MAX_MEMORY_BYTES } from '../machine/machine';

export type ImageFormat = 'auto' | 'elf' | 'multiboot' | 'flat';
export type CpuMode = 'real' | 'protected' | 'long';
export type SerialTarget = 'console' | 'terminal' | 'none';

export interface CpuidOverride { leaf: number; subleaf?: number; eax?: number; ebx?: number; ecx?: number; edx?: number }

export interface LaunchConfig {
  program: string;
  format: ImageFormat;
  loadAddress?: bigint;
  entry?: bigint | string;
  mode?: CpuMode;
  memoryBytes: number;
  processors: number;
  stopOnEntry: boolean;
  cmdline?: string;
  serial: SerialTarget;
  cpuid: CpuidOverride[];
  msrExits: number[];
  exceptionExits: number[];
  symbols?: string;
  cwd: string;
  traceExits: boolean;
}

export class LaunchConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`launch configuration: '${field}' ${message}`);
    this.name = 'LaunchConfigError';
  }
}

const FORMATS: ImageFormat[] = ['auto', 'elf', 'multiboot', 'flat'];
const MODES: CpuMode[] = ['real', 'protected', 'long'];
const SERIAL: SerialTarget[] = ['console', 'terminal', 'none'];
export const MAX_PROCESSORS = 64;
export const MIN_MEMORY = 1 << 20;
export const MAX_MEMORY = MAX_MEMORY_BYTES; // sparse RAM: only touched pages cost host memory
export const DEFAULT_MEMORY = 64 << 20;

/** Exception mnemonics accepted in `exceptionExits` (vector numbers are accepted too). */
export const EXCEPTION_VECTORS: Record<string, number> = {
  DE: 0, DB: 1, NMI: 2, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13, PF: 14,
  MF: 16, AC: 17, MC: 18, XM: 19, XF: 19, VE: 20, CP: 21,
};

/** Fields VS Code or the user's tooling add; they are not ours to judge. */
const FOREIGN_FIELDS = new Set(['type', 'request', 'name', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions',
  'debugServer', 'presentation', 'noDebug', 'suppressMultipleSessionWarning', 'linux', 'windows', 'osx', 'trace']);
const FIELDS = new Set(['program', 'format', 'loadAddress', 'entry', 'mode', 'memory', 'processors', 'stopOnEntry',
  'cmdline', 'serial', 'cpuid', 'msrExits', 'exceptionExits', 'symbols', 'cwd', 'traceExits']);

/** An integer given as a JSON number or as a string (`0x7c00`, `7C00h`, `31744`). */
export function parseInteger(field: string, v: unknown, max: bigint): bigint {
  let n: bigint | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (/^(0x[0-9a-f]+|0b[01]+|[0-9]+)$/i.test(s)) n = BigInt(s.toLowerCase());
    else if (/^[0-9][0-9a-f]*h$/i.test(s)) n = BigInt('0x' + s.slice(0, -1));
  }
  if (n === undefined) throw new LaunchConfigError(field, `must be a non-negative integer (a number or a string such as "0x7c00"), not ${JSON.stringify(v)}`);
  if (n < 0n || n > max) throw new LaunchConfigError(field, `must be between 0 and 0x${max.toString(16)}, not ${JSON.stringify(v)}`);
  return n;
}

function parseSize(field: string, v: unknown): number {
  let bytes: number | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) bytes = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*([KMGT]i?B?|B)?\s*$/i.exec(v);
    if (m) {
      const unit = (m[2] ?? 'B').toUpperCase()[0];
      bytes = Number(m[1]) * ({ B: 1, K: 1 << 10, M: 1 << 20, G: 2 ** 30, T: 2 ** 40 } as Record<string, number>)[unit];
    }
  }
  if (bytes === undefined || !Number.isSafeInteger(bytes)) throw new LaunchConfigError(field, `must be a size in bytes or a string such as "64M" or "1G", not ${JSON.stringify(v)}`);
  if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) throw new LaunchConfigError(field, `must be between 1M and ${MAX_MEMORY / 2 ** 30}G, not ${JSON.stringify(v)}`);
  if (bytes % 4096 !== 0) throw new LaunchConfigError(field, `must be a multiple of 4 KiB, not ${JSON.stringify(v)}`);
  return bytes;
}

function oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new LaunchConfigError(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, not ${JSON.stringify(v)}`);
  }
  return v as T;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new LaunchConfigError(field, `must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

function str(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new LaunchConfigError(field, `must be a non-empty string, not ${JSON.stringify(v)}`);
  if (v.includes('\0')) throw new LaunchConfigError(field, 'must not contain NUL characters');
  return v;
}

function existingFile(field: string, v: unknown, cwd: string): string {
  const p = path.resolve(cwd, str(field, v));
  let st: fs.Stats;
  try { st = fs.statSync(p); } catch { throw new LaunchConfigError(field, `names a file that does not exist: ${p}`); }
  if (!st.isFile()) throw new LaunchConfigError(field, `must name a file, but ${p} is not a regular file`);
  return p;
}

function array(field: string, v: unknown, max: number): unknown[] {
  if (!Array.isArray(v)) throw new LaunchConfigError(field, `must be an array, not ${JSON.stringify(v)}`);
  if (v.length > max) throw new LaunchConfigError(field, `may hold at most ${max} entries`);
  return v;
}

function exceptionVector(field: string, v: unknown): number {
  if (typeof v === 'string') {
    const key = v.trim().replace(/^#/, '').toUpperCase();
    if (key in EXCEPTION_VECTORS) return EXCEPTION_VECTORS[key];
  }
  try {
    const n = Number(parseInteger(field, v, 31n));
    return n;
  } catch {
    throw new LaunchConfigError(field, `entries must be vectors 0-31 or names such as "#PF", "GP", "UD"; not ${JSON.stringify(v)}`);
  }
}

function cpuidOverride(field: string, v: unknown): CpuidOverride {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new LaunchConfigError(field, `entries must be objects { "leaf", "subleaf"?, "eax"?, "ebx"?, "ecx"?, "edx"? }, not ${JSON.stringify(v)}`);
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['leaf', 'subleaf', 'eax', 'ebx', 'ecx', 'edx'].includes(k)) throw new LaunchConfigError(`${field}.${k}`, 'is not a CPUID override field (allowed: leaf, subleaf, eax, ebx, ecx, edx)');
  }
  if (o.leaf === undefined) throw new LaunchConfigError(`${field}.leaf`, 'is required');
  const out: CpuidOverride = { leaf: Number(parseInteger(`${field}.leaf`, o.leaf, 0xffffffffn)) };
  for (const k of ['subleaf', 'eax', 'ebx', 'ecx', 'edx'] as const) {
    if (o[k] !== undefined) out[k] = Number(parseInteger(`${field}.${k}`, o[k], 0xffffffffn));
  }
  return out;
}

export interface ValidationResult { config: LaunchConfig; warnings: string[] }

/** Validates raw launch arguments. Throws LaunchConfigError naming the first bad field. */
export function validateLaunchConfig(raw: unknown, defaultCwd = process.cwd()): ValidationResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LaunchConfigError('(arguments)', 'must be an object');
  const a = raw as Record<string, unknown>;
  const warnings: string[] = [];
  for (const k of Object.keys(a)) {
    if (!FIELDS.has(k) && !FOREIGN_FIELDS.has(k) && !k.startsWith('__')) warnings.push(`launch configuration: unknown field '${k}' ignored`);
  }
  const cwd = a.cwd === undefined ? defaultCwd : path.resolve(defaultCwd, str('cwd', a.cwd));
  if (a.cwd !== undefined) {
    let ok = false;
    try { ok = fs.statSync(cwd).isDirectory(); } catch { /* reported below */ }
    if (!ok) throw new LaunchConfigError('cwd', `must name an existing directory, not ${cwd}`);
  }
  if (a.program === undefined) throw new LaunchConfigError('program', 'is required: the guest image to run (ELF, multiboot kernel, boot sector or flat binary)');
  const config: LaunchConfig = {
    program: existingFile('program', a.program, cwd),
    format: a.format === undefined ? 'auto' : oneOf('format', a.format, FORMATS),
    memoryBytes: a.memory === undefined ? DEFAULT_MEMORY : parseSize('memory', a.memory),
    processors: 1,
    stopOnEntry: a.stopOnEntry === undefined ? false : bool('stopOnEntry', a.stopOnEntry),
    serial: a.serial === undefined ? 'console' : oneOf('serial', a.serial, SERIAL),
    cpuid: a.cpuid === undefined ? [] : array('cpuid', a.cpuid, 256).map((e, i) => cpuidOverride(`cpuid[${i}]`, e)),
    msrExits: a.msrExits === undefined ? [] : array('msrExits', a.msrExits, 1024).map((e, i) => Number(parseInteger(`msrExits[${i}]`, e, 0xffffffffn))),
    exceptionExits: a.exceptionExits === undefined ? [] : array('exceptionExits', a.exceptionExits, 32).map((e, i) => exceptionVector(`exceptionExits[${i}]`, e)),
    cwd,
    traceExits: a.traceExits === undefined ? false : bool('traceExits', a.traceExits),
  };
  if (a.processors !== undefined) {
    if (typeof a.processors !== 'number' || !Number.isInteger(a.processors) || a.processors < 1 || a.processors > MAX_PROCESSORS) {
      throw new LaunchConfigError('processors', `must be an integer from 1 to ${MAX_PROCESSORS}, not ${JSON.stringify(a.processors)}`);
    }
    config.processors = a.processors;
  }
  if (a.loadAddress !== undefined) config.loadAddress = parseInteger('loadAddress', a.loadAddress, (1n << 52n) - 1n);
  if (a.entry !== undefined) {
    // A number/hex string is an address; any other string is a symbol resolved after loading.
    if (typeof a.entry === 'string' && /^[A-Za-z_.$][\w.$@]*$/.test(a.entry) && !/^[0-9]/.test(a.entry)) config.entry = a.entry;
    else config.entry = parseInteger('entry', a.entry, (1n << 64n) - 1n);
  }
  if (a.mode !== undefined) config.mode = oneOf('mode', a.mode, MODES);
  if (a.cmdline !== undefined) {
    if (typeof a.cmdline !== 'string') throw new LaunchConfigError('cmdline', `must be a string, not ${JSON.stringify(a.cmdline)}`);
    if (a.cmdline.length > 4096) throw new LaunchConfigError('cmdline', 'must be at most 4096 characters');
    config.cmdline = a.cmdline;
  }
  if (a.symbols !== undefined && a.symbols !== '') config.symbols = existingFile('symbols', a.symbols, cwd);
  return { config, warnings };
}
