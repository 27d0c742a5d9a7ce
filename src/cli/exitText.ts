// Exit contexts as text for the terminal: one line per exit for --trace-exits, and the
// decoded context when a run ends abnormally. The one-line form is the debugger's.
import type { RunVpExitContext } from '../partition/exitContext';
import { WhvRunVpExitReason as X } from '../partition/hvdef';
import { describeExit, exitToPlain } from '../partition/exitDescription';

/** `[vp0 @1234] X64IoPortAccess: IN 0x3FD (1 byte) → com1 = 0x60`: the exit, who handled it, what a read got. */
export function traceLine(vp: number, instructions: number, exit: RunVpExitContext, device: string | undefined, result?: bigint | 'gp'): string {
  const answer = result === undefined ? '' : result === 'gp' ? ' → #GP' : ` = 0x${result.toString(16).toUpperCase()}`;
  return `[vp${vp} @${instructions}] ${describeExit(exit)}${device ? ` → ${device}` : ''}${answer}`;
}

const SEGMENT_KEYS = ['Selector', 'Base', 'Limit', 'Attributes'];

/** The decoded exit context: the description line, then one field per line; segments on one line. */
export function exitContextText(exit: RunVpExitContext): string {
  const lines = [`  ${describeExit(exit)}`, `  ExitReason: ${X[exit.ExitReason] ?? exit.ExitReason} (0x${exit.ExitReason.toString(16)})`];
  const walk = (v: Record<string, unknown>, indent: string) => {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'ExitReason') continue;
      if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
        const o = x as Record<string, unknown>;
        if ('Selector' in o && 'Attributes' in o) { lines.push(`${indent}${k}: ${SEGMENT_KEYS.map((s) => `${s} ${String(o[s])}`).join('  ')}`); continue; }
        if ('AsUINT16' in o || 'AsUINT32' in o) {
          const flags = Object.entries(o).filter(([f]) => !f.startsWith('AsUINT')).map(([f, b]) => (typeof b === 'boolean' ? (b ? f : '') : `${f}=${String(b)}`)).filter(Boolean);
          lines.push(`${indent}${k}: ${flags.join(' ') || '-'}`);
          continue;
        }
        lines.push(`${indent}${k}:`);
        walk(o, indent + '  ');
      } else if (!(k === 'InstructionBytes' && typeof x === 'string' && /^(00 ?)*$/.test(x))) {
        lines.push(`${indent}${k}: ${String(x)}`);
      }
    }
  };
  walk(exitToPlain(exit) as Record<string, unknown>, '  ');
  return lines.join('\n');
}
