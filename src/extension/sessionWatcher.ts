// Follows one vpdbg session's DAP traffic (seen through a DebugAdapterTracker) and keeps the
// exit history and VP status current. Works from standard `stopped` events alone; the
// adapter's vpdbg.exit / vpdbg.status events add the decoded details.
import type { ExitHistory } from './exitHistory';
import { ExitEvent, StatusEvent, type ExitRecord, type StatusBody } from './protocol';

interface DapMessage { type?: string; event?: string; body?: any }

export class SessionWatcher {
  status: StatusBody | undefined;
  private exitSinceResume = false;
  private listeners: (() => void)[] = [];

  constructor(private readonly history: ExitHistory) {}

  onDidChangeStatus(listener: () => void): void {
    this.listeners.push(listener);
  }

  private statusChanged(): void {
    for (const l of this.listeners) l();
  }

  handle(message: DapMessage): void {
    if (message.type !== 'event') return;
    switch (message.event) {
      case ExitEvent:
        if (message.body && typeof message.body.reason === 'string') {
          this.history.add(message.body as ExitRecord);
          this.exitSinceResume = true;
          this.status = { ...this.status, lastExit: message.body.description ?? message.body.reason, ...(message.body.mode ? { mode: message.body.mode } : {}) };
          this.statusChanged();
        }
        break;
      case StatusEvent:
        this.status = { ...this.status, ...(message.body as StatusBody) };
        this.statusChanged();
        break;
      case 'stopped': {
        const b = message.body ?? {};
        // An exit that stopped without a vpdbg.exit event: record what the stop says.
        if (!this.exitSinceResume && b.reason === 'exception') {
          this.history.add({ reason: b.text || 'Exception', description: b.description, stopped: true, vp: b.threadId !== undefined ? b.threadId - 1 : undefined });
        }
        this.status = { ...this.status, running: false };
        this.statusChanged();
        break;
      }
      case 'continued':
        this.exitSinceResume = false;
        this.status = { ...this.status, running: true };
        this.statusChanged();
        break;
    }
  }
}
