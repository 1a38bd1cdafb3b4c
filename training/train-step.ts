/**
 * @module training/train-step
 * One optimisation step: forward, loss, gradients of the trainable groups only, SGD update, then
 * the BatchNorm running-statistic updates. A non-finite loss changes nothing and throws.
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

/**
 * Runs one training step.
 * @param images [B, H, W, C] float32, normalised.
 * @param labels [B] int32.
 * @throws NonFiniteLossError when the loss is not finite (nothing is updated).
 */
export function trainStep(
  model: MultiExitModel,
  sgd: Sgd,
  plan: ObjectivePlan,
  objective: ObjectiveOptions,
  images: Tensor,
  labels: Tensor,
  lr: number,
): TrainStepResult {
  const ops = new TensorOps({ batchStatsGroups: plan.batchStatsGroups });
  let stats: Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = objectiveLoss(model, ops, images, labels, objective);
    const last = out.logits[out.logits.length - 1]!;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(last, -1), labels), 'float32'));
    // One small tensor read once after the step: every extra read is a pipeline stall.
    stats = tf.keep(tf.concat([tf.stack([out.total, ...out.perExit]), tf.reshape(correct, [1])]));
    return out.total as tf.Scalar;
  }, sgd.variables);
  const values = stats!.dataSync();
  stats!.dispose();
  value.dispose();
  const loss = values[0]!;
  if (!Number.isFinite(loss)) {
    ops.discardBatchNormUpdates();
    tf.dispose(grads);
    throw new NonFiniteLossError(`training loss is ${loss}: stopping before the update (the last checkpoint is kept).`);
  }
  sgd.step(grads, lr);
  tf.dispose(grads);
  ops.applyBatchNormUpdates();
  const K = model.numExits;
  return { loss, perExitLoss: Array.from(values.subarray(1, 1 + K)), lastExitCorrect: values[1 + K]! };
}
