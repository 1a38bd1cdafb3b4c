/**
 * @module calibration/confidence
 * How sure each exit is about each sample (the quantity the early-exit thresholds compare), and
 * what it predicts; computed once per set so a threshold sweep only compares numbers.
 */
import { rowConfidences as sharedRowConfidences } from '../manifest/confidence.js';
import { EXIT_CRITERIA, type ExitCriterion } from '../manifest/schema.js';
import { argmaxRows, checkExitOutputs, softmaxRows, type ExitOutputs } from './exit-outputs.js';

/**
 * The confidence criteria are `EXIT_CRITERIA` (manifest/, the contract; re-exported here and by
 * the runtime); higher always means more confident.
 * - `max-softmax`: max_c s_c, the reference's (spec §6.2).
 * - `entropy`: 1 − H(s)/log N, so a one-hot row scores 1 and a uniform row 0.
 * - `margin`: top-1 minus top-2 probability.
 */
export { EXIT_CRITERIA, type ExitCriterion };

/** The reference criterion. */
export const DEFAULT_CRITERION: ExitCriterion = 'max-softmax';

/** Per-exit confidences and predictions of one labelled set. */
export interface ExitScores {
  numExits: number;
  count: number;
  criterion: ExitCriterion;
  /** One array per exit, one confidence per sample. */
  confidences: Float32Array[];
  /** One array per exit, the argmax class per sample. */
  predictions: Int32Array[];
  labels: Int32Array;
}

/**
 * Confidence of each row of a probability matrix under `criterion`: the manifest's definition,
 * shared with the runtime so calibrated thresholds mean the same at inference.
 */
export function rowConfidences(probs: Float32Array, numClasses: number, criterion: ExitCriterion = DEFAULT_CRITERION): Float32Array {
  return sharedRowConfidences(probs, numClasses, criterion);
}

/**
 * Softmax, confidences and predictions of every exit. Predictions are the argmax of the logits
 * (the same class as the argmax of the softmax, without float32 rounding creating ties).
 */
export function exitScores(out: ExitOutputs, criterion: ExitCriterion = DEFAULT_CRITERION): ExitScores {
  checkExitOutputs(out);
  const confidences: Float32Array[] = [];
  const predictions: Int32Array[] = [];
  for (const z of out.logits) {
    confidences.push(rowConfidences(softmaxRows(z, out.numClasses), out.numClasses, criterion));
    predictions.push(argmaxRows(z, out.numClasses));
  }
  return { numExits: out.numExits, count: out.count, criterion, confidences, predictions, labels: out.labels };
}
