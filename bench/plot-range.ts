/**
 * A y range for `linePlot` that keeps the data clear of the legend, which `linePlot` draws inside the
 * plot's top-left corner, one 16 px line per series.
 */

/** Plot height used by the benchmarks' plots, and `linePlot`'s top and bottom margins. */
export const PLOT_HEIGHT = 420;
const MARGIN_TOP = 40;
const MARGIN_BOTTOM = 55;
const LEGEND_LINE = 16;
const LEGEND_PAD = 24;

/**
 * [y0, y1] such that every finite value lies in the lower part of the plot, below a legend of
 * `legendLines` entries. Values that are all equal get a unit span.
 */
export function rangeBelowLegend(values: readonly number[], legendLines: number, height: number = PLOT_HEIGHT): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  let lo = finite.length > 0 ? Math.min(...finite) : 0;
  let hi = finite.length > 0 ? Math.max(...finite) : 1;
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const y0 = lo - 0.05 * (hi - lo);
  const inner = height - MARGIN_TOP - MARGIN_BOTTOM;
  const free = Math.max(0.3, 1 - (LEGEND_PAD + LEGEND_LINE * legendLines) / inner);
  return [y0, y0 + (hi - y0) / free];
}
