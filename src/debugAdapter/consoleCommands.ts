// Debug Console commands for what a QEMU/Bochs user reaches for: a page-table walk of an
// address, GDT/IDT dumps, exit statistics, memory dumps. Commands start with a dot so they
// never shadow registers or symbols.
import { HvRegisterName } from '../partition/hvdef';
import { EvalAccessor, evaluateExpression } from './expression/evaluate';
import { ExpressionError } from './expression/parser';
import { EXCEPTION_NAMES, hex } from '../partition/exitDescription';
import type { VpTarget } from './target';
import { RegisterCache } from './guestAccessor';
import { readSlice } from './registers';

export interface CommandContext {
  target: VpTarget;
  regs: RegisterCache;
  accessor: EvalAccessor;
  exitCounts: ReadonlyMap<string, number>;
  setTrace(on: boolean): void;
}

interface Command { usage: string; help: string; run(ctx: CommandContext, arg: string): string }

function u64(ctx: CommandContext, code: HvRegisterName): bigint { return readSlice(ctx.regs.raw(code), { offset: 0, size: 8 }); }

function readPhys64(ctx: CommandContext, gpa: bigint, size = 8): bigint | undefined {
  const b = new Uint8Array(size);
  if (ctx.target.readPhysical(gpa, b) < size) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

function evalArg(ctx: CommandContext, arg: string, what: string): bigint {
  if (!arg.trim()) throw new ExpressionError(`${what} expected`);
  return evaluateExpression(arg, ctx.accessor).value;
}

const PTE_FLAGS: [bigint, string][] = [[1n, 'P'], [2n, 'RW'], [4n, 'US'], [8n, 'PWT'], [0x10n, 'PCD'], [0x20n, 'A'], [0x40n, 'D'], [0x80n, 'PS'], [0x100n, 'G']];
function flags(e: bigint, nx: boolean): string {
  const f = PTE_FLAGS.filter(([m]) => (e & m) !== 0n).map(([, n]) => n);
  if (nx && (e >> 63n) & 1n) f.push('NX');
  return f.join(' ');
}

/** Walks the current paging structures for a linear address, level by level. */
function pageWalk(ctx: CommandContext, arg: string): string {
  const va = evalArg(ctx, arg, 'an address');
  const cr0 = u64(ctx, HvRegisterName.Cr0), cr3 = u64(ctx, HvRegisterName.Cr3), cr4 = u64(ctx, HvRegisterName.Cr4), efer = u64(ctx, HvRegisterName.Efer);
  const lines = [`${hex(va)}: CR0.PG=${(cr0 >> 31n) & 1n} CR4.PAE=${(cr4 >> 5n) & 1n} EFER.LMA=${(efer >> 10n) & 1n} CR3=${hex(cr3)}`];
  if (((cr0 >> 31n) & 1n) === 0n) return [...lines, 'paging is off: linear = physical'].join('\n');
  const nx = ((efer >> 11n) & 1n) === 1n;
  const long = ((efer >> 10n) & 1n) === 1n, pae = ((cr4 >> 5n) & 1n) === 1n, la57 = ((cr4 >> 12n) & 1n) === 1n;
  let levels: { name: string; shift: bigint; bits: bigint; size: number }[];
  let table: bigint;
  if (long) {
    levels = [{ name: 'PML4E', shift: 39n, bits: 9n, size: 8 }, { name: 'PDPTE', shift: 30n, bits: 9n, size: 8 }, { name: 'PDE', shift: 21n, bits: 9n, size: 8 }, { name: 'PTE', shift: 12n, bits: 9n, size: 8 }];
    if (la57) levels.unshift({ name: 'PML5E', shift: 48n, bits: 9n, size: 8 });
    table = cr3 & 0x000ffffffffff000n;
  } else if (pae) {
    levels = [{ name: 'PDPTE', shift: 30n, bits: 2n, size: 8 }, { name: 'PDE', shift: 21n, bits: 9n, size: 8 }, { name: 'PTE', shift: 12n, bits: 9n, size: 8 }];
    table = cr3 & 0xffffffe0n;
  } else {
    levels = [{ name: 'PDE', shift: 22n, bits: 10n, size: 4 }, { name: 'PTE', shift: 12n, bits: 10n, size: 4 }];
    table = cr3 & 0xfffff000n;
  }
  const addrMask = levels[0].size === 4 ? 0xfffff000n : 0x000ffffffffff000n;
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    const index = (va >> l.shift) & ((1n << l.bits) - 1n);
    const at = table + index * BigInt(l.size);
    const e = readPhys64(ctx, at, l.size);
    if (e === undefined) return [...lines, `${l.name}[${index}] at GPA ${hex(at)}: not readable (no RAM there)`].join('\n');
    lines.push(`${l.name}[${index}] at GPA ${hex(at)} = ${hex(e)} [${flags(e, nx)}]`);
    if ((e & 1n) === 0n) return [...lines, `not present: a #PF at ${hex(va)}`].join('\n');
    const isLeaf = i === levels.length - 1 || ((e & 0x80n) !== 0n && l.name !== 'PML4E' && l.name !== 'PML5E' && !(pae && !long && l.name === 'PDPTE'));
    if (isLeaf) {
      const pageBits = l.shift;
      const frameMask = addrMask & ~((1n << pageBits) - 1n);
      // 32-bit 4 MiB pages (PSE-36 ignored) and the PAT bit of large pages are not part of the frame.
      const frame = e & frameMask & (i === levels.length - 1 ? addrMask : ~0x1000n);
      const pa = frame | (va & ((1n << pageBits) - 1n));
      return [...lines, `→ physical ${hex(pa)} (${Number(1n << pageBits) >= 1 << 20 ? `${Number(1n << pageBits) >> 20} MiB` : '4 KiB'} page)`].join('\n');
    }
    table = e & addrMask;
  }
  return lines.join('\n');
}

