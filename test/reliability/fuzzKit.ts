// Shared pieces of the fuzzers: a seeded generator, the report every fuzzer returns, and the
// loop that runs cases until a case count or a deadline is reached. Each case gets its own
// seed (derived from the campaign seed and the case number), so a finding is replayed by
// running that one seed.

/** xorshift32 over a seed; int(n) is uniform enough for fuzzing. */
export class Rng {
  private x: number;
  constructor(seed: number) { this.x = (seed >>> 0) || 0x9e3779b9; for (let i = 0; i < 4; i++) this.u32(); }
  u32(): number { let x = this.x; x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; this.x = x >>> 0; return this.x; }
  int(n: number): number { return n <= 1 ? 0 : Math.floor((this.u32() / 2 ** 32) * n); }
  bool(pTrue = 0.5): boolean { return this.u32() / 2 ** 32 < pTrue; }
  pick<T>(list: readonly T[]): T { return list[this.int(list.length)]; }
  bytes(n: number): Uint8Array { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff; return b; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
}

/** One case that broke a rule: its seed replays it. */
export interface Finding { seed: number; what: string }

export interface FuzzReport { name: string; cases: number; findings: Finding[]; notes: Record<string, number> }

export interface FuzzOptions {
  seed: number;
  /** Stop after this many cases ... */
  cases?: number;
  /** ... or when this much wall time has passed (whichever comes first). */
  seconds?: number;
  /** Called before each case with its seed (the fuzz runner's hang watchdog). */
  onCase?: (seed: number) => void;
}

/** Per-case seed: stable for (campaign seed, case index). */
export function caseSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x01000193) + Math.imul(i + 1, 0x9e3779b1)) >>> 0;
}

/**
 * Runs `one(caseSeed)` until the case count or deadline. `one` returns a note key (a category
 * of outcome, counted) or throws a Finding-worthy error, which is recorded with its seed.
 */
export function campaign(name: string, opts: FuzzOptions, one: (seed: number) => string): FuzzReport {
  const report: FuzzReport = { name, cases: 0, findings: [], notes: {} };
  const maxCases = opts.cases ?? Number.POSITIVE_INFINITY;
  const deadline = opts.seconds !== undefined ? Date.now() + opts.seconds * 1000 : Number.POSITIVE_INFINITY;
  for (let i = 0; i < maxCases && Date.now() < deadline; i++) {
    const s = caseSeed(opts.seed, i);
    opts.onCase?.(s);
    try {
      const note = one(s);
      report.notes[note] = (report.notes[note] ?? 0) + 1;
    } catch (e) {
      report.findings.push({ seed: s, what: e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e) });
      if (report.findings.length >= 20) { report.cases = i + 1; return report; }
    }
    report.cases = i + 1;
  }
  return report;
}

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
