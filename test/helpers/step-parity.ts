/**
 * Test helper: one full training step (forward, backward, SGD update) recorded on a backend, and
 * the comparison of two such records (loss, every gradient, every updated weight).
 */
import { expect } from 'vitest';
import { tf } from '../../training/backend/tf.js';
import { MultiExitModel, type ModelConfig } from '../../training/models/index.js';
import { readWeightsAsync, toStage2Model } from '../../training/models/weights.js';
import { planObjective, type ObjectiveOptions } from '../../training/objective.js';
import { Sgd } from '../../training/optim/sgd.js';
import { applyGradients, computeGradients } from '../../training/train-step.js';
import { relativeMaxError } from './backends.js';

export interface StepRecord {
  loss: number;
  grads: Map<string, Float32Array>;
  after: Map<string, Float32Array>;
}

/**
 * The model each objective trains, from a stage-1 configuration `base` (GE on): stage 1 as is,
 * the joint recipe with ISC heads in place of linear ones, stage 2 converted from stage 1.
 */
export function modelForObjective(kind: ObjectiveOptions['objective'], base: ModelConfig): MultiExitModel {
  if (kind === 'stage1') return MultiExitModel.create(base, 5);
  if (kind === 'joint') return MultiExitModel.create({ ...base, linearHeads: false, iscHeads: true }, 5);
  const stage1 = MultiExitModel.create(base, 5);
  const stage2 = toStage2Model(stage1, { seed: 6 });
  stage1.dispose();
  return stage2;
}

/**
 * Runs one step of `objective` on a fresh model from `build` (seeded, so every backend gets the
 * same weights) with a seeded batch of `batch` images, on whatever backend is current.
 */
export async function recordStep(build: () => MultiExitModel, objective: ObjectiveOptions, batch: number, lr = 0.1): Promise<StepRecord> {
  const model = build();
  const [h, w] = model.config.msdnet.inputSize;
  const classes = model.config.msdnet.numClasses;
  const images = tf.randomNormal([batch, h, w, model.config.msdnet.inputChannels], 0, 1, 'float32', 42);
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => (3 + 4 * i) % classes), 'int32');
  const plan = planObjective(model, objective);
  const params = model.parameters(plan.trainGroups);
  const sgd = new Sgd(params);
  // One step, inspected, then applied.
  const pending = await computeGradients(model, sgd, plan, objective, images, labels);
  const values = await Promise.all(params.map(async (p) => (await pending.grads[p.variable.name]!.data()) as Float32Array));
  const grads = new Map(params.map((p, i) => [p.name, values[i]!] as const));
  applyGradients(sgd, pending, lr);
  const after = new Map((await readWeightsAsync(model)).map((w) => [w.name, w.values] as const));
  sgd.dispose();
  model.dispose();
  tf.dispose([images, labels]);
  return { loss: pending.result.loss, grads, after };
}

/**
 * Each gradient tensor must match to `tolerance` of its own largest value. Gradients that are
 * zero in exact arithmetic (a Linear bias feeding a batch-statistics BatchNorm: the normalisation
 * removes any shift) are float noise on both backends, where a ratio means nothing; those (below
 * 1e-4 of the largest gradient anywhere) must instead stay within 1e-5 of it in absolute terms.
 */
export function expectSameStep(got: StepRecord, ref: StepRecord, tolerance: number): void {
  expect(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(tolerance);
  expect(got.grads.size).toBe(ref.grads.size);
  const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const globalMax = Math.max(...[...ref.grads.values()].map(maxAbs));
  const worst = { name: '', err: 0 };
  let compared = 0;
  for (const [name, g] of ref.grads) {
    const w = got.grads.get(name)!;
    let diff = 0;
    for (let i = 0; i < g.length; i++) diff = Math.max(diff, Math.abs(w[i]! - g[i]!));
    const scale = maxAbs(g);
    if (scale < 1e-4 * globalMax) {
      expect(diff, `numerically-zero gradient ${name}`).toBeLessThan(1e-5 * globalMax);
      continue;
    }
    compared += 1;
    const err = diff / scale;
    if (err > worst.err) Object.assign(worst, { name, err });
  }
  // Only the ISC link biases (K-1 of them) are expected to be numerically zero.
  expect(compared).toBeGreaterThan(0.8 * ref.grads.size);
  expect(worst.err, `worst gradient ${worst.name}`).toBeLessThan(tolerance);
  for (const [name, w] of ref.after) {
    expect(relativeMaxError(got.after.get(name)!, w), `weights after the step: ${name}`).toBeLessThan(tolerance);
  }
}
