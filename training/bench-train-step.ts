/**
 * @module training/bench-train-step
 * Times full training steps (forward, backward, SGD) of a model on the current backend, for the
 * benchmarks.
 */
import { tf } from './backend/tf.js';
import { DEFAULT_MSDNET_CONFIG, type MsdNetConfig } from './models/config.js';
import { MultiExitModel } from './models/multi-exit-model.js';
import { planObjective } from './objective.js';
import { Sgd } from './optim/sgd.js';
import { trainStep } from './train-step.js';

export interface TrainStepBenchOptions {
  /** @defaultValue 64 */
  batchSize?: number;
  /** Timed steps after two warm-up steps. @defaultValue 5 */
  iters?: number;
  /** @defaultValue the CIFAR-10 7-exit anytime MSDNet */
  msdnet?: MsdNetConfig;
  /** Stage 1 with Gradient Equilibrium. @defaultValue true */
  ge?: boolean;
}

export interface TrainStepBenchResult {
  msPerStep: number;
  imagesPerSecond: number;
  /** Bytes held by the backend at the end of a step (tf.memory()). */
  backendBytes: number;
}

/** Times stage-1 training steps on random data (the input values do not change the work done). */
export async function benchTrainStep(options: TrainStepBenchOptions = {}): Promise<TrainStepBenchResult> {
  const batch = options.batchSize ?? 64;
  const iters = options.iters ?? 5;
  const msdnet = options.msdnet ?? DEFAULT_MSDNET_CONFIG;
  const model = MultiExitModel.create({ msdnet, ge: options.ge ?? true, linearHeads: true, iscHeads: false, iscDetach: false });
  const plan = planObjective(model, { objective: 'stage1' });
  const sgd = new Sgd(model.parameters(plan.trainGroups));
  const [h, w] = msdnet.inputSize;
  const images = tf.randomNormal([batch, h, w, msdnet.inputChannels], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % msdnet.numClasses), 'int32');
  try {
    for (let i = 0; i < 2; i++) await trainStep(model, sgd, plan, { objective: 'stage1' }, images, labels, 0.01);
    const start = performance.now();
    for (let i = 0; i < iters; i++) await trainStep(model, sgd, plan, { objective: 'stage1' }, images, labels, 0.01);
    const msPerStep = (performance.now() - start) / iters;
    return { msPerStep, imagesPerSecond: (batch * 1000) / msPerStep, backendBytes: tf.memory().numBytes };
  } finally {
    tf.dispose([images, labels]);
    sgd.dispose();
    model.dispose();
  }
}
