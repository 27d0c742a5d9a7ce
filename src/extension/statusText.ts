// What the status bar says while a vpdbg session runs: the VP's mode and the last exit.
import type { ExitRecord, StatusBody } from './protocol';
import { exitReasonLabel } from './exitReasons';

const modeNames: Record<string, string> = {
  real: 'real mode', protected: 'protected mode', protected16: '16-bit protected', protected32: '32-bit protected',
  compatibility: 'compatibility mode', long: 'long mode', long64: '64-bit long mode', v8086: 'virtual-8086',
};

export function statusText(status: StatusBody | undefined, last: ExitRecord | undefined): { text: string; tooltip: string } {
  const vp = status?.vp !== undefined ? `VP${status.vp}` : 'VP';
  const mode = status?.mode ? modeNames[status.mode] ?? status.mode : undefined;
  const state = status?.running ? 'running' : undefined;
  const exit = last ? exitReasonLabel(last.reason) : status?.lastExit;
  const text = ['$(chip)', vp, mode, state && `(${state})`, exit && `· ${exit}`].filter(Boolean).join(' ');
  const tooltip = [
    `Virtual processor ${status?.vp ?? 0}${mode ? ` in ${mode}` : ''}${status?.cpl !== undefined ? `, CPL ${status.cpl}` : ''}`,
    last ? `Last exit: ${last.description ?? exitReasonLabel(last.reason)}${last.rip ? ` at ${last.rip}` : ''}` : status?.lastExit ? `Last exit: ${status.lastExit}` : 'No exit yet',
    'Click to show the VP Exits view',
  ].join('\n');
  return { text, tooltip };
}
