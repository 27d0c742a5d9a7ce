// The exit reasons the picker offers: the adapter's own exception-breakpoint filter table
// (one source of truth for ids, labels and the condition language).
import { EXIT_FILTERS, FILTER_BY_ID } from '../debugAdapter/exitFilters';

export interface ExitReasonInfo {
  id: string;
  label: string;
  detail: string;
  /** Example condition shown in the condition prompt ('' when the reason has no payload). */
  conditionExample: string;
}

export const exitReasons: readonly ExitReasonInfo[] = EXIT_FILTERS.map((f) => ({
  id: f.id,
  label: f.label,
  detail: f.description,
  conditionExample: f.conditionDescription ?? '',
}));

/** A short label for an exit reason id; unknown ids (vpdbg-only reasons) are shown as sent. */
export function exitReasonLabel(id: string): string {
  return FILTER_BY_ID.get(id)?.label ?? id;
}
