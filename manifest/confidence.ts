/**
 * @module manifest/confidence
 * The exit confidence criteria that a manifest names (higher is more confident), with softmax,
 * per row of a logits matrix. Part of the contract: calibration (calibration/) and early exit
 * (runtime) must compute the same float32 value for `c ≥ T` to mean the same thing, so both use
 * this one definition. Imports nothing outside manifest/.
 * - `max-softmax`: max_c p_c.
 * - `entropy`: 1 − H(p)/log N (one-hot → 1, uniform → 0).
 * - `margin`: top-1 minus top-2 probability.
 */
import { EXIT_CRITERIA, type ExitCriterion } from './schema.js';


/** Row-wise softmax of a [rows, cols] logits matrix, as float32 (computed in float64). */
export function softmaxRows(logits: Float32Array, cols: number): Float32Array {
  if (cols < 1 || logits.length % cols !== 0) throw new RangeError(`softmaxRows: length ${logits.length} is not a multiple of ${cols} columns.`);
  const out = new Float32Array(logits.length);
  const e = new Float64Array(cols);
  for (let r = 0; r < logits.length; r += cols) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, logits[r + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      e[c] = Math.exp(logits[r + c]! - max);
      sum += e[c]!;
    }
    for (let c = 0; c < cols; c++) out[r + c] = e[c]! / sum;
  }
  return out;
}

/** Confidence of one probability row (`probs[offset .. offset+cols)`), as a float32 value. */
export function rowConfidence(probs: Float32Array, offset: number, cols: number, criterion: ExitCriterion): number {
  if (criterion === 'max-softmax') {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, probs[offset + c]!);
    return Math.fround(max);
  }
  if (criterion === 'entropy') {
    const logN = Math.log(cols);
    let h = 0;
    for (let c = 0; c < cols; c++) {
      const p = probs[offset + c]!;
      if (p > 0) h -= p * Math.log(p);
    }
    return Math.fround(logN > 0 ? 1 - h / logN : 1);
  }
  if (criterion === 'margin') {
    let top1 = -Infinity;
    let top2 = 0;
    for (let c = 0; c < cols; c++) {
      const p = probs[offset + c]!;
      if (p > top1) {
        if (top1 !== -Infinity) top2 = top1;
        top1 = p;
      } else if (p > top2) top2 = p;
    }
    return Math.fround(top1 - top2);
  }
  throw new RangeError(`criterion: expected one of ${EXIT_CRITERIA.join(', ')}, got ${JSON.stringify(criterion)}.`);
}

/** Confidence of every row of a [rows, cols] probability matrix. */
export function rowConfidences(probs: Float32Array, cols: number, criterion: ExitCriterion): Float32Array {
  const rows = Math.floor(probs.length / cols);
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = rowConfidence(probs, r * cols, cols, criterion);
  return out;
}

/** Argmax of one row of `values`; the first index wins a tie. */
export function argmaxRow(values: Float32Array, offset: number, cols: number): number {
  let best = 0;
  for (let c = 1; c < cols; c++) if (values[offset + c]! > values[offset + best]!) best = c;
  return best;
}

