/**
 * A progress line for long work: redrawn in place on a terminal, one line per step otherwise (logs, CI).
 */

/** A progress indicator writing to a stream (stderr by default, so stdout stays clean for results). */
export class Progress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private lastWidth = 0;

  constructor(out: NodeJS.WriteStream = process.stderr, private readonly quiet = false) {
    this.out = out;
    this.tty = out.isTTY === true;
  }

  /** Shows `label` with a bar for done/total and a trailing detail. */
  update(done: number, total: number, label: string, detail = ''): void {
    if (this.quiet) return;
    const width = 24;
    const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const line = `${label} ${bar} ${done}/${total} ${detail}`;
    if (this.tty) {
      const pad = Math.max(0, this.lastWidth - line.length);
      this.out.write(`\r${line}${' '.repeat(pad)}`);
      this.lastWidth = line.length;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** A one-off message on its own line. */
  note(message: string): void {
    if (this.quiet) return;
    this.end();
    this.out.write(`${message}\n`);
  }

  /** Ends an in-place line. */
  end(): void {
    if (this.tty && this.lastWidth > 0) this.out.write('\n');
    this.lastWidth = 0;
  }
}
