// Runs one generated program (jitProgram.ts; 64-bit or flat 32-bit protected mode) twice from
// identical states — block translation on (jitThreshold 0: blocks are translated on first use
// and compiled into page regions on their second; sometimes 1-3, so blocks first run
// interpreted) and off (-1) — in the same random run(N) slices (1..200 mostly, some thousands,
// a few 1e6), and compares after every slice: the exit reason, the instruction count, RIP, the
// 16 GPRs, RFLAGS (exactly: both sides materialise the same lazy flags), the exception (vector,
// error code, CR2) of an exception exit, the access of an MMIO exit (then completed alike on
// both sides), the stop of a debugger breakpoint or watchpoint set between slices, and the bytes
// of the code, data and stack pages. The first difference throws a JitMismatch naming the seed,
// the slice, the fields, the smallest budget of that slice that shows it, and the disassembly.

import { Cpu } from '../../src/emulator/cpu';
import { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { CpuExitReason, MemoryAccessType, Seg, type Watchpoint } from '../../src/emulator/vcpu';
import { createLongModeCpu } from '../support/longModeCpu';
import { Rng } from '../reliability/fuzzKit';
import { CODE, DATA, DATA_SIZE, GPR_NAMES, MMIO, PAGE, READONLY, STACK, STACK_SIZE, disassemble, generateJitProgram, type JitProgram } from './jitProgram';

/** Long mode: page table for 0x200000-0x3FFFFF (4 KiB pages); the rest of the first GiB uses 2 MiB pages. */
const PT = 0x5000;
const PD = 0x3000;
/** Guest-physical page behind MMIO (outside RAM, so accesses exit). */
const MMIO_GPA = 0x500000;
/** External interrupt handler (clears IF in the interrupted RFLAGS, IRETQ) and the IDT pointing at it. */
const HANDLER = 0x20a000, IDT = 0x20b000;
const HANDLER_CODE = [0x48, 0x81, 0x64, 0x24, 0x10, 0xff, 0xfd, 0xff, 0xff, 0x48, 0xcf]; // and qword [rsp+16], ~0x200; iretq
const HANDLER_CODE32 = [0x81, 0x64, 0x24, 0x08, 0xff, 0xfd, 0xff, 0xff, 0xcf]; // and dword [esp+8], ~0x200; iretd
/** Instructions after which a case stops (programs normally halt long before). */
const MAX_INSTRUCTIONS = 400_000;

export class JitMismatch extends Error {}

function put64(mem: PhysicalMemory, gpa: number, v: number | bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  mem.write(gpa, b);
}

/** The page-table entry (4 KiB page) for linear address `a` of 0x200000-0x3FFFFF. */
function programPte(p: JitProgram, a: number): number {
  const inRange = (start: number, size: number): boolean => a >= start && a < start + size;
  return inRange(CODE, p.codePages * PAGE) || inRange(DATA, DATA_SIZE) || inRange(STACK, STACK_SIZE) || a === HANDLER || a === IDT ? a | 7
    : a === READONLY ? a | 5 : a === MMIO ? MMIO_GPA | 7 : 0;
}

/** Flat 32-bit protected mode at CPL 0 with 32-bit paging (identity below 2 MiB, the program's map above). */
function protectedModeCpu(p: JitProgram): { cpu: Cpu; memory: PhysicalMemory } {
  const memory = new PhysicalMemory();
  memory.mapRam(0, 0x400000, { read: true, write: true, execute: true });
  const w32 = (gpa: number, v: number): void => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); memory.write(gpa, b); };
  const PD32 = 0x1000, PT32 = 0x2000, GDT32 = 0x4000;
  w32(PD32, PT32 | 7);
  for (let i = 0; i < 1024; i++) w32(PT32 + 4 * i, i < 512 ? (i * PAGE) | 7 : programPte(p, i * PAGE));
  [0n, 0x00cf9b000000ffffn, 0x00cf93000000ffffn].forEach((d, i) => put64(memory, GDT32 + 8 * i, d));
  const cpu = new Cpu(memory, { vpIndex: 0 });
  cpu.setGdtr({ base: BigInt(GDT32), limit: 23 });
  cpu.setCr(3, BigInt(PD32));
  cpu.setCr(0, 0x80010033n); // PG WP NE ET MP PE
  cpu.setSegment(Seg.CS, { selector: 0x08, base: 0n, limit: 0xffffffff, attributes: 0xc09b });
  for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) cpu.setSegment(s, { selector: 0x10, base: 0n, limit: 0xffffffff, attributes: 0xc093 });
  return { cpu, memory };
}

