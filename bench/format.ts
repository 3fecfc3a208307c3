/**
 * Markdown and number formatting for BENCHMARKS.md.
 */

/** A markdown table; `align` gives 'l' or 'r' per column (default: first left, others right). */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const sep = a.map((x) => (x === 'r' ? '---:' : ':---'));
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${sep.join('|')}|`, ...rows.map(line)].join('\n');
}

/** A number with `digits` decimals; '—' for NaN or undefined. */
export function fixed(x: number | undefined, digits: number): string {
  return x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
}

/** A large count with thousands separators and no decimals (1,234,567). */
export function count(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** Milliseconds, with a precision suited to the magnitude. */
export function ms(x: number): string {
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`;
  if (x >= 10) return `${x.toFixed(0)} ms`;
  return `${x.toFixed(2)} ms`;
}

/** Bytes as MiB or GiB. */
export function bytes(x: number): string {
  const gib = x / 2 ** 30;
  return gib >= 1 ? `${gib.toFixed(2)} GiB` : `${(x / 2 ** 20).toFixed(0)} MiB`;
}

/** "met" or "**missed**", for a target column. */
export function verdict(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}
