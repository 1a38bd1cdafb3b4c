/**
 * @module training/eval/plot
 * Accuracy-vs-MFLOPs plots as a hand-written SVG string: anytime exits as markers on a line,
 * budgeted-batch curves as lines; several runs overlaid, one colour per run name.
 */
import { niceScale, type NiceScale } from './ticks.js';

/** One point of a series. */
export interface PlotPoint {
  mflops: number;
  /** Percent. */
  accuracy: number;
}

/** One line on the plot. */
export interface PlotSeries {
  /** Run name; series with the same name share a colour. */
  name: string;
  /** `anytime`: per-exit points, dashed line with markers; `budgeted`: a solid curve. */
  kind: 'anytime' | 'budgeted';
  points: PlotPoint[];
}

/** What {@link renderAccuracyPlot} draws. */
export interface AccuracyPlot {
  title: string;
  series: PlotSeries[];
  /** @defaultValue 'MFLOPs (cumulative mult-adds, millions)' */
  xLabel?: string;
  /** @defaultValue 'Top-1 accuracy (%)' */
  yLabel?: string;
}

// Tableau 10: distinguishable colours that stay readable on white and in print.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const WIDTH = 720;
const HEIGHT = 450;
const MARGIN = { left: 70, right: 24, top: 44, bottom: 58 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Escapes text for SVG content and attribute values (run names come from users). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number) => Number(v.toFixed(2)).toString();

