/**
 * @module training/eval/plot-series
 * Turns a stored evaluation into plot series, so overlaying runs is a flatMap over results.
 */
import type { PlotSeries } from './plot.js';
import type { EvalResult } from './result.js';

/**
 * The anytime series (test top-1 per exit) and, when the run has a validation set, the
 * budgeted-batch series (test accuracy vs expected test MFLOPs) of one evaluation.
 */
export function evalResultSeries(result: EvalResult, name = result.name ?? 'run'): PlotSeries[] {
  const series: PlotSeries[] = [{ name, kind: 'anytime', points: result.exits.map((e) => ({ mflops: e.mflops, accuracy: e.top1 })) }];
  if (result.budgeted.length > 0) {
    series.push({ name, kind: 'budgeted', points: result.budgeted.map((b) => ({ mflops: b.expectedMflops, accuracy: b.testAccuracy })) });
  }
  return series;
}
