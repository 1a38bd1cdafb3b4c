/**
 * The hand-written BatchNorm (batch statistics, closed-form backward) against tfjs's automatic
 * differentiation of the textbook formula, on the CPU backend: output, statistics and the
 * gradients of the input, γ and β.
 */
import { describe, expect, it } from 'vitest';
import { tf, type Tensor } from '../../../training/backend/tf.js';
import { batchNormTraining } from '../../../training/models/batch-norm-training.js';
import { relativeMaxError, useBackend } from '../../helpers/backends.js';
import { randomData, sizeOf } from '../../helpers/random-data.js';

function reference(x: Tensor, g: Tensor, b: Tensor, eps: number): Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
}

const CASES: { name: string; shape: number[]; offset: number }[] = [
  { name: 'NHWC activations, batch 4', shape: [4, 8, 8, 6], offset: 0 },
  { name: 'large mean relative to spread', shape: [8, 4, 4, 3], offset: 20 },
  { name: 'BatchNorm1d over features (ISC)', shape: [16, 10], offset: 1 },
];

describe('batchNormTraining against autodiff of the formula (cpu)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      await useBackend('cpu');
      const channels = c.shape[c.shape.length - 1]!;
      const x = tf.tensor(randomData(sizeOf(c.shape), 3).map((v) => c.offset + 2 * v), c.shape);
      const g = tf.tensor1d(randomData(channels, 4).map((v) => 1 + 0.5 * v));
      const b = tf.tensor1d(randomData(channels, 5));
      const r = tf.tensor(randomData(sizeOf(c.shape), 6), c.shape);
      const loss = (f: (x: Tensor, g: Tensor, b: Tensor) => Tensor) => (xi: Tensor, gi: Tensor, bi: Tensor) => tf.sum(tf.mul(f(xi, gi, bi), r));
      let stats: Tensor[] = [];
      const ours = tf.grads(
        loss((xi, gi, bi) => {
          const out = batchNormTraining(xi, gi, bi, 1e-5);
          stats = [out.mean, out.variance];
          return out.y;
        }),
      )([x, g, b]);
      const ref = tf.grads(loss((xi, gi, bi) => reference(xi, gi, bi, 1e-5)))([x, g, b]);
      const axes = c.shape.slice(0, -1).map((_, i) => i);
      const moments = tf.moments(x, axes);
      const pairs: [string, Tensor, Tensor][] = [
        ['y', batchNormTraining(x, g, b, 1e-5).y, reference(x, g, b, 1e-5)],
        ['dx', ours[0]!, ref[0]!],
        ['dgamma', ours[1]!, ref[1]!],
        ['dbeta', ours[2]!, ref[2]!],
        ['mean', stats[0]!, moments.mean],
        ['variance', stats[1]!, moments.variance],
      ];
      for (const [name, got, want] of pairs) {
        expect(got.shape, name).toEqual(want.shape);
        expect(relativeMaxError(await got.data(), await want.data()), name).toBeLessThan(1e-4);
      }
    });
  }
});
