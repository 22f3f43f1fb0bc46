// A one-line progress bar on a terminal; silent when stderr is not a TTY (pipes, CI logs, tests).

const BAR_WIDTH = 24;

export class ProgressBar {
  private shown = false;

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(label: string, done: number, total: number): void {
    if (!this.enabled) return;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
    const text = `[${bar}] ${String(Math.round(fraction * 100)).padStart(3)}% ${label} ${done}/${total} B`;
    const columns = this.stream.columns ?? 80;
    this.stream.write(`\r\x1b[K${text.slice(0, columns - 1)}`);
    this.shown = true;
  }

  /** Clears the bar so the next line of output starts clean. */
  clear(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
