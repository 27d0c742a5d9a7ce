// The custom DAP traffic between this extension and src/debugAdapter (beyond standard DAP).
// Views work from standard DAP alone (stopped events, exceptionInfo); these add detail.
//
// Events the adapter sends:
//   vpdbg.exit    { index, vp, reason, reasonCode?, description, rip, mode?, instruction?,
//                   instructionBytes?, stopped, context, source? }
//                 one per exit the adapter reports (at least every stop-worthy exit);
//                 `reason` is the exit filter id (X64IoPortAccess, MemoryAccess, ...),
//                 `context` the decoded WHV_RUN_VP_EXIT_CONTEXT (BigInts as hex strings).
//   vpdbg.status  { vp, mode, cpl?, running, lastExit? }  on every run/stop transition.
// Requests the extension sends (session.customRequest):
//   vpdbg.exitHistory       {}                        -> { exits: ExitRecord[], counts?: Record<reason, number> }
//   vpdbg.setExitBreakpoints SetExceptionBreakpointsArguments (filters + filterOptions with
//                           conditions) -> { breakpoints? }. VS Code's extension API cannot set
//                           exception-breakpoint filters, so the picker goes through this request.
//   vpdbg.setNumberFormat   { hex: boolean }          -> {} and then an `invalidated` event
//                           (areas: ['variables']) so the Variables pane re-reads the values.

export const ExitEvent = 'vpdbg.exit';
export const StatusEvent = 'vpdbg.status';
export const ExitHistoryRequest = 'vpdbg.exitHistory';
export const SetExitBreakpointsRequest = 'vpdbg.setExitBreakpoints';
export const SetNumberFormatRequest = 'vpdbg.setNumberFormat';

export interface ExitRecord {
  index?: number;
  vp?: number;
  reason: string;
  reasonCode?: number;
  description?: string;
  rip?: string;
  mode?: string;
  instruction?: string;
  instructionBytes?: string;
  stopped?: boolean;
  context?: unknown;
  source?: { path: string; line: number };
}

export interface StatusBody {
  vp?: number;
  mode?: string;
  cpl?: number;
  running?: boolean;
  lastExit?: string;
}

export interface ExitHistoryBody {
  exits: ExitRecord[];
  counts?: Record<string, number>;
}

export interface FilterOption { filterId: string; condition?: string }
export interface SetExitBreakpointsArgs { filters: string[]; filterOptions: FilterOption[] }
