/**
 * Dependency-free SVG line plots, for benchmark curves and per-round metrics. Pure: returns a string.
 */

/** One line of a plot. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** Plot options. */
export interface PlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Force the y range (e.g. [0, 1] for accuracy). */
  readonly yRange?: readonly [number, number];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / nice) * nice; t <= hi + 1e-12; t += nice) out.push(Number(t.toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

/** Renders series as an SVG line chart with axes, ticks and a legend. */
export function linePlot(series: readonly Series[], o: PlotOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 400;
  const m = { l: 70, r: 20, t: 40, b: 55 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).filter((y) => Number.isFinite(y));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = o.yRange !== undefined ? [o.yRange[0], o.yRange[1]] : [Math.min(...ys), Math.max(...ys)];
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  if (o.yRange === undefined && !o.logY) {
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  const fx = (x: number): number =>
    m.l + ((o.logX === true ? Math.log10(x) - Math.log10(x0) : x - x0) / (o.logX === true ? Math.log10(x1) - Math.log10(x0) : x1 - x0)) * (W - m.l - m.r);
  const fy = (y: number): number =>
    H - m.b - ((o.logY === true ? Math.log10(y) - Math.log10(y0) : y - y0) / (o.logY === true ? Math.log10(y1) - Math.log10(y0) : y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`);
  for (const t of ticks(x0, x1, o.logX === true)) {
    const x = fx(t);
    parts.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${H - m.b + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of ticks(y0, y1, o.logY === true)) {
    const y = fy(t);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${label(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${fx(p[0]).toFixed(1)},${fy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of pts) parts.push(`<circle cx="${fx(p[0]).toFixed(1)}" cy="${fy(p[1]).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const ly = m.t + 14 + i * 16;
    parts.push(`<line x1="${m.l + 10}" y1="${ly - 4}" x2="${m.l + 28}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${m.l + 32}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
