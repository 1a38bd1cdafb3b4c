import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, type Tensor } from '../../../training/backend/tf.js';
import { MultiExitModel, TensorOps } from '../../../training/models/index.js';
import { gradientEquilibriumScales } from '../../../training/techniques/gradient-equilibrium.js';
import { sumOfExitCrossEntropies } from '../../../training/techniques/losses.js';
import { relativeMaxError, useBackend } from '../../helpers/backends.js';
import { tinyConfig } from '../../helpers/tiny-model.js';

const K = 4;
let plain: MultiExitModel;
let ge: MultiExitModel;
let images: Tensor;
let labels: Tensor;

beforeAll(async () => {
  await useBackend('cpu');
  // Same seed: identical weights, the only difference is GE in the graph.
  plain = MultiExitModel.create(tinyConfig({ ge: false }), 3);
  ge = MultiExitModel.create(tinyConfig({ ge: true }), 3);
  images = tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 11);
  labels = tf.tensor1d([0, 1, 2, 4], 'int32');
});
afterAll(() => {
  plain.dispose();
  ge.dispose();
});

/**
 * Gradient of Σ_{j>=k} CE(z_j) with respect to block k's coarsest output h_k (0-based k), taken by
 * feeding h_k in as a variable and running the rest of the network from there.
 */
function gradientAtCoarsest(model: MultiExitModel, k: number): Float32Array {
  const ops = new TensorOps({ batchStatsGroups: ['backbone', 'linear-heads'] });
  return tf.tidy(() => {
    let input: Tensor | { scales: Tensor[] } = images;
    for (let j = 0; j < k; j++) input = model.stage(ops, j, input).state;
    const scales = model.blockScales(ops, k, input);
    const finer = scales.slice(0, -1);
    const g = tf.grad((h: Tensor) => {
      const logits: Tensor[] = [];
      let out = model.exit(ops, k, [...finer, h]);
      logits.push(out.logits);
      for (let j = k + 1; j < K; j++) {
        out = model.stage(ops, j, out.state);
        logits.push(out.logits);
      }
      return sumOfExitCrossEntropies(logits, labels).total;
    })(scales.at(-1)!);
    ops.discardBatchNormUpdates();
    return g.dataSync() as Float32Array;
  });
}

describe('Gradient Equilibrium', () => {
  it('has the scales of spec §1', () => {
    expect(gradientEquilibriumScales(0, 5)).toEqual({ beforeHead: 1 / 5, afterHead: 4 });
    expect(gradientEquilibriumScales(4, 5)).toEqual({ beforeHead: 1, afterHead: 0 });
    expect(() => gradientEquilibriumScales(5, 5)).toThrow(/expected an exit index in 0..4, got 5/);
  });

  it('leaves the forward pass unchanged', () => {
    const ops = new TensorOps();
    const a = plain.forward(ops, images).logits.map((t) => t.dataSync());
    const b = ge.forward(ops, images).logits.map((t) => t.dataSync());
    for (let k = 0; k < K; k++) expect(Array.from(b[k]!)).toEqual(Array.from(a[k]!));
  });

  for (let k = 0; k < K; k++) {
    it(`divides the gradient reaching block ${k + 1}'s coarsest output by K-k+1 = ${K - k}`, () => {
      const without = gradientAtCoarsest(plain, k);
      const withGe = gradientAtCoarsest(ge, k);
      const expected = without.map((v) => v / (K - k));
      expect(relativeMaxError(withGe, expected)).toBeLessThan(1e-5);
      // Not trivially zero: the comparison means something.
      expect(Math.max(...Array.from(without, Math.abs))).toBeGreaterThan(1e-6);
    });
  }

  it("leaves the heads' own parameter gradients unchanged", () => {
    const grads = (model: MultiExitModel) => {
      const ops = new TensorOps({ batchStatsGroups: ['backbone', 'linear-heads'] });
      const heads = model.variables().filter((v) => v.kind === 'param' && /^exit\d/.test(v.name));
      const { grads } = tf.variableGrads(
        () => sumOfExitCrossEntropies(model.forward(ops, images).logits, labels).total as tf.Scalar,
        heads.map((h) => h.variable),
      );
      ops.discardBatchNormUpdates();
      const out = heads.map((h) => grads[h.variable.name]!.dataSync() as Float32Array);
      tf.dispose(grads);
      return out;
    };
    const a = grads(plain);
    const b = grads(ge);
    expect(a.length).toBeGreaterThan(K * 4);
    a.forEach((g, i) => expect(relativeMaxError(b[i]!, g)).toBeLessThan(1e-5));
  });
});
