/**
 * @module test/training/models/batch-norm-updates
 * TensorOps applies every BatchNorm layer's running-statistic update as one vector: the result
 * must follow PyTorch's per-layer rule, for layers of different sizes, momenta and batch
 * counts, and leave no tensor behind.
 */
import { describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import { TensorOps, type BatchNormLayer } from '../../../training/models/index.js';
import { useBackend } from '../../helpers/backends.js';
import { randomData } from '../../helpers/random-data.js';

function layer(name: string, channels: number, momentum: number, seed: number): BatchNormLayer {
  return {
    type: 'batch-norm',
    name,
    channels,
    gamma: tf.variable(tf.ones([channels])),
    beta: tf.variable(tf.zeros([channels])),
    runningMean: tf.variable(tf.tensor1d(randomData(channels, seed))),
    runningVar: tf.variable(tf.tensor1d(randomData(channels, seed + 1).map((v) => 1 + Math.abs(v)))),
    eps: 1e-5,
    momentum,
    group: 'backbone',
  };
}

/** PyTorch's rule in float32, one layer at a time: r = (1 − m)·r + m·batch (variance unbiased). */
function expected(running: Float32Array, batch: Float32Array, m: number, unbias: number): Float32Array {
  const f = Math.fround;
  return running.map((r, i) => f(f(r * f(1 - m)) + f(f(batch[i]! * f(unbias)) * f(m))));
}

describe('TensorOps.applyBatchNormUpdates', () => {
  it("updates each layer's running statistics by PyTorch's rule (momentum, unbiased variance)", async () => {
    await useBackend('cpu');
    const layers = [layer('a', 6, 0.1, 1), layer('b', 12, 0.1, 3), layer('c', 5, 0.3, 5)];
    const ops = new TensorOps({ batchStatsGroups: ['backbone'] });
    // Batch counts: 2x4x4 pixels, 3 pixels, and 1 (no unbiasing), through the real BatchNorm.
    const inputs = [tf.randomNormal([2, 4, 4, 6], 0, 1, 'float32', 7), tf.randomNormal([3, 12], 0, 1, 'float32', 8), tf.randomNormal([1, 5], 0, 1, 'float32', 9)];
    const values = (t: tf.Tensor) => Float32Array.from(t.dataSync());
    const before = layers.map((l) => ({ mean: values(l.runningMean), variance: values(l.runningVar) }));
    const stats = inputs.map((x) => tf.moments(x, Array.from({ length: x.rank - 1 }, (_, i) => i)));
    const batch = stats.map((s) => ({ mean: values(s.mean), variance: values(s.variance) }));
    tf.dispose(stats.flatMap((s) => [s.mean, s.variance]));
    layers.forEach((l, i) => tf.dispose(ops.batchNorm(l, inputs[i]!)));
    const tensorsBefore = tf.memory().numTensors;
    ops.applyBatchNormUpdates();
    // The three layers' kept batch statistics (mean and variance each) are freed, nothing else left.
    expect(tf.memory().numTensors).toBe(tensorsBefore - 6);
    const counts = [32, 3, 1];
    layers.forEach((l, i) => {
      const unbias = counts[i]! > 1 ? counts[i]! / (counts[i]! - 1) : 1;
      // Batch statistics from tf.moments agree with the BatchNorm's own to float rounding, so
      // compare against the rule applied to the layer's actual update inputs with a tight bound.
      const mean = expected(before[i]!.mean, batch[i]!.mean, l.momentum, 1);
      const variance = expected(before[i]!.variance, batch[i]!.variance, l.momentum, unbias);
      l.runningMean.dataSync().forEach((v, j) => expect(v).toBeCloseTo(mean[j]!, 6));
      l.runningVar.dataSync().forEach((v, j) => expect(v).toBeCloseTo(variance[j]!, 6));
    });
    tf.dispose([...inputs, ...layers.flatMap((l) => [l.gamma, l.beta, l.runningMean, l.runningVar])]);
  });
});
