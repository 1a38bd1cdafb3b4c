/**
 * @module training/trainer/exit-outputs
 * Runs a model in evaluation mode over a dataset and collects every exit's logits: the input of
 * anytime and budgeted-batch evaluation and of threshold calibration.
 */
import { tf } from '../backend/tf.js';
import { epochBatches, type ChannelNormalization, type Uint8Dataset } from '../../datasets/index.js';
import type { MultiExitModel } from '../models/multi-exit-model.js';
import { TensorOps } from '../models/tensor-ops.js';
import { anytimeAccuracy, type ExitOutputs } from '../eval/index.js';

/** Every exit's logits on `count` samples (row-major [count, numClasses] per exit). */
export type ExitLogits = ExitOutputs;

/**
 * Forward passes in evaluation mode (running BatchNorm statistics), batch by batch.
 * @param indices which samples, in this order. @defaultValue all
 */
export async function collectExitLogits(
  model: MultiExitModel,
  dataset: Uint8Dataset,
  normalization: ChannelNormalization,
  options: { batchSize?: number; indices?: ArrayLike<number>; onBatch?: (done: number, total: number) => void } = {},
): Promise<ExitLogits> {
  const K = model.numExits;
  const N = model.config.msdnet.numClasses;
  const count = options.indices ? options.indices.length : dataset.count;
  const logits = Array.from({ length: K }, () => new Float32Array(count * N));
  const labels = new Int32Array(count);
  const ops = new TensorOps();
  let offset = 0;
  for (const batch of epochBatches(dataset, { batchSize: options.batchSize ?? 256, normalization, indices: options.indices })) {
    const outs = tf.tidy(() => {
      const x = tf.tensor4d(batch.images, batch.shape);
      // One concatenated read per batch rather than K reads.
      return tf.concat(model.forward(ops, x).logits, 1);
    });
    let values: Float32Array | Int32Array | Uint8Array;
    try {
      values = await outs.data();
    } finally {
      // Freed also when the read fails (e.g. a lost GPU device), so nothing leaks.
      outs.dispose();
    }
    for (let i = 0; i < batch.size; i++) {
      for (let k = 0; k < K; k++) {
        logits[k]!.set(values.subarray(i * K * N + k * N, i * K * N + (k + 1) * N), (offset + i) * N);
      }
    }
    labels.set(batch.labels, offset);
    offset += batch.size;
    options.onBatch?.(offset, count);
  }
  return { numExits: K, numClasses: N, count, logits, labels };
}

/** Top-1 accuracy (percent) of every exit. */
export function exitAccuracies(out: ExitLogits): number[] {
  return anytimeAccuracy(out, new Array<number>(out.numExits).fill(0)).map((row) => row.top1);
}
