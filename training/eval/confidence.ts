/**
 * @module training/eval/confidence
 * How sure each exit is about each sample (the quantity the early-exit thresholds compare), and
 * what it predicts; computed once per set so a threshold sweep only compares numbers.
 */
import { argmaxRows, checkExitOutputs, softmaxRows, type ExitOutputs } from './exit-outputs.js';

/**
 * Confidence criteria; higher always means more confident.
 * - `max-softmax`: max_c s_c, the reference's (spec §6.2).
 * - `entropy`: 1 − H(s)/log N, so a one-hot row scores 1 and a uniform row 0.
 * - `margin`: top-1 minus top-2 probability.
 */
export const CONFIDENCE_CRITERIA = Object.freeze(['max-softmax', 'entropy', 'margin'] as const);
export type ConfidenceCriterion = (typeof CONFIDENCE_CRITERIA)[number];

/** The reference criterion. */
export const DEFAULT_CRITERION: ConfidenceCriterion = 'max-softmax';

/** Per-exit confidences and predictions of one labelled set. */
export interface ExitScores {
  numExits: number;
  count: number;
  criterion: ConfidenceCriterion;
  /** One array per exit, one confidence per sample. */
  confidences: Float32Array[];
  /** One array per exit, the argmax class per sample. */
  predictions: Int32Array[];
  labels: Int32Array;
}

/**
 * Confidence of each row of a probability matrix under `criterion`. Float32 output, as in the
 * reference: thresholds are then float32 values too, and `c ≥ T` compares exactly.
 */
export function rowConfidences(probs: Float32Array, numClasses: number, criterion: ConfidenceCriterion = DEFAULT_CRITERION): Float32Array {
  const rows = Math.floor(probs.length / numClasses);
  const out = new Float32Array(rows);
  // log N is 0 for one class: such a row is certain, so its entropy confidence is 1.
  const logN = Math.log(numClasses);
  for (let r = 0; r < rows; r++) {
    const base = r * numClasses;
    if (criterion === 'max-softmax') {
      let max = -Infinity;
      for (let c = 0; c < numClasses; c++) max = Math.max(max, probs[base + c]!);
      out[r] = max;
    } else if (criterion === 'entropy') {
      let h = 0;
      for (let c = 0; c < numClasses; c++) {
        const p = probs[base + c]!;
        if (p > 0) h -= p * Math.log(p); // 0·log 0 = 0
      }
      out[r] = logN > 0 ? 1 - h / logN : 1;
    } else {
      let top1 = -Infinity;
      let top2 = 0; // one class: the runner-up has probability 0
      for (let c = 0; c < numClasses; c++) {
        const p = probs[base + c]!;
        if (p > top1) {
          if (top1 !== -Infinity) top2 = top1;
          top1 = p;
        } else if (p > top2) top2 = p;
      }
      out[r] = top1 - top2;
    }
  }
  return out;
}

/**
 * Softmax, confidences and predictions of every exit. Predictions are the argmax of the logits
 * (the same class as the argmax of the softmax, without float32 rounding creating ties).
 */
export function exitScores(out: ExitOutputs, criterion: ConfidenceCriterion = DEFAULT_CRITERION): ExitScores {
  checkExitOutputs(out);
  const confidences: Float32Array[] = [];
  const predictions: Int32Array[] = [];
  for (const z of out.logits) {
    confidences.push(rowConfidences(softmaxRows(z, out.numClasses), out.numClasses, criterion));
    predictions.push(argmaxRows(z, out.numClasses));
  }
  return { numExits: out.numExits, count: out.count, criterion, confidences, predictions, labels: out.labels };
}
