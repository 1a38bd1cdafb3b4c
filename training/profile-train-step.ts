/**
 * @module training/profile-train-step
 * Where a training step's time goes on the current backend: time per kernel in the forward pass
 * (with the loss) and in the backward pass plus the SGD update, and the time spent outside
 * kernels (JS bookkeeping, the tape, allocation), from `tf.profile`.
 */
import { tf } from './backend/tf.js';
import { DEFAULT_MSDNET_CONFIG, type MsdNetConfig } from './models/config.js';
import { MultiExitModel } from './models/multi-exit-model.js';
import { TensorOps } from './models/tensor-ops.js';
import { objectiveLoss, planObjective, type ObjectiveOptions, type ObjectivePlan } from './objective.js';
import { Sgd } from './optim/sgd.js';
import { applyGradients, trainStep } from './train-step.js';

/** One kernel's share of a step. */
export interface KernelTime {
  kernel: string;
  forwardMs: number;
  forwardCalls: number;
  /** Backward pass and the SGD and BatchNorm-statistic updates. */
  backwardMs: number;
  backwardCalls: number;
}

export interface TrainStepProfile {
  /** Wall time of the profiled step (profiling adds a little per kernel). */
  stepMs: number;
  /** Sum of kernel times. */
  kernelMs: number;
  /** stepMs − kernelMs: the engine, the tape, JS glue and allocation. */
  outsideKernelsMs: number;
  /** Kernels by total time, largest first. */
  kernels: KernelTime[];
  /** Largest number of bytes the backend held during the step. */
  peakBytes: number;
}

export interface ProfileOptions {
  /** @defaultValue 64 */
  batchSize?: number;
  /** @defaultValue the CIFAR-10 7-exit anytime MSDNet */
  msdnet?: MsdNetConfig;
  /** Profiled steps, summed kernel by kernel and then averaged. @defaultValue 2 */
  steps?: number;
}

type Tally = Map<string, { ms: number; calls: number }>;

/**
 * Leaf kernels in execution order. tf.profile also lists composite ops (a custom gradient's
 * `forward`, `logSoftmax__op`), whose time includes their inner kernels': those are dropped so
 * that nothing counts twice.
 */
async function leafKernels(fn: () => unknown): Promise<{ kernels: { name: string; ms: number }[]; wallMs: number; peakBytes: number }> {
  const backendName = tf.getBackend();
  const start = performance.now();
  const info = await tf.profile(fn as () => tf.Tensor);
  const wallMs = performance.now() - start;
  const kernels = info.kernels
    .filter((k) => tf.getKernel(k.name, backendName) !== undefined)
    .map((k) => ({ name: k.name, ms: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0 }));
  return { kernels, wallMs, peakBytes: info.peakBytes };
}

function addTo(into: Tally, name: string, ms: number, weight: number): void {
  const e = into.get(name) ?? { ms: 0, calls: 0 };
  e.ms += ms * weight;
  e.calls += weight;
  into.set(name, e);
}

/** A kernel the training step never runs: it marks the end of the forward pass in the profile. */
const MARKER = 'Floor';

/**
 * {@link trainStep} written out (forward and loss under the tape, gradients, SGD and BatchNorm
 * updates) with a {@link MARKER} kernel between the forward and the backward pass.
 */
function markedStep(model: MultiExitModel, sgd: Sgd, plan: ObjectivePlan, objective: ObjectiveOptions, images: tf.Tensor, labels: tf.Tensor): void {
  const ops = new TensorOps({ batchStatsGroups: plan.batchStatsGroups });
  const { value, grads } = tf.variableGrads(() => {
    const total = objectiveLoss(model, ops, images, labels, objective).total as tf.Scalar;
    tf.floor(total);
    return total;
  }, sgd.variables);
  value.dispose();
  applyGradients(sgd, { grads, ops, result: { loss: 0, perExitLoss: [], lastExitCorrect: 0 } }, 0.01);
}

/**
 * Profiles stage-1 steps (GE on) on random data after one warm-up step; a marker kernel splits
 * each step's kernels into the forward pass and the rest (backward pass and updates).
 */
export async function profileTrainStep(options: ProfileOptions = {}): Promise<TrainStepProfile> {
  const batch = options.batchSize ?? 64;
  const steps = options.steps ?? 2;
  const msdnet = options.msdnet ?? DEFAULT_MSDNET_CONFIG;
  const objective: ObjectiveOptions = { objective: 'stage1' };
  const model = MultiExitModel.create({ msdnet, ge: true, linearHeads: true, iscHeads: false, iscDetach: false });
  const plan = planObjective(model, objective);
  const sgd = new Sgd(model.parameters(plan.trainGroups));
  const [h, w] = msdnet.inputSize;
  const images = tf.randomNormal([batch, h, w, msdnet.inputChannels], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % msdnet.numClasses), 'int32');
  try {
    await trainStep(model, sgd, plan, objective, images, labels, 0.01);
    const forward: Tally = new Map();
    const backward: Tally = new Map();
    let stepMs = 0;
    let peakBytes = 0;
    for (let i = 0; i < steps; i++) {
      const s = await leafKernels(() => markedStep(model, sgd, plan, objective, images, labels));
      const boundary = s.kernels.findIndex((k) => k.name === MARKER);
      if (boundary < 0) throw new Error(`profileTrainStep: the ${MARKER} marker kernel was not recorded`);
      s.kernels.forEach((k, j) => j !== boundary && addTo(j < boundary ? forward : backward, k.name, k.ms, 1 / steps));
      stepMs += s.wallMs / steps;
      peakBytes = Math.max(peakBytes, s.peakBytes);
    }
    const names = new Set([...forward.keys(), ...backward.keys()]);
    const kernels: KernelTime[] = [...names].map((kernel) => {
      const fwd = forward.get(kernel) ?? { ms: 0, calls: 0 };
      const bwd = backward.get(kernel) ?? { ms: 0, calls: 0 };
      return { kernel, forwardMs: fwd.ms, forwardCalls: fwd.calls, backwardMs: bwd.ms, backwardCalls: bwd.calls };
    });
    kernels.sort((a, b) => b.forwardMs + b.backwardMs - (a.forwardMs + a.backwardMs));
    const kernelMs = kernels.reduce((s, k) => s + k.forwardMs + k.backwardMs, 0);
    return { stepMs, kernelMs, outsideKernelsMs: stepMs - kernelMs, kernels, peakBytes };
  } finally {
    tf.dispose([images, labels]);
    sgd.dispose();
    model.dispose();
  }
}
