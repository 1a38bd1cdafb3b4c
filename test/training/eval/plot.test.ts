import { describe, expect, it } from 'vitest';
import { niceScale, renderAccuracyPlot, type PlotSeries } from '../../../training/eval/index.js';

/** A small XML check: tags nest and close, text and attributes hold no raw `<` or bare `&`. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    expect(text, `text before ${m[0]}`).not.toMatch(/<|&(?!(amp|lt|gt|quot|#\d+);)/);
    expect(m[3] ?? '').not.toMatch(/&(?!(amp|lt|gt|quot|#\d+);)/);
    last = tag.lastIndex;
    if (m[4]) continue;
    if (m[1]) expect(stack.pop(), `closing ${m[2]}`).toBe(m[2]);
    else stack.push(m[2]!);
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
}

const series: PlotSeries[] = [
  { name: 'IMTA', kind: 'anytime', points: [15.1, 25.5, 37.1, 46.3, 57.3].map((mflops, i) => ({ mflops, accuracy: 60 + 5 * i })) },
  { name: 'IMTA', kind: 'budgeted', points: [{ mflops: 40, accuracy: 78 }, { mflops: 20, accuracy: 70 }, { mflops: 30, accuracy: 75 }] },
  { name: 'MSDNet <baseline> & co', kind: 'anytime', points: [15.1, 25.5, 37.1].map((mflops, i) => ({ mflops, accuracy: 58 + 4 * i })) },
  { name: 'MSDNet <baseline> & co', kind: 'budgeted', points: [{ mflops: 22, accuracy: 66 }] },
];

describe('accuracy plot', () => {
  const svg = renderAccuracyPlot({ title: 'CIFAR-100 & friends', series });

  it('is a well-formed SVG with a viewBox', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('viewBox="0 0 720 450"');
    expectWellFormed(svg);
  });

  it('draws one polyline per series, markers on anytime points, a legend naming each', () => {
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    // 5 + 3 anytime markers in the plot, 1 for the lone budgeted point, 2 in the legend.
    expect(svg.match(/<circle/g)).toHaveLength(11);
    expect(svg).toContain('IMTA (anytime)');
    expect(svg).toContain('IMTA (budgeted)');
    expect(svg).toContain('MSDNet &lt;baseline&gt; &amp; co (budgeted)');
    expect(svg).toContain('CIFAR-100 &amp; friends');
    expect(svg).toContain('Top-1 accuracy (%)');
  });

  it('puts the legend in the corner that hides the least: lower right for rising curves, elsewhere when a curve runs there', () => {
    const box = (svg: string) => svg.match(/<g class="legend"[^>]*>\s*<rect x="([\d.]+)" y="([\d.]+)"/)!.slice(1).map(Number);
    const [x, y] = box(svg);
    expect(x).toBeGreaterThan(360);
    expect(y).toBeGreaterThan(225);
    // Falling from the upper left to the lower right: the lower-left corner is free.
    const falling = renderAccuracyPlot({ title: 't', series: [{ name: 'a', kind: 'anytime', points: [0, 1, 2, 3, 4, 5].map((i) => ({ mflops: i, accuracy: 90 - 4 * i })) }] });
    const [fx, fy] = box(falling);
    expect(fx).toBeLessThan(100);
    expect(fy).toBeGreaterThan(225);
    // Both diagonals: every corner hides a line, so the legend goes below the plot, which grows.
    const line = (name: string, sign: number) => ({ name, kind: 'anytime' as const, points: [0, 1, 2, 3, 4, 5].map((i) => ({ mflops: i, accuracy: 80 + sign * (4 * i - 10) })) });
    const crowded = renderAccuracyPlot({ title: 't', series: [line('up', 1), line('down', -1)] });
    const [, cy] = box(crowded);
    expect(cy).toBeGreaterThanOrEqual(450);
    expect(crowded).toMatch(/viewBox="0 0 720 (\d+)"/);
    expect(Number(crowded.match(/viewBox="0 0 720 (\d+)"/)![1])).toBeGreaterThan(cy! + 40);
    expectWellFormed(crowded);
  });

  it('gives each run one colour', () => {
    const strokes = [...svg.matchAll(/<polyline fill="none" stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(strokes[0]).toBe(strokes[1]);
    expect(strokes[2]).toBe(strokes[3]);
    expect(strokes[0]).not.toBe(strokes[2]);
  });

  it('survives an empty plot', () => {
    expectWellFormed(renderAccuracyPlot({ title: 'empty', series: [] }));
  });
});

describe('nice ticks', () => {
  it('uses 1-2-5 steps and covers the data', () => {
    expect(niceScale(0.3, 9.7)).toMatchObject({ min: 0, max: 10, step: 2, ticks: [0, 2, 4, 6, 8, 10], decimals: 0 });
    expect(niceScale(15.1, 75.9, 7)).toMatchObject({ min: 10, max: 80, step: 10 });
    expect(niceScale(0.61, 0.64).ticks).toEqual([0.61, 0.615, 0.62, 0.625, 0.63, 0.635, 0.64]);
    const one = niceScale(50, 50);
    expect(one.min).toBeLessThan(50);
    expect(one.max).toBeGreaterThan(50);
  });
});
