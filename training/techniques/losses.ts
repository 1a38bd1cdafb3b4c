/**
 * @module training/techniques/losses
 * Classification losses on logits: cross-entropy with a batch mean (PyTorch's default), and the
 * stage-1 objective of spec §1, the unweighted sum over exits.
 */
import { tf, type Tensor } from '../backend/tf.js';

/** Mean over the batch of -log softmax(z)[y]; `labels` are int32 class indices. */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  return tf.tidy(() => {
    const numClasses = logits.shape[logits.shape.length - 1]!;
    const oneHot = tf.oneHot(labels as tf.Tensor1D, numClasses);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1)));
  });
}

/** Stage-1 loss: Σ_k CE(z_k, y), every exit weighted 1 (spec §1). */
export function sumOfExitCrossEntropies(logits: readonly Tensor[], labels: Tensor): { total: Tensor; perExit: Tensor[] } {
  const perExit = logits.map((z) => crossEntropy(z, labels));
  return { total: tf.addN(perExit), perExit };
}
