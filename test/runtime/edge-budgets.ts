/**
 * Per-sample budgets that put thresholds exactly on confidences, for comparing the fused graph's
 * decisions with the staged engine's, and the exits those budgets give.
 */

/**
 * Sample i's threshold at exit 1 + (i mod K-1) is its own confidence there (so c ≥ T holds with
 * equality); the other thresholds are other samples' confidences there; every fifth sample is
 * capped at `cap`. `conf[k-1][i]`: sample i's confidence at exit k.
 */
export function edgeBudgets(conf: readonly Float32Array[], n: number, cap: number): { budgets: Array<{ thresholds: number[]; maxExit?: number }>; want: number[] } {
  const K = conf.length;
  const budgets = Array.from({ length: n }, (_, i) => ({
    thresholds: Array.from({ length: K }, (_, k) => (k === i % (K - 1) ? conf[k]![i]! : conf[k]![(i * 7 + 3) % n]!)),
    ...(i % 5 === 0 ? { maxExit: cap } : {}),
  }));
  const want = budgets.map((b, i) => {
    const last = b.maxExit ?? K;
    for (let k = 1; k < last; k++) if (conf[k - 1]![i]! >= b.thresholds[k - 1]!) return k;
    return last;
  });
  return { budgets, want };
}
