/**
 * Plain-text tables for terminal output.
 */

/** Renders rows as an aligned table; numbers are right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (numeric[i] === true ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/** Four significant decimals for metrics, integers as they are, NaN as "n/a". */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'n/a';
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(4);
}
