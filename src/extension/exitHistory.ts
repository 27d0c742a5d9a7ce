// The "VP Exits" view's model: the exits of the current session, counts per reason, and the
// tree the view shows. Plain data; exitsView.ts maps it onto vscode.TreeItem.
import type { ExitHistoryBody, ExitRecord } from './protocol';
import { exitReasonLabel } from './exitReasons';

export const MAX_EXITS = 10_000;

export type ExitNode =
  | { kind: 'summary' }
  | { kind: 'reason'; reason: string; count: number }
  | { kind: 'exit'; record: ExitRecord }
  | { kind: 'field'; label: string; value: unknown };

export interface ItemData {
  label: string;
  description?: string;
  tooltip?: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  icon?: string;
  contextValue?: string;
  /** Clicking the item runs vpdbg.exits.reveal with this record. */
  reveal?: ExitRecord;
}

export class ExitHistory {
  private exits: ExitRecord[] = [];
  private counts = new Map<string, number>();
  private nextIndex = 0;
  private changeListeners: (() => void)[] = [];

  onDidChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }

  get size(): number {
    return this.exits.length;
  }

  get last(): ExitRecord | undefined {
    return this.exits[this.exits.length - 1];
  }

  countOf(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  clear(): void {
    this.exits = [];
    this.counts.clear();
    this.nextIndex = 0;
    this.changed();
  }

  add(record: ExitRecord): void {
    const r = { ...record, index: record.index ?? this.nextIndex };
    this.nextIndex = Math.max(this.nextIndex, r.index + 1);
    this.exits.push(r);
    if (this.exits.length > MAX_EXITS) this.exits.splice(0, this.exits.length - MAX_EXITS);
    this.counts.set(r.reason, (this.counts.get(r.reason) ?? 0) + 1);
    this.changed();
  }

  /** Replace everything with the adapter's own history (its counts include unreported exits). */
  replace(body: ExitHistoryBody): void {
    this.exits = body.exits.slice(-MAX_EXITS).map((e, i) => ({ ...e, index: e.index ?? i }));
    this.nextIndex = this.exits.reduce((n, e) => Math.max(n, (e.index ?? 0) + 1), 0);
    this.counts = new Map();
    if (body.counts) for (const [k, v] of Object.entries(body.counts)) this.counts.set(k, v);
    else for (const e of body.exits) this.counts.set(e.reason, (this.counts.get(e.reason) ?? 0) + 1);
    this.changed();
  }

  children(node?: ExitNode): ExitNode[] {
    if (!node) {
      if (this.exits.length === 0 && this.counts.size === 0) return [];
      const newestFirst = this.exits.slice().reverse().map((record): ExitNode => ({ kind: 'exit', record }));
      return [{ kind: 'summary' }, ...newestFirst];
    }
    switch (node.kind) {
      case 'summary':
        return [...this.counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([reason, count]) => ({ kind: 'reason', reason, count }));
      case 'reason':
        return this.exits.filter((e) => e.reason === node.reason).reverse().map((record) => ({ kind: 'exit', record }));
      case 'exit':
        return exitFields(node.record);
      case 'field':
        return isObject(node.value) ? Object.entries(node.value).map(([label, value]) => ({ kind: 'field', label, value })) : [];
    }
  }

  item(node: ExitNode): ItemData {
    switch (node.kind) {
      case 'summary': {
        const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
        return { label: `${total} exit${total === 1 ? '' : 's'}`, description: 'counts per reason', collapsible: 'expanded', icon: 'graph', contextValue: 'summary' };
      }
      case 'reason':
        return { label: exitReasonLabel(node.reason), description: `×${node.count}`, tooltip: node.reason, collapsible: 'collapsed', icon: 'symbol-event', contextValue: 'reason' };
      case 'exit': {
        const r = node.record;
        const where = r.rip ? ` @ ${r.rip}` : '';
        // The adapter's descriptions start with the reason id, which the label already says.
        const detail = (r.description ?? '').replace(new RegExp(`^${r.reason}: `), '');
        return {
          label: `#${r.index} ${exitReasonLabel(r.reason)}`,
          description: `${detail}${where}`.trim(),
          tooltip: [r.description, r.instruction && `${r.rip ?? ''}  ${r.instruction}`, r.vp !== undefined ? `VP ${r.vp}` : undefined, r.mode && `${r.mode} mode`].filter(Boolean).join('\n'),
          collapsible: 'collapsed',
          icon: r.stopped ? 'debug-stackframe' : 'circle-small',
          contextValue: 'exit',
          reveal: r,
        };
      }
      case 'field':
        return isObject(node.value)
          ? { label: node.label, collapsible: 'collapsed', contextValue: 'field' }
          : { label: node.label, description: formatValue(node.value), collapsible: 'none', contextValue: 'field' };
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function exitFields(r: ExitRecord): ExitNode[] {
  const fields: ExitNode[] = [];
  const add = (label: string, value: unknown) => { if (value !== undefined && value !== '') fields.push({ kind: 'field', label, value }); };
  add('instruction', r.instruction && `${r.instruction}${r.instructionBytes ? `   (${r.instructionBytes})` : ''}`);
  add('rip', r.rip);
  add('vp', r.vp);
  add('mode', r.mode);
  add('reason', r.reasonCode !== undefined ? `${r.reason} (0x${r.reasonCode.toString(16)})` : r.reason);
  if (isObject(r.context)) for (const [k, v] of Object.entries(r.context)) add(k, v);
  return fields;
}

export function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) > 9 ? `0x${v.toString(16)} (${v})` : String(v);
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  return String(v);
}

/** The text document "reveal" opens: everything known about one exit. */
export function exitDocument(r: ExitRecord): string {
  const lines = [
    `Exit #${r.index ?? '?'}: ${exitReasonLabel(r.reason)}${r.reasonCode !== undefined ? ` (WHV_RUN_VP_EXIT_REASON 0x${r.reasonCode.toString(16)})` : ''}`,
    r.description ?? '',
    '',
  ];
  if (r.rip || r.instruction) lines.push(`instruction: ${r.rip ?? ''}  ${r.instruction ?? ''}${r.instructionBytes ? `   ; ${r.instructionBytes}` : ''}`);
  if (r.vp !== undefined) lines.push(`vp: ${r.vp}`);
  if (r.mode) lines.push(`mode: ${r.mode}`);
  if (r.source) lines.push(`source: ${r.source.path}:${r.source.line}`);
  lines.push(`stopped the guest: ${r.stopped ? 'yes' : 'no'}`, '', 'exit context:', JSON.stringify(r.context ?? {}, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2));
  return lines.join('\n') + '\n';
}
