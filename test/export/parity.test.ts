/**
 * Exported graphs against the tfjs forward pass: every exit's logits from the stage graphs run in
 * sequence by onnxruntime-node (CPU), and from full.onnx, within 1e-4 of tfjs on real images, for
 * random-weight models (BatchNorm statistics and affine parameters randomised, so folding errors
 * show) and briefly trained models of every variant, 1- and 3-channel.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFullGraph, buildStageGraphs } from '../../export/stage-graphs.js';
import { tf } from '../../training/backend/tf.js';
import { FASHION_MNIST_DIR, FASHION_MNIST_NORMALIZATION, readFashionMnist, type Uint8Dataset } from '../../datasets/index.js';
import { MultiExitModel, TensorOps, type ModelConfig, type MsdNetConfig } from '../../training/models/index.js';
import { toStage2Model } from '../../training/models/weights.js';
import { planObjective, type ObjectiveOptions } from '../../training/objective.js';
import { Sgd } from '../../training/optim/sgd.js';
import { trainStep } from '../../training/train-step.js';
import { useBackend } from '../helpers/backends.js';
import { maxAbsDiff, runFull, runStages } from '../helpers/onnx-run.js';
import { TINY_MSDNET } from '../helpers/tiny-model.js';

const HAVE_DATA = existsSync(FASHION_MNIST_DIR);
if (!HAVE_DATA) console.warn(`[parity.test] skipped: ${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist)`);
const BATCH = 6;
let fmnist: Uint8Dataset;

/** Real images: Fashion-MNIST test images, normalised; 3-channel inputs repeat the grey channel on a 32x32 canvas. */
function realImages(channels: 1 | 3): tf.Tensor4D {
  const n = BATCH * 28 * 28;
  const { mean, std } = FASHION_MNIST_NORMALIZATION;
  const pixels = Float32Array.from(fmnist.images.subarray(0, n), (v) => (v / 255 - mean[0]!) / std[0]!);
  return tf.tidy(() => {
    const grey = tf.tensor4d(pixels, [BATCH, 28, 28, 1]);
    if (channels === 1) return grey;
    return tf.pad(tf.concat([grey, grey, grey], 3), [[0, 0], [2, 2], [2, 2], [0, 0]]) as tf.Tensor4D;
  });
}

function randomiseBatchNorm(model: MultiExitModel, seed: number): void {
  let s = seed;
  for (const { name, variable } of model.variables()) {
    if (!/\.bn\.(weight|bias|running_mean|running_var)$/.test(name)) continue;
    const [lo, hi] = name.endsWith('running_var') ? [0.3, 2] : [-0.8, 1.5];
    variable.assign(tf.randomUniform(variable.shape, lo, hi, 'float32', s++));
  }
}

type Variant = 'plain' | 'ge' | 'isc' | 'joint';

function buildVariant(variant: Variant, msdnet: MsdNetConfig): { model: MultiExitModel; objective: ObjectiveOptions } {
  const base: ModelConfig = { msdnet, ge: variant !== 'plain', linearHeads: true, iscHeads: false, iscDetach: false, iscLinks: true };
  if (variant === 'plain' || variant === 'ge') return { model: MultiExitModel.create(base, 1), objective: { objective: 'stage1' } };
  if (variant === 'joint') return { model: MultiExitModel.create({ ...base, linearHeads: false, iscHeads: true }, 1), objective: { objective: 'joint' } };
  const stage1 = MultiExitModel.create(base, 1);
  const model = toStage2Model(stage1);
  stage1.dispose();
  return { model, objective: { objective: 'stage2' } };
}

async function trainBriefly(model: MultiExitModel, objective: ObjectiveOptions, images: tf.Tensor4D): Promise<void> {
  const plan = planObjective(model, objective);
  const sgd = new Sgd(model.parameters(plan.trainGroups));
  const labels = tf.tensor1d(Array.from(fmnist.labels.subarray(0, BATCH)), 'int32');
  for (let i = 0; i < 5; i++) await trainStep(model, sgd, plan, objective, images, labels, 0.05);
  sgd.dispose();
  labels.dispose();
}

