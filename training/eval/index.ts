/**
 * @module training/eval
 * Evaluation of multi-exit classifiers on plain typed arrays (spec §6): anytime accuracy,
 * budgeted-batch thresholds, the default policy, the stored result and accuracy-vs-MFLOPs plots.
 */
export * from '../../calibration/index.js';
export { anytimeAccuracy, type AnytimeRow } from './anytime.js';
export { evaluateExits, type EvaluateOptions } from './evaluate.js';
export {
  EVAL_RESULT_FILE,
  EVAL_RESULT_FORMAT,
  EVAL_RESULT_VERSION,
  EvalResultError,
  EvalResultSchema,
  parseEvalResult,
  readEvalResult,
  writeEvalResult,
  type EvalResult,
} from './result.js';
export { niceScale, niceStep, type NiceScale } from './ticks.js';
export { escapeXml, renderAccuracyPlot, type AccuracyPlot, type PlotPoint, type PlotSeries } from './plot.js';
export { evalResultSeries } from './plot-series.js';
