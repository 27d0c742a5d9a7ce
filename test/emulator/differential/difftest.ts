// The differential test proper: generate cases, run them on the host CPU and in the
// emulator, compare the 16 GPRs, the defined flags, XMM/MXCSR, the memory window (data + stack),
// and the exception (host signal vs emulator vector) with its RIP. A mismatching case is
// cut down to the first instruction whose prefix already diverges, so the report names
// the culprit instruction, its bytes and the expected vs actual values.

import { CpuExitReason } from '../../../src/emulator/vcpu';
import { ARITH_FLAGS, flagNames } from './flags';
import { EmuRunner, type EmuResult } from './emuRunner';
import { CODE_ADDRESS, GPR_NAMES, Generator, SCRATCH_ADDRESS, type DiffCase } from './generator';
import { HostRunner, type HostResult } from './hostRunner';

export interface Mismatch { caseIndex: number; culprit: string; report: string }
export interface DiffSummary { ran: number; hostFaults: number; mismatches: Mismatch[]; formCount: number }

/** Host signal -> the exception vectors that raise it on Linux (#OF and #BR arrive as SIGSEGV). */
const SIGNAL_VECTORS: Record<number, number[]> = { 8: [0, 19], 4: [6], 11: [13, 14, 12, 4, 5], 7: [17, 12, 13], 5: [1, 3] };

const hex64 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;
/** An XMM value as high:low qwords, the way debuggers show it. */
const xmmHex = (b: Buffer): string => `${b.readBigUInt64LE(8).toString(16).padStart(16, '0')}:${b.readBigUInt64LE(0).toString(16).padStart(16, '0')}`;

/** Differences between host and emulator; empty when they agree. */
function compare(c: DiffCase, host: HostResult, emu: EmuResult): string[] {
  const diffs: string[] = [];
  let taint = c.taintEnd;
  if (host.signal === 0) {
    if (emu.reason !== CpuExitReason.Halt) {
      return [`emulator stopped with ${CpuExitReason[emu.reason]}${emu.vector >= 0 ? ` vector ${emu.vector}` : ''} at rip ${hex64(emu.rip)}${emu.error ? ` (${emu.error})` : ''}; host completed`];
    }
    const endRip = BigInt(CODE_ADDRESS + c.code.length);
    if (emu.rip !== endRip) diffs.push(`rip at the end marker: expected ${hex64(endRip)} got ${hex64(emu.rip)}`);
  } else {
    const step = c.steps.find((s) => s.offset === host.faultOffset);
    if (step) taint = step.taintBefore;
    const vectors = SIGNAL_VECTORS[host.signal] ?? [];
    if (emu.reason !== CpuExitReason.Exception || !vectors.includes(emu.vector)) {
      return [`host raised signal ${host.signal} (vector ${vectors.join('/')}) at +0x${host.faultOffset.toString(16)}; emulator stopped with ${CpuExitReason[emu.reason]}${emu.vector >= 0 ? ` vector ${emu.vector}` : ''} at rip ${hex64(emu.rip)}${emu.error ? ` (${emu.error})` : ''}`];
    }
    const faultRip = BigInt(CODE_ADDRESS + host.faultOffset);
    // #BP/#OF are traps: the host sees RIP past INT3/INTO, while an exception exit (taken before
    // delivery) leaves RIP on the instruction, as WHP does; the guest tests check delivered RIPs.
    const trap = (emu.vector === 3 || emu.vector === 4) ? c.steps.find((s) => s.offset + s.length === host.faultOffset) : undefined;
    if (trap) taint = trap.taintBefore;
    const expectedRip = trap ? BigInt(CODE_ADDRESS + trap.offset) : faultRip;
    if (emu.rip !== expectedRip) diffs.push(`fault rip: expected ${hex64(expectedRip)} got ${hex64(emu.rip)}`);
  }
  // After compatibility mode, bits 63:32 of RAX..RDI are architecturally undefined.
  const gprMask = (i: number): bigint => (c.bits === 32 && i < 8 ? 0xffffffffn : 0xffffffffffffffffn);
  for (let i = 0; i < 16; i++) {
    if ((host.gprs[i] & gprMask(i)) !== (emu.gprs[i] & gprMask(i))) diffs.push(`${GPR_NAMES[i]}: expected ${hex64(host.gprs[i])} got ${hex64(emu.gprs[i])}`);
  }
  const mask = BigInt(ARITH_FLAGS & ~taint);
  const diffFlags = Number((host.rflags ^ emu.rflags) & mask);
  if (diffFlags) {
    diffs.push(`flags ${flagNames(diffFlags)} differ: expected ${flagNames(Number(host.rflags & mask))} got ${flagNames(Number(emu.rflags & mask))} (undefined, not compared: ${flagNames(taint)})`);
  }
  // DF, TF and AC are always defined (STD/CLD/POPF change them).
  const other = (host.rflags ^ emu.rflags) & 0x40500n;
  if (other) diffs.push(`rflags DF/TF/AC: expected 0x${(host.rflags & 0x40500n).toString(16)} got 0x${(emu.rflags & 0x40500n).toString(16)}`);
  if (host.mxcsr !== emu.mxcsr) diffs.push(`mxcsr: expected 0x${host.mxcsr.toString(16)} got 0x${emu.mxcsr.toString(16)}`);
  for (let i = 0; i < 16; i++) {
    const h = Buffer.from(host.xmm.subarray(i * 16, i * 16 + 16)), e = Buffer.from(emu.xmm.subarray(i * 16, i * 16 + 16));
    if (!h.equals(e)) diffs.push(`xmm${i}: expected ${xmmHex(h)} got ${xmmHex(e)}`);
  }
  for (let i = 0; i < host.memory.length; i++) {
    if (host.memory[i] !== emu.memory[i]) {
      diffs.push(`memory[${i}] (0x${(SCRATCH_ADDRESS + i).toString(16)}${i >= 256 ? ', stack' : ''}): expected 0x${host.memory[i].toString(16)} got 0x${emu.memory[i].toString(16)}`);
      if (diffs.length > 24) break;
    }
  }
  return diffs;
}

