/**
 * A full forward + backward + SGD step of the CIFAR-10 7-exit model with every technique on, on
 * WASM (with the project's training kernels) against tfjs's CPU backend: same weights, same batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../training/backend/tf.js';
import { DEFAULT_MSDNET_CONFIG, MultiExitModel, type ModelConfig, type MsdNetConfig } from '../../training/models/index.js';
import { readWeights, toStage2Model } from '../../training/models/weights.js';
import { planObjective, type ObjectiveOptions } from '../../training/objective.js';
import { Sgd } from '../../training/optim/sgd.js';
import { applyGradients, computeGradients } from '../../training/train-step.js';
import { relativeMaxError, useBackend } from '../helpers/backends.js';

const TOLERANCE = 1e-3;

interface StepRecord {
  loss: number;
  grads: Map<string, Float32Array>;
  after: Map<string, Float32Array>;
}

/**
 * tfjs's CPU backend needs ~45 s per backward pass of the 7-exit model at batch 2 (its
 * Conv2DBackpropFilter is a plain loop), and ISC's BatchNorm1d over 2 samples is degenerate
 * (x̂ = ±1, gradients dominated by cancellation: WASM against WASM on the same batch in another
 * order already differs by 1e-1). So: stage 1 on the full model at batch 2, stage 2 (frozen
 * backbone, cheap) on the full model at batch 8, and the joint variant, which trains everything,
 * on the first 3 exits of the same CIFAR model at batch 4.
 */
const FIRST_THREE_EXITS: MsdNetConfig = { ...DEFAULT_MSDNET_CONFIG, nBlocks: 3 };

function buildModel(kind: ObjectiveOptions['objective']): MultiExitModel {
  const msdnet = kind === 'joint' ? FIRST_THREE_EXITS : DEFAULT_MSDNET_CONFIG;
  const base: ModelConfig = { msdnet, ge: true, linearHeads: true, iscHeads: false, iscDetach: false, iscLinks: true };
  if (kind === 'stage1') return MultiExitModel.create(base, 5);
  if (kind === 'joint') return MultiExitModel.create({ ...base, linearHeads: false, iscHeads: true }, 5);
  const stage1 = MultiExitModel.create(base, 5);
  const stage2 = toStage2Model(stage1, { seed: 6 });
  stage1.dispose();
  return stage2;
}

async function runStep(backend: 'cpu' | 'wasm', objective: ObjectiveOptions, BATCH: number): Promise<StepRecord> {
  await useBackend(backend);
  const model = buildModel(objective.objective);
  const images = tf.randomNormal([BATCH, 32, 32, 3], 0, 1, 'float32', 42);
  const labels = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => (3 + 4 * i) % 10), 'int32');
  const plan = planObjective(model, objective);
  const params = model.parameters(plan.trainGroups);
  const sgd = new Sgd(params);
  // The CPU backend needs ~45 s for one backward pass of this model: one step, inspected, then applied.
  const pending = computeGradients(model, sgd, plan, objective, images, labels);
  const grads = new Map(params.map((p) => [p.name, pending.grads[p.variable.name]!.dataSync() as Float32Array] as const));
  applyGradients(sgd, pending, 0.1);
  const after = new Map(readWeights(model).map((w) => [w.name, w.values] as const));
  sgd.dispose();
  model.dispose();
  tf.dispose([images, labels]);
  return { loss: pending.result.loss, grads, after };
}

/**
 * Each gradient tensor must match to 1e-3 of its own largest value. Gradients that are zero in
 * exact arithmetic (a Linear bias feeding a batch-statistics BatchNorm: the normalisation removes
 * any shift) are float noise on both backends, where a ratio means nothing; those (below 1e-4 of
 * the largest gradient anywhere) must instead stay within 1e-5 of it in absolute terms.
 */
function compare(wasm: StepRecord, cpu: StepRecord): void {
  expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(TOLERANCE);
  expect(wasm.grads.size).toBe(cpu.grads.size);
  const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const globalMax = Math.max(...[...cpu.grads.values()].map(maxAbs));
  const worst = { name: '', err: 0 };
  let compared = 0;
  for (const [name, g] of cpu.grads) {
    const w = wasm.grads.get(name)!;
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
  expect(compared).toBeGreaterThan(0.8 * cpu.grads.size);
  expect(worst.err, `worst gradient ${worst.name}`).toBeLessThan(TOLERANCE);
  for (const [name, w] of cpu.after) {
    expect(relativeMaxError(wasm.after.get(name)!, w), `weights after the step: ${name}`).toBeLessThan(TOLERANCE);
  }
}

afterEach(async () => {
  await useBackend('cpu');
});

describe('CIFAR-10 7-exit training step, WASM against CPU', () => {
  it('stage 1 with Gradient Equilibrium (batch 2)', async () => {
    const objective: ObjectiveOptions = { objective: 'stage1' };
    compare(await runStep('wasm', objective, 2), await runStep('cpu', objective, 2));
  });

  it('stage 2: frozen GE network, ISC heads, OFA-KD (batch 8)', async () => {
    const objective: ObjectiveOptions = { objective: 'stage2', kd: { temperature: 3, gamma: 0.9, reduction: 'elementwise-mean' } };
    compare(await runStep('wasm', objective, 8), await runStep('cpu', objective, 8));
  });

  it('joint variant: GE, ISC and OFA-KD in one model (first 3 exits, batch 4)', async () => {
    const objective: ObjectiveOptions = { objective: 'joint', kd: { temperature: 3, gamma: 0.9, reduction: 'batchmean' } };
    compare(await runStep('wasm', objective, 4), await runStep('cpu', objective, 4));
  });
});
