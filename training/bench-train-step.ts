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

/** The PyTorch peer's `--bench-train` protocol: warm-up steps, then at least this many seconds. */
export const BENCH_WARMUP_STEPS = 3;
export const BENCH_MIN_SECONDS = 5;

export interface TrainStepBenchOptions {
  /** @defaultValue 64 */
  batchSize?: number;
  /** Untimed steps first (JIT, allocator and caches settle). @defaultValue 3 */
  warmup?: number;
  /** At least this many timed steps. @defaultValue 10 */
  iters?: number;
  /** And at least this many seconds of timed steps. @defaultValue 5 */
  minSeconds?: number;
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

/**
 * Times stage-1 training steps on random data (the input values do not change the work done),
 * by the protocol of the PyTorch peer's `--bench-train` (3 warm-up steps, then at least 10 steps
 * and 5 seconds), so that `bench:train` compares like with like: the first steps after start-up
 * run slower (7-exit MSDNet, batch 64, 2 threads, means of 4 runs: 1,062 ms per step in steps 3-7,
 * 958 in steps 8-12, 964 in steps 13-24).
 */
export async function benchTrainStep(options: TrainStepBenchOptions = {}): Promise<TrainStepBenchResult> {
  const batch = options.batchSize ?? 64;
  const warmup = options.warmup ?? BENCH_WARMUP_STEPS;
  const iters = options.iters ?? 10;
  const minMs = (options.minSeconds ?? BENCH_MIN_SECONDS) * 1000;
  const msdnet = options.msdnet ?? DEFAULT_MSDNET_CONFIG;
  const model = MultiExitModel.create({ msdnet, ge: options.ge ?? true, linearHeads: true, iscHeads: false, iscDetach: false });
  const plan = planObjective(model, { objective: 'stage1' });
  const sgd = new Sgd(model.parameters(plan.trainGroups));
  const [h, w] = msdnet.inputSize;
  const images = tf.randomNormal([batch, h, w, msdnet.inputChannels], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % msdnet.numClasses), 'int32');
  try {
    for (let i = 0; i < warmup; i++) await trainStep(model, sgd, plan, { objective: 'stage1' }, images, labels, 0.01);
    const start = performance.now();
    let steps = 0;
    while (steps < iters || performance.now() - start < minMs) {
      await trainStep(model, sgd, plan, { objective: 'stage1' }, images, labels, 0.01);
      steps++;
    }
    const msPerStep = (performance.now() - start) / steps;
    return { msPerStep, imagesPerSecond: (batch * 1000) / msPerStep, backendBytes: tf.memory().numBytes };
  } finally {
    tf.dispose([images, labels]);
    sgd.dispose();
    model.dispose();
  }
}
