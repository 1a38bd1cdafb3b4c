/**
 * @module training/techniques/ofa-kd
 * One-for-all knowledge distillation (spec §3): the last exit learns from the labels alone;
 * every earlier exit from (1-γ)·CE + γ·T²·KL(teacher ‖ student) with one shared teacher.
 */
import { tf, type Tensor } from '../backend/tf.js';
import { stopGradient } from './gradient-scale.js';
import { crossEntropy } from './losses.js';

/**
 * How the KL divergence is averaged.
 * - `elementwise-mean`: the reference's `nn.KLDivLoss()` default, a mean over all B·N elements
 *   (the KD term is then N times weaker than textbook distillation). The default, for fidelity.
 * - `batchmean`: textbook Hinton distillation, the sum over classes averaged over the batch.
 */
export const KD_REDUCTIONS = Object.freeze(['elementwise-mean', 'batchmean'] as const);
export type KdReduction = (typeof KD_REDUCTIONS)[number];

export interface OfaKdOptions {
  /** Temperature T. @defaultValue 3 (reference args.py) */
  temperature: number;
  /** Weight γ of the distillation term. @defaultValue 0.9 (reference args.py) */
  gamma: number;
  /** @defaultValue 'elementwise-mean' */
  reduction: KdReduction;
}

export const DEFAULT_OFA_KD: Readonly<OfaKdOptions> = Object.freeze({
  temperature: 3,
  gamma: 0.9,
  reduction: 'elementwise-mean',
});

/** KL(softmax(t/T) ‖ softmax(z/T)) reduced as asked; the teacher gets no gradient. */
export function distillationKl(student: Tensor, teacher: Tensor, temperature: number, reduction: KdReduction): Tensor {
  return tf.tidy(() => {
    // The teacher is a constant of this loss: its gradient is cut here whatever produced it.
    const logP = tf.logSoftmax(tf.div(stopGradient(teacher), temperature));
    const logQ = tf.logSoftmax(tf.div(student, temperature));
    const pointwise = tf.mul(tf.exp(logP), tf.sub(logP, logQ));
    return reduction === 'elementwise-mean' ? tf.mean(pointwise) : tf.div(tf.sum(pointwise), student.shape[0]!);
  });
}

/**
 * The OFA-KD objective over all exits.
 * @param logits the exits' logits, last exit last.
 * @param teacher the teacher's logits (stage 2: the frozen stage-1 exit K; joint: the model's own exit K).
 */
export function ofaKdLoss(
  logits: readonly Tensor[],
  teacher: Tensor,
  labels: Tensor,
  options: OfaKdOptions = DEFAULT_OFA_KD,
): { total: Tensor; perExit: Tensor[] } {
  const { temperature: T, gamma, reduction } = options;
  const K = logits.length;
  const perExit = logits.map((z, k) =>
    tf.tidy(() => {
      const ce = crossEntropy(z, labels);
      if (k === K - 1) return ce;
      const kd = distillationKl(z, teacher, T, reduction);
      return tf.add(tf.mul(ce, 1 - gamma), tf.mul(kd, gamma * T * T));
    }),
  );
  return { total: tf.addN(perExit), perExit };
}
