/**
 * @module training/eval/anytime
 * Anytime prediction (spec §6.1): the top-1 and top-5 accuracy of every exit, each placed at
 * the cumulative cost of reaching it.
 */
import { checkExitOutputs, EvalInputError, type ExitOutputs } from '../../calibration/exit-outputs.js';

/** One exit's anytime accuracy. */
export interface AnytimeRow {
  /** 1-based exit index. */
  exit: number;
  /** Cumulative cost up to and including this exit, millions of mult-adds. */
  mflops: number;
  /** Top-1 accuracy, percent. */
  top1: number;
  /** Top-5 accuracy, percent (every sample counts as correct when there are ≤ 5 classes). */
  top5: number;
}

/**
 * Rank of the true class in a row of logits: how many classes beat it. A class with an equal
 * logit and a lower index beats it too, so rank 0 is exactly "argmax (first index) = label" and
 * top-1 and top-5 agree on ties.
 */
function labelRank(z: Float32Array, base: number, numClasses: number, label: number): number {
  const zy = z[base + label]!;
  let rank = 0;
  for (let c = 0; c < numClasses; c++) {
    const v = z[base + c]!;
    if (v > zy || (v === zy && c < label)) rank++;
  }
  return rank;
}

/** Top-1/top-5 accuracy of each exit; `mflops[k]` is the cumulative cost of exit k+1. */
export function anytimeAccuracy(out: ExitOutputs, mflops: readonly number[]): AnytimeRow[] {
  checkExitOutputs(out);
  if (mflops.length !== out.numExits) throw new EvalInputError(`anytime: expected ${out.numExits} per-exit costs, got ${mflops.length}.`);
  const rows: AnytimeRow[] = [];
  for (let k = 0; k < out.numExits; k++) {
    const z = out.logits[k]!;
    let top1 = 0;
    let top5 = 0;
    for (let i = 0; i < out.count; i++) {
      const rank = labelRank(z, i * out.numClasses, out.numClasses, out.labels[i]!);
      if (rank === 0) top1++;
      if (rank < 5) top5++;
    }
    rows.push({ exit: k + 1, mflops: mflops[k]!, top1: (100 * top1) / out.count, top5: (100 * top5) / out.count });
  }
  return rows;
}