/** The case cut after `steps` instructions. */
function prefix(c: DiffCase, steps: number): DiffCase {
  const last = c.steps[steps - 1];
  return {
    ...c, code: c.code.slice(0, last.offset + last.length), steps: c.steps.slice(0, steps),
    taintEnd: steps < c.steps.length ? c.steps[steps].taintBefore : c.taintEnd,
  };
}

function describe(c: DiffCase, diffs: string[], seed: number): string {
  const lines = [`seed ${seed} case ${c.index}${c.bits === 32 ? ' (compatibility mode)' : ''}: ${Buffer.from(c.code).toString('hex')}`];
  for (const s of c.steps) lines.push(`  +${s.offset.toString(16).padStart(2, '0')}  ${Buffer.from(c.code.subarray(s.offset, s.offset + s.length)).toString('hex').padEnd(30)} ${s.text}`);
  lines.push(`  initial: ${c.gprs.map((g, i) => `${GPR_NAMES[i]}=${hex64(g)}`).join(' ')} flags=${flagNames(Number(c.rflags))}${c.rflags & 0x400n ? ' DF' : ''}`);
  const xmmUsed = c.steps.some((s) => /xmm/.test(s.text));
  if (xmmUsed) {
    lines.push(`  initial mxcsr=0x${c.mxcsr.toString(16)} ${Array.from({ length: 16 }, (_, i) => `xmm${i}=${xmmHex(Buffer.from(c.xmm.subarray(i * 16, i * 16 + 16)))}`).join(' ')}`);
  }
  for (const d of diffs) lines.push(`  ${d}`);
  return lines.join('\n');
}

export interface DiffOptions {
  seed: number; count: number; only?: readonly string[];
  /** Mix SSE/SSE2 forms into the default (no `only`) selection. */
  sse?: boolean;
  /** 32: run the cases in compatibility mode. */
  bits?: 64 | 32;
  log?: (line: string) => void;
}

/** Runs the comparison; returns a reason string instead when this host cannot run native code. */
export function runDifferential(opts: DiffOptions): DiffSummary | string {
  const host = HostRunner.create();
  if (typeof host === 'string') return host;
  const generator = new Generator(host.features(), opts.only, opts.sse, opts.bits);
  const emu = new EmuRunner();
  const cases = Array.from({ length: opts.count }, (_, i) => generator.generate(opts.seed, i));
  const hostResults = host.run(cases);
  const summary: DiffSummary = { ran: cases.length, hostFaults: 0, mismatches: [], formCount: generator.formCount };
  const failing: DiffCase[] = [];
  // Only whole instructions outside a branch/call construct can end a prefix.
  const failingDiffs: string[][] = [];
  cases.forEach((c, i) => {
    if (hostResults[i].signal) summary.hostFaults++;
    const diffs = compare(c, hostResults[i], emu.run(c));
    if (diffs.length) { failing.push(c); failingDiffs.push(diffs); }
  });
  // Isolate the first diverging instruction of each failing case (prefixes in one host batch).
  const cuts = (c: DiffCase): number[] => c.steps.flatMap((s, k) => (s.cut ? [k + 1] : []));
  const prefixes = failing.flatMap((c) => cuts(c).map((k) => prefix(c, k)));
  const prefixResults = prefixes.length ? host.run(prefixes) : [];
  let p = 0;
  failing.forEach((c, n) => {
    let culprit = c.steps[c.steps.length - 1];
    let diffs = failingDiffs[n];
    let cut = c;
    for (const k of cuts(c)) {
      const at = p++;
      if (cut !== c) continue;
      const d = compare(prefixes[at], prefixResults[at], emu.run(prefixes[at]));
      if (d.length) { culprit = c.steps[k - 1]; diffs = d; cut = prefixes[at]; }
    }
    const text = Buffer.from(c.code.subarray(culprit.offset, culprit.offset + culprit.length)).toString('hex');
    const m: Mismatch = { caseIndex: c.index, culprit: `${culprit.text} [${text}]`, report: describe(cut, diffs, opts.seed) };
    summary.mismatches.push(m);
    opts.log?.(m.report);
  });
  return summary;
}

/** Compares hand-written cases (regression tests for bugs the generator found); returns the differences per case. */
export function compareCases(cases: readonly DiffCase[]): string[][] | string {
  const host = HostRunner.create();
  if (typeof host === 'string') return host;
  const emu = new EmuRunner();
  const results = host.run(cases);
  return cases.map((c, i) => compare(c, results[i], emu.run(c)));
}

/** Mismatch counts per culprit mnemonic, most frequent first. */
export function culpritHistogram(mismatches: readonly Mismatch[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const m of mismatches) {
    const key = m.culprit.split(' ')[0] === 'lock' ? m.culprit.split(' ').slice(0, 2).join(' ') : m.culprit.split(' ')[0];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}
