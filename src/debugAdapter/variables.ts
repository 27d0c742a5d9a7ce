// Variables-pane model: the Registers scope (groups -> registers -> fields/bits) and the
// Exit Context scope, built from one RegisterCache per stop.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { getField, summarizeBits } from './bitfields';
import { exitToPlain } from '../partition/exitDescription';
import { formatValue, addressRef } from './format';
import type { RegisterCache } from './guestAccessor';
import { codesOf, REGISTER_GROUPS, RegisterGroup, RegisterSlice } from './registers';

/** Bits 51:12 of a physical pointer register (CR3's flag bits dropped). */
const PAGE_FRAME = 0x000ffffffffff000n;

export type Container =
  | { kind: 'registers'; vp: number }
  | { kind: 'group'; vp: number; group: RegisterGroup }
  | { kind: 'register'; vp: number; slice: RegisterSlice; evaluateName: string }
  | { kind: 'exit'; value: Record<string, unknown>; evaluateName: string };

export class VariableStore {
  private containers: Container[] = [];
  hex = true;

  /** Forgets every reference (at each stop and continue). */
  reset(): void { this.containers = []; }

  ref(c: Container): number {
    this.containers.push(c);
    return this.containers.length; // references start at 1
  }

  get(ref: number): Container | undefined { return this.containers[ref - 1]; }

  /** Codes the non-lazy groups need: fetched with one GetVpRegisters call per stop. */
  static visibleCodes(): number[] { return codesOf(REGISTER_GROUPS.filter((g) => !g.lazy)); }

  /** Children of a container; `regsFor` gives the stop's register cache of a VP. */
  children(c: Container, regsFor: (vp: number) => RegisterCache): DebugProtocol.Variable[] {
    switch (c.kind) {
      case 'registers':
        return REGISTER_GROUPS.map((g) => ({
          // Lazy groups (MSRs, SSE, x87) are read only when expanded, in one call per group.
          name: g.name, value: '', variablesReference: this.ref({ kind: 'group', vp: c.vp, group: g }), presentationHint: { kind: 'virtual' },
        }));
      case 'group': {
        const regs = regsFor(c.vp);
        regs.prefetch(codesOf([c.group]));
        return c.group.registers.map((r) => this.registerVariable(r, r.name, regs));
      }
      case 'register': {
        const regs = regsFor(c.vp);
        const v = regs.read(c.slice);
        const out: DebugProtocol.Variable[] = (c.slice.children ?? []).map((ch) => this.registerVariable(ch, `${c.evaluateName}.${ch.name}`, regs));
        for (const f of c.slice.bits ?? []) {
          const fv = getField(v, f);
          out.push({
            name: f.name, value: f.width === 1 ? fv.toString() : formatValue(fv, this.hex ? 'x' : 'd'),
            type: `${f.description} (bit${f.width > 1 ? `s ${f.lsb + f.width - 1}:${f.lsb}` : ` ${f.lsb}`})`,
            evaluateName: `${c.evaluateName}.${f.name}`, variablesReference: 0,
          });
        }
        return out;
      }
      case 'exit':
        return Object.entries(c.value).map(([k, v]) => this.plainVariable(k, v, `${c.evaluateName}.${k}`));
    }
  }

  registerVariable(r: RegisterSlice, evaluateName: string, regs: RegisterCache): DebugProtocol.Variable {
    const v = regs.read(r);
    const expandable = (r.children?.length ?? 0) > 0 || (r.bits?.length ?? 0) > 0;
    let value = formatValue(v, this.hex ? 'x' : 'd', this.hex ? r.size : undefined);
    if (r.bits) value += ` ${summarizeBits(v, r.bits)}`;
    if (r.type === 'segment') {
      const [sel, base, limit, attr] = r.children!.map((ch) => regs.read(ch));
      value = `${formatValue(sel, 'x', 2)} (base ${formatValue(base, 'x')}, limit ${formatValue(limit, 'x')}, attr ${formatValue(attr, 'x', 2)})`;
    } else if (r.type === 'table') {
      const [base, limit] = r.children!.map((ch) => regs.read(ch));
      value = `base ${formatValue(base, 'x')}, limit ${formatValue(limit, 'x')}`;
    }
    return {
      name: r.name, value, evaluateName, type: r.type,
      variablesReference: expandable ? this.ref({ kind: 'register', vp: regs.vp, slice: r, evaluateName }) : 0,
      memoryReference: r.address === 'physical' ? addressRef(v & PAGE_FRAME, true) : r.address ? addressRef(v) : undefined,
      presentationHint: r.readOnly ? { attributes: ['readOnly'] } : undefined,
    };
  }

  private plainVariable(name: string, v: unknown, evaluateName: string): DebugProtocol.Variable {
    if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      return { name, value: summarizeObject(v as Record<string, unknown>), evaluateName, variablesReference: this.ref({ kind: 'exit', value: v as Record<string, unknown>, evaluateName }), presentationHint: { attributes: ['readOnly'] } };
    }
    let value: string;
    if (typeof v === 'bigint') value = formatValue(v, this.hex ? 'x' : 'd');
    else if (typeof v === 'number') value = formatValue(BigInt(Math.trunc(v)), this.hex ? 'x' : 'd');
    else value = String(exitToPlain(v));
    return { name, value, evaluateName, variablesReference: 0, presentationHint: { attributes: ['readOnly'] } };
  }
}

function summarizeObject(o: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'AsUINT32' || k === 'AsUINT16' || k === 'AsUINT64') continue;
    if (typeof v === 'boolean') { if (v) parts.push(k); continue; }
    if (typeof v === 'number' || typeof v === 'bigint') parts.push(`${k}=${formatValue(BigInt(v), 'x')}`);
    if (parts.length >= 4) { parts.push('…'); break; }
  }
  return `{${parts.join(', ')}}`;
}
