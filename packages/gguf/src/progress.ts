// A one-line progress bar on a TTY stream (stderr by default); silent elsewhere so logs stay clean.

export interface ProgressStream { isTTY?: boolean; columns?: number; write(s: string): unknown }

export class ProgressBar {
  private last = 0;
  private readonly start = Date.now();
  readonly enabled: boolean;

  constructor(private readonly label: string, private readonly total: number,
    private readonly stream: ProgressStream = process.stderr, force = false) {
    this.enabled = force || !!stream.isTTY;
  }

  update(done: number, note = ""): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < this.total) return; // at most 10 redraws a second
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 30;
    const fill = Math.round(frac * width);
    const secs = ((now - this.start) / 1000).toFixed(1);
    const line = `${this.label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${(frac * 100).toFixed(1).padStart(5)}% ${secs}s ${note}`;
    const cols = this.stream.columns ?? 120;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(cols - 1)}`);
  }

  finish(note = ""): void {
    if (!this.enabled) return;
    this.last = 0;
    this.update(this.total, note);
    this.stream.write("\n");
  }
}
