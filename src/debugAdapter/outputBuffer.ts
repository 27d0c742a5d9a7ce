// Guest serial output on its way to the Debug Console: collected and sent in batches at
// most every FLUSH_MS and at most MAX_CHUNK characters per event, so a guest printing in a
// loop cannot flood the client; nothing is dropped (the runtime slows the guest instead
// when the backlog grows, see backlog()).
export const FLUSH_MS = 50;
export const MAX_CHUNK = 64 * 1024;

export class OutputBuffer {
  private readonly decoder = new TextDecoder('utf-8');
  private parts: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (text: string) => void) {}

  push(bytes: Uint8Array): void {
    const text = this.decoder.decode(bytes, { stream: true });
    if (text.length === 0) return;
    this.parts.push(text);
    this.size += text.length;
    this.timer ??= setTimeout(() => this.tick(), FLUSH_MS);
  }

  /** Characters not yet sent. */
  backlog(): number { return this.size; }

  private tick(): void {
    this.timer = undefined;
    this.sendChunk(MAX_CHUNK);
    if (this.size > 0) this.timer = setTimeout(() => this.tick(), FLUSH_MS);
  }

  private sendChunk(limit: number): void {
    if (this.size === 0) return;
    let all = this.parts.join('');
    this.parts = [];
    if (all.length > limit) {
      this.parts.push(all.slice(limit));
      all = all.slice(0, limit);
    }
    this.size -= all.length;
    this.send(all);
  }

  /** Sends everything now (before a stop, the end of the guest or a disconnect). */
  flush(): void {
    const tail = this.decoder.decode();
    if (tail) { this.parts.push(tail); this.size += tail.length; }
    while (this.size > 0) this.sendChunk(MAX_CHUNK);
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
