/**
 * @module training/train-step
 * One optimisation step: forward, loss, gradients of the trainable groups only, SGD update, then
 * the BatchNorm running-statistic updates. A non-finite loss changes nothing and throws.
 * Asynchronous because the step's statistics are read back with `data()`: WebGPU in Node cannot
 * read a GPU buffer synchronously (tfjs-backend-webgpu's `dataSync` needs a browser canvas).
 */
import { tf, type Tensor } from './backend/tf.js';
import type { MultiExitModel } from './models/multi-exit-model.js';
import { TensorOps } from './models/tensor-ops.js';
import { objectiveLoss, type ObjectiveOptions, type ObjectivePlan } from './objective.js';
import type { Sgd } from './optim/sgd.js';

export interface TrainStepResult {
  loss: number;
  perExitLoss: number[];
  /** Samples of the batch that the last exit classified correctly. */
  lastExitCorrect: number;
}

/** Thrown when a step's loss is NaN or infinite; the model and optimiser are left unchanged. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

/** Gradients of one batch, not yet applied. Pass to {@link applyGradients} or {@link discardGradients}. */
export interface PendingStep {
  /** Gradients keyed by tfjs variable name. */
  grads: Record<string, Tensor>;
  result: TrainStepResult;
  ops: TensorOps;
}

/**
 * Forward and backward pass of one batch; changes no variable.
 * @param images [B, H, W, C] float32, normalised.
 * @param labels [B] int32.
 */
export async function computeGradients(
  model: MultiExitModel,
  sgd: Sgd,
  plan: ObjectivePlan,
  objective: ObjectiveOptions,
  images: Tensor,
  labels: Tensor,
): Promise<PendingStep> {
  const ops = new TensorOps({ batchStatsGroups: plan.batchStatsGroups });
  let stats: Tensor | undefined;
  let values: Float32Array | Int32Array | Uint8Array;
  let grads: tf.NamedTensorMap;
  try {
    const step = tf.variableGrads(() => {
      const out = objectiveLoss(model, ops, images, labels, objective);
      const last = out.logits[out.logits.length - 1]!;
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(last, -1), labels), 'float32'));
      // One small tensor read once after the step: every extra read is a pipeline stall.
      stats = tf.keep(tf.concat([tf.stack([out.total, ...out.perExit]), tf.reshape(correct, [1])]));
      return out.total as tf.Scalar;
    }, sgd.variables);
    grads = step.grads;
    step.value.dispose();
    try {
      values = await stats!.data();
    } catch (err) {
      // A failed read (e.g. a lost GPU device) must not leave gradients or queued BatchNorm
      // updates behind for the caller's next step.
      tf.dispose(grads);
      throw err;
    }
  } catch (err) {
    ops.discardBatchNormUpdates();
    throw err;
  } finally {
    stats?.dispose();
  }
  const K = model.numExits;
  return {
    grads,
    ops,
    result: { loss: values[0]!, perExitLoss: Array.from(values.subarray(1, 1 + K)), lastExitCorrect: values[1 + K]! },
  };
}

/** Applies a pending step: SGD update, then the BatchNorm running statistics. */
export function applyGradients(sgd: Sgd, pending: PendingStep, lr: number): void {
  sgd.step(pending.grads, lr);
  tf.dispose(pending.grads);
  pending.ops.applyBatchNormUpdates();
}

/** Drops a pending step without changing anything. */
export function discardGradients(pending: PendingStep): void {
  tf.dispose(pending.grads);
  pending.ops.discardBatchNormUpdates();
}

/**
 * Runs one training step.
 * @throws NonFiniteLossError when the loss is not finite (nothing is updated).
 */
export async function trainStep(
  model: MultiExitModel,
  sgd: Sgd,
  plan: ObjectivePlan,
  objective: ObjectiveOptions,
  images: Tensor,
  labels: Tensor,
  lr: number,
): Promise<TrainStepResult> {
  const pending = await computeGradients(model, sgd, plan, objective, images, labels);
  if (!Number.isFinite(pending.result.loss)) {
    discardGradients(pending);
    throw new NonFiniteLossError(`training loss is ${pending.result.loss}: stopping before the update (the last checkpoint is kept).`);
  }
  applyGradients(sgd, pending, lr);
  return pending.result;
}
