// The expression evaluator's view of a stopped VP: registers (through a per-stop cache of
// GetVpRegisters values), guest memory, symbols and the current exit's fields.
import { EvalAccessor } from './expression/evaluate';
import { ExpressionError } from './expression/parser';
import { ExitContext, exitField, exitFieldNames } from './exitFilters';
import { allRegisterNames, findChild, findRegister, readSlice, RegisterSlice, writeSlice } from './registers';
import { BitField, getField, setField } from './bitfields';
import type { VpTarget } from './target';

/** Register values of one VP for one stop: filled by one GetVpRegisters call, misses fetched on demand. */
export class RegisterCache {
  private readonly values = new Map<number, Uint8Array>();
  constructor(private readonly target: VpTarget, readonly vp: number) {}

  /** Fetches every code not yet cached in a single GetVpRegisters call. */
  prefetch(codes: readonly number[]): void {
    const missing = codes.filter((c) => !this.values.has(c));
    if (missing.length === 0) return;
    const got = this.target.getRegisters(this.vp, missing);
    missing.forEach((c, i) => this.values.set(c, got[i]));
  }

  raw(code: number): Uint8Array {
    this.prefetch([code]);
    return this.values.get(code)!;
  }

  read(slice: RegisterSlice): bigint { return readSlice(this.raw(slice.hv), slice); }

  /** Read-modify-write of one slice (or one bit field of it) through SetVpRegisters. */
  write(slice: RegisterSlice, value: bigint, field?: BitField): void {
    if (slice.readOnly) throw new ExpressionError(`${slice.name} is read-only: ${slice.readOnly}`);
    const current = this.raw(slice.hv);
    let v = value;
    if (field) v = setField(readSlice(current, slice), field, value);
    const next = writeSlice(current, slice, v);
    this.target.setRegisters(this.vp, [slice.hv], [next]);
    // Re-read: the partition may normalise (e.g. reserved RFLAGS bits).
    this.values.delete(slice.hv);
  }

  invalidate(): void { this.values.clear(); }
}

export interface AccessorContext {
  target: VpTarget;
  regs: RegisterCache;
  exit?: ExitContext;
  extraExitFields?: Record<string, unknown>;
}

/** Resolves a dotted name to a register slice and optional bit field. */
export function resolveRegister(path: readonly string[]): { slice: RegisterSlice; field?: BitField } | undefined {
  const first = path[0].startsWith('$') ? path[0].slice(1) : path[0];
  const reg = findRegister(first);
  if (!reg) return undefined;
  if (path.length === 1) return { slice: reg };
  return findChild(reg, path.slice(1));
}

export function readMemoryValue(ctx: AccessorContext, address: bigint, size: number, physical: boolean): bigint {
  const buf = new Uint8Array(size);
  const n = physical ? ctx.target.readPhysical(address, buf) : ctx.target.readVirtual(ctx.regs.vp, address, buf);
  if (n < size) {
    const bad = address + BigInt(n);
    throw new ExpressionError(`${physical ? 'physical' : 'virtual'} memory at 0x${bad.toString(16)} is not readable (${physical ? 'no RAM/ROM mapped there' : 'not mapped by the current page tables or no GPA behind it'})`);
  }
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[i]);
  return v;
}

export function guestAccessor(ctx: AccessorContext): EvalAccessor {
  return {
    name(path) {
      const head = path[0].toLowerCase();
      if (head === '$exit') {
        if (!ctx.exit) throw new ExpressionError('$exit: the VP did not stop on an exit');
        if (path.length === 1) return BigInt(ctx.exit.ExitReason);
        return exitField(ctx.exit, path.slice(1), ctx.extraExitFields);
      }
      if (head === '$vp') return BigInt(ctx.regs.vp);
      if (head === '$icount') return BigInt(ctx.target.instructionCount(ctx.regs.vp));
      const r = resolveRegister(path);
      if (r) {
        // As numbers, a segment register is its selector and a table register its base.
        const slice = r.field ? r.slice : r.slice.type === 'segment' ? r.slice.children![0] : r.slice.type === 'table' ? r.slice.children![0] : r.slice;
        const v = ctx.regs.read(slice);
        return r.field ? getField(v, r.field) : v;
      }
      const sym = ctx.target.symbols.lookup(path.join('.'));
      return sym === undefined ? undefined : BigInt(sym);
    },
    readMemory: (address, size, physical) => readMemoryValue(ctx, address, size, physical),
    suggest(path) {
      const want = path.join('.').toLowerCase();
      if (want.startsWith('$exit.') && ctx.exit) {
        const names = exitFieldNames(ctx.exit);
        return names.length ? `one of ${names.slice(0, 12).map((n) => '$exit.' + n).join(', ')}` : undefined;
      }
      const head = path[0].toLowerCase();
      const reg = findRegister(head);
      if (reg && path.length > 1) {
        const fields = [...(reg.children ?? []).map((c) => c.name), ...(reg.bits ?? []).map((b) => b.name)];
        return fields.length ? `one of ${fields.map((f) => `${head}.${f}`).join(', ')}` : `${head} has no fields`;
      }
      const near = allRegisterNames().find((n) => n.startsWith(head.slice(0, 2)) && Math.abs(n.length - head.length) <= 1);
      return near;
    },
  };
}
