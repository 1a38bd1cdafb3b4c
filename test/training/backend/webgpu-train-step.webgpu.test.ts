/**
 * A full forward + backward + SGD step of a small multi-exit MSDNet with every technique on, on
 * WebGPU (Dawn; SwiftShader in CI) against tfjs's CPU backend: same weights, same batch.
 * Small shapes: SwiftShader runs compute shaders on the CPU, and tfjs's CPU backward is slow.
 */
import { afterAll, describe, it } from 'vitest';
import type { ObjectiveOptions } from '../../../training/objective.js';
import { expectSameStep, modelForObjective, recordStep } from '../../helpers/step-parity.js';
import { tinyConfig } from '../../helpers/tiny-model.js';
import { useTestBackend } from '../../helpers/webgpu-backend.js';

const TOLERANCE = 1e-3;
/** ISC's BatchNorm1d over a handful of samples is ill-conditioned: batch 8, as the WASM test uses for stage 2. */
const BATCH = 8;

/** 4 exits, 3 scales, 16x16 input, 4 channels, growth 2, GE on: SwiftShader runs every shader on the CPU. */
const buildModel = (kind: ObjectiveOptions['objective']) => modelForObjective(kind, tinyConfig({ ge: true }));

async function compareOn(objective: ObjectiveOptions): Promise<void> {
  const build = () => buildModel(objective.objective);
  await useTestBackend('webgpu');
  const gpu = await recordStep(build, objective, BATCH);
  await useTestBackend('cpu');
  const cpu = await recordStep(build, objective, BATCH);
  expectSameStep(gpu, cpu, TOLERANCE);
}

afterAll(async () => {
  await useTestBackend('cpu');
});

describe('training step, WebGPU against CPU', () => {
  it('stage 1 with Gradient Equilibrium', async () => {
    await compareOn({ objective: 'stage1' });
  });

  it('stage 2: frozen GE network, ISC heads, OFA-KD', async () => {
    await compareOn({ objective: 'stage2', kd: { temperature: 3, gamma: 0.9, reduction: 'elementwise-mean' } });
  });

  it('joint recipe: GE, ISC and OFA-KD in one model', async () => {
    await compareOn({ objective: 'joint', kd: { temperature: 3, gamma: 0.9, reduction: 'batchmean' } });
  });
});
