// Command-line parsing for `vpdbg`: a small table-driven parser (no dependency), so every
// command shares the same syntax and errors: `--name value`, `--name=value`, `--flag`.

export class UsageError extends Error {}

export type OptionKind = 'flag' | 'string' | 'integer' | 'size' | 'seconds' | 'address';

export interface OptionSpec {
  name: string;
  kind: OptionKind;
  /** One line for --help. */
  help: string;
  /** For string options: the values allowed. */
  choices?: readonly string[];
  valueName?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments: names, with `?` for optional ones ("IMAGE", "IMAGE?"). */
  positionals: readonly string[];
  options: readonly OptionSpec[];
  /** Option pairs that cannot be combined. */
  exclusive?: readonly [string, string][];
}

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | number | boolean>;
  help: boolean;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, kb: 1024, m: 2 ** 20, mib: 2 ** 20, mb: 2 ** 20, g: 2 ** 30, gib: 2 ** 30, gb: 2 ** 30, t: 2 ** 40, tib: 2 ** 40, tb: 2 ** 40 };

/** "128M", "64MiB", "64G", "1T", "65536", "0x100000". */
export function parseSize(text: string): number | undefined {
  const m = /^(0x[0-9a-f]+|\d+)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Decimal or 0x-hex (underscores allowed as digit separators: 0x10_0000). */
export function parseInteger(text: string): number | undefined {
  const t = text.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: new Map(), help: false };
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') { out.help = true; continue; }
    if (arg === '--') { out.positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1) throw new UsageError(`unknown option ${arg}`);
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const opt = byName.get(name);
    if (!opt) throw new UsageError(`unknown option --${name}`);
    if (opt.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.options.set(name, true);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    out.options.set(name, convert(opt, value));
  }
  if (out.help) return out;
  const required = spec.positionals.filter((p) => !p.endsWith('?')).length;
  if (out.positionals.length < required) throw new UsageError(`missing ${spec.positionals[out.positionals.length]}`);
  if (out.positionals.length > spec.positionals.length) throw new UsageError(`unexpected argument ${out.positionals[spec.positionals.length]}`);
  for (const [a, b] of spec.exclusive ?? []) {
    if (out.options.has(a) && out.options.has(b)) throw new UsageError(`--${a} and --${b} cannot be used together`);
  }
  return out;
}

function convert(opt: OptionSpec, value: string): string | number {
  const bad = (what: string) => new UsageError(`--${opt.name}: ${JSON.stringify(value)} is not ${what}`);
  switch (opt.kind) {
    case 'string':
      if (opt.choices && !opt.choices.includes(value)) throw bad(`one of ${opt.choices.join(', ')}`);
      return value;
    case 'integer': case 'address': {
      const n = parseInteger(value);
      if (n === undefined) throw bad(opt.kind === 'address' ? 'an address (decimal or 0x hex)' : 'a non-negative integer');
      return n;
    }
    case 'size': {
      const n = parseSize(value);
      if (n === undefined || n === 0) throw bad('a size (bytes, or with K, M, G or T)');
      return n;
    }
    case 'seconds': {
      const n = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw bad('a positive number of seconds');
      return n;
    }
    default: return value;
  }
}

export function usage(program: string, spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.endsWith('?') ? `[${p.slice(0, -1)}]` : p)).join(' ');
  const lines = [`usage: ${program} ${spec.name} ${pos} [options]`.replace(/\s+/g, ' '), '', spec.summary, '', 'options:'];
  const label = (o: OptionSpec) => `--${o.name}${o.kind === 'flag' ? '' : ` ${o.valueName ?? (o.choices ? o.choices.join('|') : o.kind.toUpperCase())}`}`;
  const width = Math.max(...spec.options.map((o) => label(o).length), 6) + 2;
  for (const o of spec.options) lines.push(`  ${label(o).padEnd(width)}${o.help}`);
  lines.push(`  ${'--help'.padEnd(width)}show this help`);
  return lines.join('\n') + '\n';
}