/** Renders the plot as a standalone SVG document (viewBox 720×450). */
export function renderAccuracyPlot(plot: AccuracyPlot): string {
  const series = plot.series.map((s) => ({
    ...s,
    // Budgeted points come in p order; sorting by cost draws the curve left to right.
    points: (s.kind === 'budgeted' ? [...s.points].sort((a, b) => a.mflops - b.mflops) : s.points).filter(
      (p) => Number.isFinite(p.mflops) && Number.isFinite(p.accuracy),
    ),
  }));
  const all = series.flatMap((s) => s.points);
  const xs = niceScale(Math.min(...all.map((p) => p.mflops)), Math.max(...all.map((p) => p.mflops)), 7);
  const ys = niceScale(Math.min(...all.map((p) => p.accuracy)), Math.max(...all.map((p) => p.accuracy)), 6);
  const pw = WIDTH - MARGIN.left - MARGIN.right;
  const ph = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (v: number) => MARGIN.left + ((v - xs.min) / (xs.max - xs.min)) * pw;
  const sy = (v: number) => MARGIN.top + ph - ((v - ys.min) / (ys.max - ys.min)) * ph;

  const colours = new Map<string, string>();
  for (const s of series) if (!colours.has(s.name)) colours.set(s.name, PALETTE[colours.size % PALETTE.length]!);

  const key = legend(series, colours, series.map((x) => x.points.map((p) => [sx(p.mflops), sy(p.accuracy)] as const)));
  const height = HEIGHT + key.below;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" ${FONT}>`);
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${WIDTH / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold" fill="#222">${escapeXml(plot.title)}</text>`);
  out.push(...axes(xs, ys, sx, sy, plot.xLabel ?? 'MFLOPs (cumulative mult-adds, millions)', plot.yLabel ?? 'Top-1 accuracy (%)'));

  for (const s of series) {
    const colour = colours.get(s.name)!;
    const pts = s.points.map((p) => `${fmt(sx(p.mflops))},${fmt(sy(p.accuracy))}`).join(' ');
    const style = s.kind === 'anytime' ? 'stroke-width="1.6" stroke-dasharray="5 3"' : 'stroke-width="2.4"';
    out.push(`<polyline fill="none" stroke="${colour}" ${style} stroke-linejoin="round" points="${pts}"><title>${escapeXml(`${s.name} (${s.kind})`)}</title></polyline>`);
    // Markers on anytime exits; a lone budgeted point would otherwise be invisible.
    if (s.kind === 'anytime' || s.points.length === 1) {
      for (const p of s.points) out.push(`<circle cx="${fmt(sx(p.mflops))}" cy="${fmt(sy(p.accuracy))}" r="3.8" fill="${colour}" stroke="#fff" stroke-width="1"/>`);
    }
  }
  out.push(...key.svg);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function axes(xs: NiceScale, ys: NiceScale, sx: (v: number) => number, sy: (v: number) => number, xLabel: string, yLabel: string): string[] {
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const out: string[] = ['<g stroke="#e3e3e3" stroke-width="1">'];
  for (const t of xs.ticks) out.push(`<line x1="${fmt(sx(t))}" y1="${top}" x2="${fmt(sx(t))}" y2="${bottom}"/>`);
  for (const t of ys.ticks) out.push(`<line x1="${left}" y1="${fmt(sy(t))}" x2="${right}" y2="${fmt(sy(t))}"/>`);
  out.push('</g>');
  out.push(`<g stroke="#444" stroke-width="1.2"><line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/></g>`);
  out.push('<g font-size="13" fill="#333">');
  for (const t of xs.ticks) {
    out.push(`<line x1="${fmt(sx(t))}" y1="${bottom}" x2="${fmt(sx(t))}" y2="${bottom + 5}" stroke="#444"/>`);
    out.push(`<text x="${fmt(sx(t))}" y="${bottom + 20}" text-anchor="middle">${t.toFixed(xs.decimals)}</text>`);
  }
  for (const t of ys.ticks) {
    out.push(`<line x1="${left - 5}" y1="${fmt(sy(t))}" x2="${left}" y2="${fmt(sy(t))}" stroke="#444"/>`);
    out.push(`<text x="${left - 9}" y="${fmt(sy(t) + 4.5)}" text-anchor="end">${t.toFixed(ys.decimals)}</text>`);
  }
  out.push('</g>');
  out.push(`<text x="${(left + right) / 2}" y="${HEIGHT - 14}" text-anchor="middle" font-size="14" fill="#222">${escapeXml(xLabel)}</text>`);
  const cy = (top + bottom) / 2;
  out.push(`<text x="18" y="${cy}" text-anchor="middle" font-size="14" fill="#222" transform="rotate(-90 18 ${cy})">${escapeXml(yLabel)}</text>`);
  return out;
}

/**
 * Legend in the plot corner that hides none of the curves (`paths`: each series' points in
 * pixels), the lower right first, where accuracy-vs-cost curves rising to the upper right usually
 * leave room; below the plot when every corner would hide some (`below`: the height it adds).
 */
function legend(series: readonly PlotSeries[], colours: ReadonlyMap<string, string>, paths: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): { svg: string[]; below: number } {
  if (series.length === 0) return { svg: [], below: 0 };
  const rowH = 20;
  const labels = series.map((s) => `${s.name} (${s.kind})`);
  // No text measuring in a string renderer: ~7 px per character at 13 px is a safe estimate.
  const w = Math.min(WIDTH - MARGIN.left - MARGIN.right - 20, 48 + 7.5 * Math.max(...labels.map((l) => l.length)));
  const h = 12 + rowH * series.length;
  const [left, right, top, bottom] = [MARGIN.left + 10, WIDTH - MARGIN.right - 10 - w, MARGIN.top + 10, HEIGHT - MARGIN.bottom - 10 - h];
  // Samples along every segment, so a line crossing the box counts even with no point inside.
  const samples = paths.flatMap((pts) => pts.flatMap(([x1, y1], i) => {
    if (i === 0) return [[x1, y1] as const];
    const [x0, y0] = pts[i - 1]!;
    return Array.from({ length: 16 }, (_, j) => [x0 + ((x1 - x0) * (j + 1)) / 16, y0 + ((y1 - y0) * (j + 1)) / 16] as const);
  }));
  const hides = ([cx, cy]: readonly [number, number]) => samples.some(([px, py]) => px >= cx && px <= cx + w && py >= cy && py <= cy + h);
  const corner = ([[right, bottom], [left, bottom], [left, top], [right, top]] as const).find((c) => !hides(c));
  const [x, y] = corner ?? [MARGIN.left, HEIGHT];
  const below = corner ? 0 : h + 12;
  const out = [`<g class="legend" font-size="13" fill="#222">`, `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="#ffffff" fill-opacity="0.88" stroke="#bbb" rx="4"/>`];
  series.forEach((s, i) => {
    const colour = colours.get(s.name)!;
    const ry = y + 16 + i * rowH;
    const style = s.kind === 'anytime' ? 'stroke-width="1.6" stroke-dasharray="5 3"' : 'stroke-width="2.4"';
    out.push(`<line x1="${x + 8}" y1="${ry}" x2="${x + 34}" y2="${ry}" stroke="${colour}" ${style}/>`);
    if (s.kind === 'anytime') out.push(`<circle cx="${x + 21}" cy="${ry}" r="3.8" fill="${colour}" stroke="#fff" stroke-width="1"/>`);
    out.push(`<text x="${x + 40}" y="${ry + 4.5}">${escapeXml(labels[i]!)}</text>`);
  });
  out.push('</g>');
  return { svg: out, below };
}