/** A CPU in the program's mode at CPL 0 with its pages mapped and its initial state; every exception exits. */
export function jitCpu(p: JitProgram, jitThreshold: number): Cpu {
  const long = p.bits === 64;
  const { cpu, memory } = long ? createLongModeCpu({ ramTop: 0x400000, user: p.user }) : protectedModeCpu(p);
  if (long) {
    put64(memory, PD + 8, PT | 7);
    for (let i = 0; i < 512; i++) put64(memory, PT + 8 * i, programPte(p, 0x200000 + i * PAGE));
  }
  memory.write(CODE, p.code);
  memory.write(DATA, p.data);
  memory.write(READONLY, p.readonly);
  memory.write(HANDLER, Uint8Array.from(long ? HANDLER_CODE : HANDLER_CODE32));
  // Interrupt gates (selector 0x08, type 0x8E) for vectors 32-255; exceptions exit before delivery.
  const gateSize = long ? 16 : 8;
  const gate = new Uint8Array(gateSize), dv = new DataView(gate.buffer);
  dv.setUint32(0, (HANDLER & 0xffff) | (0x08 << 16), true);
  dv.setUint32(4, (HANDLER & 0xffff0000) | 0x8e00, true);
  for (let v = 32; v < 256; v++) memory.write(IDT + gateSize * v, gate);
  cpu.setIdtr({ base: BigInt(IDT), limit: 256 * gateSize - 1 });
  cpu.setCr(3, cpu.getCr(3)); // the page tables changed
  p.gprs.forEach((v, i) => cpu.setGpr(i, v));
  cpu.setRip(BigInt(p.entry));
  cpu.setRflags(p.rflags);
  cpu.setSegment(Seg.FS, { ...cpu.getSegment(Seg.FS), base: p.fsBase });
  cpu.setSegment(Seg.GS, { ...cpu.getSegment(Seg.GS), base: p.gsBase });
  cpu.setExceptionExitBitmap(0xffffffff);
  cpu.jitThreshold = jitThreshold;
  return cpu;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;


/** Pages whose bytes are compared (code: self-modifying stores; data; stack). */
const COMPARED: [number, number][] = [[CODE, 3 * PAGE], [DATA, DATA_SIZE], [STACK, STACK_SIZE]];

class Side {
  readonly buf = COMPARED.map(([, n]) => new Uint8Array(n));
  constructor(readonly cpu: Cpu) {}
  readMemory(): void { COMPARED.forEach(([gpa], i) => this.cpu.mem.read(gpa, this.buf[i])); }
}

/** Differences between the two sides, as "field: jit X interpreter Y" (empty when equal). */
function differences(a: Side, b: Side, ra: CpuExitReason, rb: CpuExitReason): string[] {
  const out: string[] = [];
  const cmp = (name: string, x: bigint | number | string, y: bigint | number | string): void => {
    if (x !== y) out.push(`${name}: jit ${typeof x === 'string' ? x : hex(x)}, interpreter ${typeof y === 'string' ? y : hex(y)}`);
  };
  cmp('exit reason', CpuExitReason[ra], CpuExitReason[rb]);
  cmp('instruction count', a.cpu.instructionCount, b.cpu.instructionCount);
  cmp('rip', a.cpu.getRip(), b.cpu.getRip());
  for (let i = 0; i < 16; i++) cmp(GPR_NAMES[i], a.cpu.getGpr(i), b.cpu.getGpr(i));
  cmp('rflags', a.cpu.getRflags(), b.cpu.getRflags());
  if (ra === CpuExitReason.Exception && rb === CpuExitReason.Exception) {
    const x = a.cpu.exit.exception, y = b.cpu.exit.exception;
    cmp('exception vector', x.vector, y.vector);
    cmp('exception error code', x.hasErrorCode ? x.errorCode : 'none', y.hasErrorCode ? y.errorCode : 'none');
    cmp('exception parameter (CR2)', x.parameter, y.parameter);
  }
  if (ra === CpuExitReason.MemoryAccess && rb === CpuExitReason.MemoryAccess) {
    const x = a.cpu.exit.memory, y = b.cpu.exit.memory;
    cmp('memory access', `${hex(x.gpa)} gva ${hex(x.gva)} type ${x.accessType} size ${x.size}`, `${hex(y.gpa)} gva ${hex(y.gva)} type ${y.accessType} size ${y.size}`);
    if (x.accessType === MemoryAccessType.Write) cmp('memory access data', Array.from(x.data.subarray(0, x.size)).join(','), Array.from(y.data.subarray(0, y.size)).join(','));
  }
  if (ra === CpuExitReason.Watchpoint && rb === CpuExitReason.Watchpoint) {
    const x = a.cpu.exit.watch, y = b.cpu.exit.watch;
    cmp('watchpoint', `${hex(x.address)} size ${x.size} write ${x.isWrite}`, `${hex(y.address)} size ${y.size} write ${y.isWrite}`);
  }
  a.readMemory(); b.readMemory();
  COMPARED.forEach(([gpa], i) => {
    const x = a.buf[i], y = b.buf[i];
    for (let k = 0; k < x.length; k++) {
      if (x[k] !== y[k]) { out.push(`memory at ${hex(gpa + k)}: jit ${hex(x[k])}, interpreter ${hex(y[k])}`); break; }
    }
  });
  return out;
}

function slice(r: Rng): number {
  const x = r.int(100);
  if (x < 50) return 1 + r.int(16);
  if (x < 90) return 1 + r.int(200);
  if (x < 98) return 200 + r.int(2000);
  return 1e6;
}

/** Debugger stops set on both sides before a slice (an empty list clears them). */
interface DebugStops { bps: bigint[]; wps: Watchpoint[] }
/** One step of a case's schedule: the debugger stops to set first, if any, then run(n) on both sides. */
interface Step { n: number; debug?: DebugStops }

/**
 * Between slices, now and then, the same debugger breakpoints (at labelled instruction starts)
 * and watchpoints (data and stack words) on both sides, or none: translated code must stop
 * exactly where the interpreter does, also inside chained regions compiled before they were set.
 */
function debugStops(r: Rng, p: JitProgram): DebugStops {
  const starts = [...p.labels.keys()];
  const bps = r.bool(0.3) ? [] : Array.from({ length: 1 + r.int(3) }, () => BigInt(r.pick(starts)));
  const wps = r.bool(0.5) ? [] : Array.from({ length: 1 + r.int(2) }, () => ({
    address: BigInt(r.bool(0.7) ? DATA + PAGE - 0x40 + r.int(0x80) : STACK + PAGE - 0x40 + r.int(0x80)),
    size: r.pick([1, 2, 4, 8]), read: r.bool(0.5), write: r.bool(0.8), physical: r.bool(0.2),
  }));
  return { bps, wps };
}

const describe = (d: DebugStops): string =>
  `breakpoints [${d.bps.map(hex).join(' ')}] watchpoints [${d.wps.map((w) => `${hex(w.address)}/${w.size}${w.read ? 'r' : ''}${w.write ? 'w' : ''}${w.physical ? 'p' : ''}`).join(' ')}]`;

/** How a case is set up besides its program: the translation threshold and an always-pending interrupt vector. */
interface Setup { threshold: number; irq?: number; perturb?: (jit: Cpu) => void }

/** The two sides of one case. */
class Pair {
  readonly a: Side; readonly b: Side;
  interrupts = 0; mmio = 0; stops = 0;

  constructor(p: JitProgram, s: Setup) {
    this.a = new Side(jitCpu(p, s.threshold)); this.b = new Side(jitCpu(p, -1));
    // An external interrupt pending throughout is taken wherever the program's POPFQ sets IF;
    // its handler returns with IF clear.
    const v = s.irq;
    if (v !== undefined) {
      this.a.cpu.setInterruptSource({ pendingVector: () => v, acknowledge: () => { this.interrupts++; return v; } });
      this.b.cpu.setInterruptSource({ pendingVector: () => v, acknowledge: () => v });
    }
    s.perturb?.(this.a.cpu); // (the test of this harness makes the sides differ)
  }

  run(step: Step): [CpuExitReason, CpuExitReason] {
    if (step.debug) for (const c of [this.a.cpu, this.b.cpu]) { c.setInstructionBreakpoints(step.debug.bps); c.setWatchpoints(step.debug.wps); }
    return [this.a.cpu.run(step.n), this.b.cpu.run(step.n)];
  }

  /** After an exit both sides agree on: MMIO reads get bytes derived from the address, writes are accepted. */
  complete(reason: CpuExitReason): void {
    if (reason === CpuExitReason.Breakpoint || reason === CpuExitReason.Watchpoint) this.stops++;
    if (reason !== CpuExitReason.MemoryAccess) return;
    const m = this.a.cpu.exit.memory;
    const data = m.accessType === MemoryAccessType.Write ? undefined : Uint8Array.from({ length: m.size }, (_, i) => (Number(m.gpa & 0xfffn) + i) * 37 & 0xff);
    this.a.cpu.completeMemoryAccess(data); this.b.cpu.completeMemoryAccess(data);
    this.mmio++;
  }

  dispose(): void { this.a.cpu.dispose(); this.b.cpu.dispose(); }
}

/**
 * The smallest budget m for the last step after which the sides differ (replaying the steps
 * before it each time; binary search), and the instruction the interpreter retired last there.
 */
function locate(p: JitProgram, s: Setup, steps: Step[]): string {
  const last = steps[steps.length - 1], prefix = steps.slice(0, -1);
  const replay = (m: number): { diff: string[]; count: number; rip: bigint } => {
    const q = new Pair(p, s);
    try {
      for (const st of prefix) q.complete(q.run(st)[0]);
      const [ra, rb] = q.run({ ...last, n: m });
      return { diff: differences(q.a, q.b, ra, rb), count: q.b.cpu.instructionCount, rip: q.b.cpu.getRip() };
    } finally { q.dispose(); }
  };
  let lo = 1, hi = last.n;
  while (lo < hi) { const mid = Math.floor((lo + hi) / 2); if (replay(mid).diff.length) hi = mid; else lo = mid + 1; }
  const at = replay(lo), before = replay(lo - 1);
  const listing = disassemble(p).split('\n');
  const line = (rip: bigint): string => listing.find((l) => l.startsWith(`  ${rip.toString(16)} `))?.trim() ?? hex(rip);
  return `smallest differing budget for that slice: run(${lo}); the interpreter went from [${line(before.rip)}] (instruction ${before.count}) `
    + `to [${line(at.rip)}] (instruction ${at.count}), where:\n  ${at.diff.join('\n  ')}`;
}

export interface JitDiffResult { outcome: string; instructions: number; slices: number; threshold: number; /** External interrupts taken (jit side). */ interrupts: number; /** MMIO exits completed. */ mmio: number; /** Debugger breakpoint and watchpoint stops. */ stops: number }

/** Runs program `p` on both sides; throws JitMismatch on the first difference. */
export interface JitDiffOptions {
  threshold?: number;
  /** Called on the translating side before the first slice (the test of this harness makes the sides differ). */
  perturb?: (jit: Cpu) => void;
  /** Receives every slice and debugger change. */
  events?: string[];
}

export function runJitDiff(p: JitProgram, opts: JitDiffOptions = {}): JitDiffResult {
  const r = new Rng(p.seed ^ 0x51ce5);
  const setup: Setup = { threshold: opts.threshold ?? (r.bool(0.85) ? 0 : 1 + r.int(3)), perturb: opts.perturb };
  if (r.bool(0.3)) setup.irq = 0x20 + r.int(0xe0);
  const pair = new Pair(p, setup);
  const { a, b } = pair;
  const steps: Step[] = [];
  const events: string[] = opts.events ?? [];
  const fail = (what: string[]): never => {
    const last = steps[steps.length - 1];
    let where = '';
    if (last) {
      try { where = `\n  ${locate(p, setup, steps)}`; } catch (e) { where = `\n  (locating the first difference failed: ${(e as Error).message})`; }
    }
    throw new JitMismatch(`translated code differs from the interpreter: seed ${p.seed} (jitThreshold ${setup.threshold}), `
      + `slice ${steps.length} run(${last?.n ?? 0}) ending at instruction ${b.cpu.instructionCount}\n  ${what.join('\n  ')}${where}\n`
      + `last events (jit side): ${events.slice(-12).join('; ')}\nreplay: VPDBG_JIT_SEED=${p.seed} node scripts/test.mjs jitDiff\n${disassemble(p)}`);
  };
  try {
    const initial = differences(a, b, CpuExitReason.BudgetExhausted, CpuExitReason.BudgetExhausted);
    if (initial.length) fail(initial);
    for (;;) {
      const step: Step = { n: slice(r) };
      if (r.bool(0.04)) { step.debug = debugStops(r, p); events.push(describe(step.debug)); }
      steps.push(step);
      const before = a.cpu.instructionCount;
      const [ra, rb] = pair.run(step);
      for (const [side, reason] of [[a, ra], [b, rb]] as const) {
        if (reason === CpuExitReason.InternalError) fail([`${side === a ? 'jit' : 'interpreter'} InternalError: ${side.cpu.exit.message}`]);
      }
      events.push(`run(${step.n}) -> ${CpuExitReason[ra]} at ${a.cpu.instructionCount} rip ${hex(a.cpu.getRip())}`);
      const diff = differences(a, b, ra, rb);
      if (diff.length) fail(diff);
      const ran = a.cpu.instructionCount - before;
      if (ra === CpuExitReason.BudgetExhausted ? ran !== step.n : ran > step.n) fail([`run(${step.n}) retired ${ran} instructions and returned ${CpuExitReason[ra]}`]);
      pair.complete(ra);
      const result = (outcome: string): JitDiffResult => ({
        outcome, instructions: a.cpu.instructionCount, slices: steps.length, threshold: setup.threshold, interrupts: pair.interrupts, mmio: pair.mmio, stops: pair.stops,
      });
      if (ra === CpuExitReason.BudgetExhausted || ra === CpuExitReason.MemoryAccess || ra === CpuExitReason.Breakpoint || ra === CpuExitReason.Watchpoint) {
        if (a.cpu.instructionCount >= MAX_INSTRUCTIONS) return result('instruction cap');
        continue;
      }
      return result(ra === CpuExitReason.Exception ? `#${a.cpu.exit.exception.vector}` : CpuExitReason[ra]);
    }
  } finally {
    pair.dispose();
  }
}

/** Generates and runs the program of `seed`; returns the outcome (Halt, #vector, ...). */
export function jitDiffCase(seed: number): JitDiffResult {
  return runJitDiff(generateJitProgram(seed));
}
