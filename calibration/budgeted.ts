/**
 * @module calibration/budgeted
 * Budgeted batch classification (spec §6.2): one calibration point per p (thresholds from the
 * validation set, scored on the test set), and the default operating point picked from them.
 */
import { DEFAULT_CRITERION, exitScores, type ExitCriterion, type ExitScores } from './confidence.js';
import { EvalInputError, type ExitOutputs } from './exit-outputs.js';
import { applyThresholds, confidenceOrders, defaultPGrid, exitDistribution, findThresholds } from './thresholds.js';

/** One calibration point of the budgeted-batch curve. */
export interface BudgetPoint {
  /** The exit-distribution parameter. */
  p: number;
  /** T_1..T_K, found on the validation set (1e8: nobody exits there; T_K = −1e8). */
  thresholds: number[];
  /** Percent correct on the validation set under these thresholds (the reference only prints it). */
  valAccuracy: number;
  /** Percent correct on the test set. */
  testAccuracy: number;
  /** Expected cumulative cost per test sample, millions of mult-adds. */
  expectedMflops: number;
  /** Expected cost per validation sample; what the default policy is chosen on. */
  valExpectedMflops: number;
  /** Fraction of test samples leaving at each exit. */
  exitFractions: number[];
  /** Fraction of validation samples leaving at each exit (≈ q_k by construction). */
  valExitFractions: number[];
}

/** Inputs of {@link budgetedBatch}. */
export interface BudgetedBatchOptions {
  /** Held-out outputs the thresholds are found on. */
  val: ExitOutputs | ExitScores;
  /** Outputs the thresholds are scored on. */
  test: ExitOutputs | ExitScores;
  /** Cumulative cost of each exit, millions of mult-adds. */
  mflops: readonly number[];
  /** Used when scores are computed here; precomputed scores keep their own. @defaultValue 'max-softmax' */
  criterion?: ExitCriterion;
  /** @defaultValue {@link defaultPGrid} (0.05 … 2.00) */
  ps?: readonly number[];
}

function asScores(x: ExitOutputs | ExitScores, criterion: ExitCriterion): ExitScores {
  return 'confidences' in x ? x : exitScores(x, criterion);
}

/** The calibration table: for every p, thresholds on val and their outcome on val and test. */
export function budgetedBatch(opts: BudgetedBatchOptions): BudgetPoint[] {
  const criterion = opts.criterion ?? DEFAULT_CRITERION;
  const val = asScores(opts.val, criterion);
  const test = asScores(opts.test, criterion);
  if (val.criterion !== test.criterion) throw new EvalInputError(`val scores use ${val.criterion} but test scores use ${test.criterion}.`);
  if (val.numExits !== test.numExits) throw new EvalInputError(`val has ${val.numExits} exits, test has ${test.numExits}.`);
  const K = val.numExits;
  if (opts.mflops.length !== K) throw new EvalInputError(`expected ${K} per-exit costs, got ${opts.mflops.length}.`);
  const orders = confidenceOrders(val);
  return (opts.ps ?? defaultPGrid()).map((p) => {
    const thresholds = findThresholds(val, exitDistribution(p, K), orders);
    const v = applyThresholds(val, thresholds, opts.mflops);
    const t = applyThresholds(test, thresholds, opts.mflops);
    return {
      p,
      thresholds,
      valAccuracy: v.accuracy,
      testAccuracy: t.accuracy,
      expectedMflops: t.expectedMflops,
      valExpectedMflops: v.expectedMflops,
      exitFractions: t.exitFractions,
      valExitFractions: v.exitFractions,
    };
  });
}

/** The operating point a deployment uses unless told otherwise. */
export interface DefaultPolicy extends BudgetPoint {
  /** Accuracy points below the last exit's that were accepted. */
  tolerance: number;
  /** Validation top-1 of the last exit, the reference for the tolerance. */
  lastExitValAccuracy: number;
  /** False when no point was within the tolerance and the most accurate one was taken instead. */
  withinTolerance: boolean;
}

/**
 * The cheapest calibration point (validation expected MFLOPs) whose validation accuracy is at
 * most `tolerance` points below the last exit's; chosen on validation numbers only, so the test
 * set stays untouched. Ties go to the more accurate point, then the smaller p. When no point
 * qualifies, the most accurate one is returned with `withinTolerance: false`.
 */
export function defaultPolicy(table: readonly BudgetPoint[], lastExitValAccuracy: number, tolerance = 0.5): DefaultPolicy {
  if (table.length === 0) throw new EvalInputError('defaultPolicy: the calibration table is empty.');
  // A hair of slack so an accuracy exactly 0.5 below is not lost to rounding of percentages.
  const floor = lastExitValAccuracy - tolerance - 1e-9;
  const ok = table.filter((b) => b.valAccuracy >= floor);
  const better = (a: BudgetPoint, b: BudgetPoint) =>
    a.valExpectedMflops !== b.valExpectedMflops ? a.valExpectedMflops < b.valExpectedMflops : a.valAccuracy !== b.valAccuracy ? a.valAccuracy > b.valAccuracy : a.p < b.p;
  const pick = ok.length > 0 ? ok.reduce((best, b) => (better(b, best) ? b : best)) : table.reduce((best, b) => (b.valAccuracy > best.valAccuracy ? b : best));
  return {
    ...pick,
    thresholds: [...pick.thresholds],
    exitFractions: [...pick.exitFractions],
    valExitFractions: [...pick.valExitFractions],
    tolerance,
    lastExitValAccuracy,
    withinTolerance: ok.length > 0,
  };
}
