/**
 * @module calibration/exit-outputs
 * The raw material of every evaluation: the logits of each exit on a labelled set, as plain
 * typed arrays, and the checks that they fit together.
 */
import { argmaxRow, softmaxRows as sharedSoftmaxRows } from '../manifest/confidence.js';

/** Logits of every exit on one labelled set (validation or test). */
export interface ExitOutputs {
  /** Number of exits K. */
  numExits: number;
  /** Number of classes N. */
  numClasses: number;
  /** Number of samples. */
  count: number;
  /** One array per exit, `count × numClasses`, row-major (sample i's logits at `i·numClasses`). */
  logits: Float32Array[];
  /** The true class of each sample, in `[0, numClasses)`. */
  labels: Int32Array;
}

/** Exit outputs that do not fit together; the message says what is wrong. */
export class EvalInputError extends Error {
  override name = 'EvalInputError';
}

/**
 * Throws {@link EvalInputError} unless the shapes agree and every label is a class index.
 * Every evaluation calls it first, so a wrong array length fails loudly instead of reading
 * past a row into the next sample.
 */
export function checkExitOutputs(out: ExitOutputs, what = 'outputs'): void {
  const { numExits, numClasses, count } = out;
  if (!Number.isInteger(numExits) || numExits < 1) throw new EvalInputError(`${what}: numExits must be a positive integer, got ${numExits}.`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new EvalInputError(`${what}: numClasses must be a positive integer, got ${numClasses}.`);
  if (!Number.isInteger(count) || count < 1) throw new EvalInputError(`${what}: count must be a positive integer, got ${count}.`);
  if (out.logits.length !== numExits) throw new EvalInputError(`${what}: expected logits for ${numExits} exits, got ${out.logits.length}.`);
  out.logits.forEach((z, k) => {
    if (z.length !== count * numClasses) {
      throw new EvalInputError(`${what}: exit ${k + 1} has ${z.length} logits, expected ${count} × ${numClasses} = ${count * numClasses}.`);
    }
  });
  if (out.labels.length !== count) throw new EvalInputError(`${what}: expected ${count} labels, got ${out.labels.length}.`);
  for (let i = 0; i < count; i++) {
    const y = out.labels[i]!;
    if (y < 0 || y >= numClasses) throw new EvalInputError(`${what}: label ${y} of sample ${i} is outside [0, ${numClasses}).`);
  }
}

/**
 * Row-wise softmax (the manifest's definition, shared with the runtime), float32 like the
 * reference's tensors.
 * @throws EvalInputError when the length is not a whole number of rows.
 */
export function softmaxRows(logits: Float32Array, cols: number): Float32Array {
  if (cols < 1 || logits.length % cols !== 0) throw new EvalInputError(`softmaxRows: length ${logits.length} is not a multiple of ${cols} columns.`);
  return sharedSoftmaxRows(logits, cols);
}

/**
 * Argmax of each row; the first index wins a tie (as `torch.max` does on CPU), so a prediction
 * never depends on anything but the row.
 */
export function argmaxRows(values: Float32Array, cols: number): Int32Array {
  return Int32Array.from({ length: Math.floor(values.length / cols) }, (_, r) => argmaxRow(values, r * cols, cols));
}