function readLinear(ctx: CommandContext, address: bigint, size: number): Uint8Array | undefined {
  const b = new Uint8Array(size);
  return ctx.target.readVirtual(ctx.regs.vp, address, b) === size ? b : undefined;
}

function le(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

const SYSTEM_TYPES: Record<number, string> = { 1: 'TSS16 avail', 2: 'LDT', 3: 'TSS16 busy', 4: 'call gate 16', 5: 'task gate', 6: 'int gate 16', 7: 'trap gate 16', 9: 'TSS avail', 11: 'TSS busy', 12: 'call gate', 14: 'interrupt gate', 15: 'trap gate' };

function gdt(ctx: CommandContext): string {
  const raw = ctx.regs.raw(HvRegisterName.Gdtr);
  const base = readSlice(raw, { offset: 8, size: 8 }), limit = Number(readSlice(raw, { offset: 6, size: 2 }));
  const long = ((u64(ctx, HvRegisterName.Efer) >> 10n) & 1n) === 1n;
  const lines = [`GDTR base ${hex(base)} limit ${hex(limit)} (${Math.floor((limit + 1) / 8)} slots)`];
  for (let off = 0; off + 7 <= limit && lines.length < 257; off += 8) {
    const d = readLinear(ctx, base + BigInt(off), 8);
    if (!d) { lines.push(`${hex(off)}: not readable`); break; }
    const q = le(d, 0, 8);
    if (q === 0n) { lines.push(`${hex(off)}: null`); continue; }
    const dbase = ((q >> 16n) & 0xffffffn) | (((q >> 56n) & 0xffn) << 24n);
    let dlimit = (q & 0xffffn) | (((q >> 48n) & 0xfn) << 16n);
    const access = Number((q >> 40n) & 0xffn), fl = Number((q >> 52n) & 0xfn);
    if (fl & 8) dlimit = (dlimit << 12n) | 0xfffn;
    const s = (access >> 4) & 1, type = access & 0xf, dpl = (access >> 5) & 3, p = (access >> 7) & 1;
    let kind: string;
    if (s) kind = type & 8 ? `code ${fl & 2 ? '64-bit' : fl & 4 ? '32-bit' : '16-bit'}${type & 2 ? ' R' : ''}${type & 4 ? ' C' : ''}` : `data${type & 2 ? ' RW' : ' RO'}${type & 4 ? ' down' : ''}`;
    else kind = SYSTEM_TYPES[type] ?? `system type ${type}`;
    let full = dbase;
    if (!s && long) {
      const hi = readLinear(ctx, base + BigInt(off + 8), 8);
      if (hi) full |= (le(hi, 0, 4) << 32n);
    }
    lines.push(`${hex(off)}: ${kind} base ${hex(full)} limit ${hex(dlimit)} DPL ${dpl}${p ? '' : ' NOT PRESENT'}`);
    if (!s && long) off += 8;
  }
  return lines.join('\n');
}

function idt(ctx: CommandContext, arg: string): string {
  const raw = ctx.regs.raw(HvRegisterName.Idtr);
  const base = readSlice(raw, { offset: 8, size: 8 }), limit = Number(readSlice(raw, { offset: 6, size: 2 }));
  const mode = ctx.target.mode(ctx.regs.vp);
  const max = arg.trim() ? Number(evalArg(ctx, arg, 'a count')) : 32;
  const lines = [`IDTR base ${hex(base)} limit ${hex(limit)} (${mode})`];
  const size = mode === 'real' ? 4 : mode === 'long64' || mode === 'compatibility' ? 16 : 8;
  for (let v = 0; v < Math.min(256, max) && v * size + size - 1 <= limit; v++) {
    const d = readLinear(ctx, base + BigInt(v * size), size);
    const name = EXCEPTION_NAMES[v] ? ` #${EXCEPTION_NAMES[v]}` : '';
    if (!d) { lines.push(`${v.toString().padStart(3)}${name}: not readable`); break; }
    if (size === 4) { lines.push(`${v.toString().padStart(3)}${name}: ${hex(le(d, 2, 2))}:${hex(le(d, 0, 2))}`); continue; }
    const offset = le(d, 0, 2) | (le(d, 6, 2) << 16n) | (size === 16 ? le(d, 8, 4) << 32n : 0n);
    const sel = le(d, 2, 2), attr = d[5];
    const present = attr & 0x80;
    if (!present) { lines.push(`${v.toString().padStart(3)}${name}: not present`); continue; }
    const sym = ctx.target.symbols.nameAt(Number(offset));
    lines.push(`${v.toString().padStart(3)}${name}: ${SYSTEM_TYPES[attr & 0xf] ?? `type ${attr & 0xf}`} ${hex(sel)}:${hex(offset)}${sym ? ` <${ctx.target.symbols.formatAddress(Number(offset))}>` : ''} DPL ${(attr >> 5) & 3}${size === 16 && d[4] & 7 ? ` IST ${d[4] & 7}` : ''}`);
  }
  return lines.join('\n');
}

function stats(ctx: CommandContext): string {
  const lines = [`instructions retired (VP ${ctx.regs.vp}): ${ctx.target.instructionCount(ctx.regs.vp)}`];
  const entries = [...ctx.exitCounts].sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) lines.push('no exits reached the debugger yet');
  for (const [id, n] of entries) lines.push(`${id.padEnd(24)} ${n}`);
  return lines.join('\n');
}

