// "Break on Exit Reason…": pick exit reasons, give each an optional condition, send them to
// the running session. VS Code's extension API cannot toggle a session's exception filters
// (vscode.debug.addBreakpoints takes only source and function breakpoints), so the choice
// travels as the custom request vpdbg.setExitBreakpoints with setExceptionBreakpoints'
// arguments, merged with the BREAKPOINTS view's filters, is remembered per workspace and is
// sent again to each new vpdbg session (after VS Code's own setExceptionBreakpoints).
import type { Host, PickItem } from './seam';
import { exitReasons } from './exitReasons';
import { SetExitBreakpointsRequest, type SetExitBreakpointsArgs } from './protocol';

export const STATE_KEY = 'vpdbg.exitBreakpoints';

export function savedExitBreakpoints(host: Host): SetExitBreakpointsArgs {
  return host.getState<SetExitBreakpointsArgs>(STATE_KEY) ?? { filters: [], filterOptions: [] };
}

interface ReasonPick extends PickItem { id: string; example: string }

/** Runs the picker; returns the new setting, or undefined if the user cancelled. */
export async function pickExitBreakpoints(host: Host): Promise<SetExitBreakpointsArgs | undefined> {
  const current = savedExitBreakpoints(host);
  const conditionOf = new Map(current.filterOptions.map((o) => [o.filterId, o.condition ?? '']));
  const enabled = new Set([...current.filters, ...conditionOf.keys()]);
  const items: ReasonPick[] = exitReasons.map((r) => ({
    id: r.id,
    example: r.conditionExample,
    label: r.label,
    description: conditionOf.get(r.id) ? `if ${conditionOf.get(r.id)}` : r.id,
    detail: r.detail,
    picked: enabled.has(r.id),
  }));
  const picked = await host.pickMany(items, { title: 'Break on Exit Reason', placeHolder: 'Stop the guest when it causes these exits' });
  if (!picked) return undefined;
  const result: SetExitBreakpointsArgs = { filters: [], filterOptions: [] };
  for (const p of picked) {
    const condition = await host.input({
      title: `Condition for ${p.label}`,
      prompt: 'Stop only when this expression over the exit context is true (empty: always stop).',
      placeHolder: p.example || 'e.g. Rip == 0x1000',
      value: conditionOf.get(p.id) ?? '',
    });
    if (condition === undefined) return undefined;
    const trimmed = condition.trim();
    result.filterOptions.push(trimmed ? { filterId: p.id, condition: trimmed } : { filterId: p.id });
  }
  await host.setState(STATE_KEY, result);
  return result;
}

/** Sends the setting to a vpdbg session; returns an error message if the adapter refused. */
/**
 * The adapter keeps one set of exit filters: whichever of setExceptionBreakpoints (the
 * BREAKPOINTS view's checkboxes) and vpdbg.setExitBreakpoints came last. So the picker sends
 * the union of both: a reason either side enables stops; with two conditions it stops when
 * either holds; an unconditional side wins.
 */
export function mergeExitBreakpoints(ui: SetExitBreakpointsArgs | undefined, mine: SetExitBreakpointsArgs): SetExitBreakpointsArgs {
  const conditions = new Map<string, string[] | 'always'>();
  const add = (id: string, condition?: string) => {
    const have = conditions.get(id);
    if (!condition || have === 'always') conditions.set(id, 'always');
    else conditions.set(id, [...(have ?? []), condition]);
  };
  for (const id of ui?.filters ?? []) add(id);
  for (const o of ui?.filterOptions ?? []) add(o.filterId, o.condition);
  for (const o of mine.filterOptions) add(o.filterId, o.condition);
  const merged: SetExitBreakpointsArgs = { filters: [], filterOptions: [] };
  for (const [id, c] of conditions) {
    if (c === 'always') merged.filterOptions.push({ filterId: id });
    else merged.filterOptions.push({ filterId: id, condition: c.length === 1 ? c[0] : c.map((x) => `(${x})`).join(' || ') });
  }
  return merged;
}

/** Sends the setting (merged with the UI's filters) to a vpdbg session; returns an error message if the adapter refused. */
export async function applyExitBreakpoints(host: Host, mine: SetExitBreakpointsArgs, session = host.activeDebugSession(), ui?: SetExitBreakpointsArgs): Promise<string | undefined> {
  if (!session || session.type !== 'vpdbg') return undefined;
  const args = mergeExitBreakpoints(ui, mine);
  const ids = [...args.filters, ...args.filterOptions.map((o) => o.filterId)];
  try {
    const body = await session.customRequest(SetExitBreakpointsRequest, args);
    const refused = (body?.breakpoints ?? []).map((b: { verified?: boolean; message?: string }, i: number) => (b.verified === false ? `${ids[i]}: ${b.message ?? 'not accepted'}` : undefined)).filter(Boolean);
    return refused.length ? refused.join('; ') : undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** `ui` gives the BREAKPOINTS view's current filters for the active session, if known. */
export async function breakOnExitReasonCommand(host: Host, ui?: () => SetExitBreakpointsArgs | undefined): Promise<void> {
  const args = await pickExitBreakpoints(host);
  if (!args) return;
  const error = await applyExitBreakpoints(host, args, host.activeDebugSession(), ui?.());
  if (error) await host.showError(`vpdbg: exit breakpoints: ${error}`);
  else if (!host.activeDebugSession()) await host.showInfo(`vpdbg: ${args.filterOptions.length} exit breakpoint(s) saved; they apply when the next session starts.`);
}