async function expectParity(model: MultiExitModel, images: tf.Tensor4D): Promise<void> {
  const reference = model.forward(new TensorOps(), images).logits.map((t) => t.dataSync() as Float32Array);
  const nchw = tf.transpose(images, [0, 3, 1, 2]);
  const dims = nchw.shape;
  const data = nchw.dataSync() as Float32Array;
  nchw.dispose();
  const stages = await runStages(buildStageGraphs(model, 'test'), data, dims);
  const full = await runFull(buildFullGraph(model, 'test').bytes, data, dims, model.numExits);
  expect(stages).toHaveLength(model.numExits);
  reference.forEach((ref, k) => {
    expect(maxAbsDiff(stages[k]!, ref), `exit ${k + 1}, stage graphs`).toBeLessThan(1e-4);
    expect(maxAbsDiff(full[k]!, ref), `exit ${k + 1}, full graph`).toBeLessThan(1e-4);
  });
  // The logits vary: a constant output would match trivially.
  expect(Math.max(...reference.at(-1)!) - Math.min(...reference.at(-1)!)).toBeGreaterThan(1e-2);
}

beforeAll(async () => {
  await useBackend('wasm');
  if (HAVE_DATA) fmnist = await readFashionMnist({ split: 'test' });
});

describe.skipIf(!HAVE_DATA)('ONNX export parity with tfjs', () => {
  const variants: Variant[] = ['plain', 'ge', 'isc', 'joint'];
  for (const channels of [1, 3] as const) {
    const msdnet: MsdNetConfig = { ...TINY_MSDNET, numClasses: 10, inputChannels: channels, inputSize: channels === 1 ? [28, 28] : [32, 32] };
    for (const variant of variants) {
      it(`${variant}, ${channels}-channel: random weights with randomised BatchNorm`, async () => {
        const { model } = buildVariant(variant, msdnet);
        randomiseBatchNorm(model, 7);
        const images = realImages(channels);
        await expectParity(model, images);
        model.dispose();
        images.dispose();
      });
      it(`${variant}, ${channels}-channel: briefly trained`, async () => {
        const { model, objective } = buildVariant(variant, msdnet);
        const images = realImages(channels);
        await trainBriefly(model, objective, images);
        await expectParity(model, images);
        model.dispose();
        images.dispose();
      });
    }
  }

  it('the 7-exit CIFAR model with ISC heads', async () => {
    const { model } = buildVariant('isc', { ...TINY_MSDNET, nBlocks: 7, base: 4, step: 2, nChannels: 16, growthRate: 6, numClasses: 10, inputSize: [32, 32] });
    randomiseBatchNorm(model, 3);
    const images = realImages(3);
    await expectParity(model, images);
    model.dispose();
    images.dispose();
  });
});

describe('unsupported graphs', () => {
  it('names a BatchNorm that follows no convolution or Linear layer', async () => {
    const { OnnxOps } = await import('../../export/onnx-ops.js');
    const { OnnxGraphBuilder } = await import('../../export/onnx/graph-builder.js');
    const model = MultiExitModel.create({ msdnet: TINY_MSDNET, ge: false, linearHeads: true, iscHeads: false, iscDetach: false, iscLinks: true });
    const bn = model.msdnet.blocks[0]!.first!.stem.bn;
    const ops = new OnnxOps(new OnnxGraphBuilder('t'));
    expect(() => ops.batchNorm(bn, ops.relu({ name: 'image', dims: ['batch', 3, 16, 16] }))).toThrow(
      /first\.scale0\.bn: the exporter folds every BatchNorm into the layer before it, and this one follows no convolution or Linear layer/,
    );
    model.dispose();
  });
});