function dump(ctx: CommandContext, arg: string, physical: boolean): string {
  // `.x rbp-8` is one expression; `.x rbp-8 32` adds a byte count (at most 4096).
  const parts = arg.trim().split(/\s+/);
  let address: bigint, count = 64;
  try {
    address = evalArg(ctx, arg, 'an address');
  } catch (e) {
    if (parts.length < 2 || !/^\d+$/.test(parts[parts.length - 1])) throw e;
    count = Math.min(4096, Number(parts.pop()));
    address = evalArg(ctx, parts.join(' '), 'an address');
  }
  const buf = new Uint8Array(count);
  const n = physical ? ctx.target.readPhysical(address, buf) : ctx.target.readVirtual(ctx.regs.vp, address, buf);
  const lines: string[] = [];
  for (let off = 0; off < n; off += 16) {
    const row = buf.subarray(off, Math.min(n, off + 16));
    const hexs = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(address + BigInt(off)).toString(16).padStart(16, '0')}  ${hexs.padEnd(47)}  ${ascii}`);
  }
  if (n < count) lines.push(`${hex(address + BigInt(n))}: not readable`);
  return lines.join('\n');
}

export const COMMANDS: Record<string, Command> = {
  help: { usage: '.help', help: 'this list', run: () => Object.values(COMMANDS).map((c) => `${c.usage.padEnd(22)} ${c.help}`).concat(
    '', 'Expressions: rax, eax, al, r8d, xmm0, rflags.ZF, cr0.PG, cs.Base, HvX64RegisterCr0, symbols, $exit.PortNumber,',
    '  [rsp], qword [rbp-8], byte phys:[0x7c00], C operators, suffixes ,x ,d ,b ,o ,c.  Assign with  rax = 5  or  byte [0x500] = 1').join('\n') },
  pt: { usage: '.pt <address>', help: 'walk the page tables for a linear address', run: pageWalk },
  gdt: { usage: '.gdt', help: 'dump the GDT', run: (ctx) => gdt(ctx) },
  idt: { usage: '.idt [count]', help: 'dump the IDT (or real-mode IVT)', run: idt },
  stats: { usage: '.stats', help: 'exit statistics and instruction count', run: (ctx) => stats(ctx) },
  x: { usage: '.x <address> [count]', help: 'hex dump of guest-virtual memory', run: (ctx, a) => dump(ctx, a, false) },
  xp: { usage: '.xp <gpa> [count]', help: 'hex dump of guest-physical memory', run: (ctx, a) => dump(ctx, a, true) },
  trace: { usage: '.trace on|off', help: 'print every exit that reaches the debugger', run: (ctx, a) => {
    const on = a.trim() === 'on';
    if (!on && a.trim() !== 'off') throw new ExpressionError('usage: .trace on|off');
    ctx.setTrace(on);
    return `exit trace ${on ? 'on' : 'off'}`;
  } },
};

/** Runs `.cmd args`; undefined if the text is not a command. */
export function runCommand(ctx: CommandContext, text: string): string | undefined {
  const m = /^\s*\.(\w+)\s*(.*)$/s.exec(text);
  if (!m) return undefined;
  const cmd = COMMANDS[m[1].toLowerCase()];
  if (!cmd) throw new ExpressionError(`unknown command '.${m[1]}' (try .help)`);
  return cmd.run(ctx, m[2]);
}
