/**
 * @module calibration/thresholds
 * The budgeted-batch threshold rule of spec §6.2 (`adaptive_inference.py`): target exit
 * fractions from p, thresholds found on validation confidences, and thresholds applied to a set.
 */
import type { ExitScores } from './confidence.js';
import { EvalInputError } from './exit-outputs.js';

/** Threshold of an exit nobody leaves at (n_k = 0 or too few samples left), as in the reference. */
export const NEVER_EXIT = 1e8;
/** Threshold of the last exit: everyone still running leaves there. */
export const ALWAYS_EXIT = -1e8;

/** IMTA's grid: p = i/20 for i = 1..40, i.e. 0.05 … 2.00. */
export function defaultPGrid(): number[] {
  // i/20 rather than repeated += 0.05, so every p is the closest double to its decimal.
  return Array.from({ length: 40 }, (_, i) => (i + 1) / 20);
}

/** Target exit fractions q_k = p^k / Σ_j p^j, k = 1..K. */
export function exitDistribution(p: number, numExits: number): number[] {
  if (!(p > 0) || !Number.isFinite(p)) throw new EvalInputError(`p must be a positive finite number, got ${p}.`);
  const w = Array.from({ length: numExits }, (_, k) => p ** (k + 1));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
}

/**
 * n_k = floor(N·q_k). A product that is mathematically an integer can land just below it in
 * floating point (1000 · 0.3 = 299.99…), so values within 1e-9 of the next integer count as it.
 */
export function targetCount(total: number, q: number): number {
  return Math.floor(total * q + 1e-9);
}

/**
 * Sample indices of each exit by descending confidence (equal confidences in sample order, NaN
 * last). The order does not depend on p, so a sweep sorts once instead of once per p.
 */
export function confidenceOrders(scores: ExitScores): Int32Array[] {
  return scores.confidences.map((c) => {
    const key = (i: number) => (Number.isNaN(c[i]!) ? -Infinity : c[i]!);
    return Int32Array.from({ length: scores.count }, (_, i) => i).sort((a, b) => key(b) - key(a) || a - b);
  });
}

/**
 * Thresholds T_1..T_K on the validation scores for target fractions `q`, exactly as
 * `dynamic_eval_find_threshold`: for k < K, walk samples by descending c_k, counting only those
 * not yet exited; T_k is the confidence of the n_k-th (n_k a fraction of ALL samples), or
 * {@link NEVER_EXIT} when n_k = 0 or fewer remain. Then every sample with c_k ≥ T_k is marked
 * exited, so ties with T_k exit too. T_K = {@link ALWAYS_EXIT}. Equal confidences are walked in
 * sample order (the reference's sort leaves their order unspecified; T_k is the same either way).
 * `orders` may be passed from {@link confidenceOrders} to reuse the sort across a sweep.
 */
export function findThresholds(val: ExitScores, q: readonly number[], orders: readonly Int32Array[] = confidenceOrders(val)): number[] {
  const { numExits: K, count: n } = val;
  if (q.length !== K) throw new EvalInputError(`expected ${K} exit fractions, got ${q.length}.`);
  const thresholds = new Array<number>(K).fill(NEVER_EXIT);
  const exited = new Uint8Array(n);
  for (let k = 0; k < K - 1; k++) {
    const c = val.confidences[k]!;
    const target = targetCount(n, q[k]!);
    let seen = 0;
    for (const i of orders[k]!) {
      if (exited[i]) continue;
      seen++;
      if (seen === target) {
        thresholds[k] = c[i]!;
        break;
      }
    }
    const t = thresholds[k]!;
    for (let i = 0; i < n; i++) if (c[i]! >= t) exited[i] = 1;
  }
  thresholds[K - 1] = ALWAYS_EXIT;
  return thresholds;
}

/** What thresholds do on a set. */
export interface ThresholdOutcome {
  /** Percent of samples predicted correctly at the exit they left at. */
  accuracy: number;
  /** Σ_k (n_k/N)·F_k with F_k the cumulative cost of exit k, millions of mult-adds. */
  expectedMflops: number;
  /** Samples leaving at each exit. */
  exitCounts: number[];
  /** exitCounts / N. */
  exitFractions: number[];
}

/**
 * Sends every sample out at the first exit k with c_k ≥ T_k (`dynamic_eval_with_threshold`);
 * the last exit takes whoever is left whatever its threshold, so a NaN confidence cannot lose a
 * sample.
 */
export function applyThresholds(scores: ExitScores, thresholds: readonly number[], mflops: readonly number[]): ThresholdOutcome {
  const { numExits: K, count: n } = scores;
  if (thresholds.length !== K) throw new EvalInputError(`expected ${K} thresholds, got ${thresholds.length}.`);
  if (mflops.length !== K) throw new EvalInputError(`expected ${K} per-exit costs, got ${mflops.length}.`);
  const exitCounts = new Array<number>(K).fill(0);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let k = 0;
    while (k < K - 1 && !(scores.confidences[k]![i]! >= thresholds[k]!)) k++;
    exitCounts[k]!++;
    if (scores.predictions[k]![i] === scores.labels[i]) correct++;
  }
  const exitFractions = exitCounts.map((m) => m / n);
  const expectedMflops = exitFractions.reduce((acc, f, k) => acc + f * mflops[k]!, 0);
  return { accuracy: (100 * correct) / n, expectedMflops, exitCounts, exitFractions };
}
