/**
 * @module training/models/batch-norm-training
 * BatchNorm with batch statistics and a hand-written backward pass. tfjs's generic gradient of
 * its fused batch norm tiles the scale to the input's full shape and differentiates through the
 * moments op by op: on the WASM backend that made BatchNorm the costliest part of a training step
 * (the `Tile` kernel alone took more time than all convolutions). Here the backward pass is the
 * closed form, with [C]-vector broadcasts only.
 */
import { tf, type Tensor } from '../backend/tf.js';

export interface BatchNormTrainingResult {
  y: Tensor;
  /** Batch mean per channel (no gradient flows through it). */
  mean: Tensor;
  /** Biased batch variance per channel, as used for normalisation. */
  variance: Tensor;
}

/**
 * y = γ·(x - μ)/sqrt(σ² + ε) + β with μ, σ² over every axis but the last.
 * Backward, with x̂ the normalised input and M the reduced element count:
 * dβ = Σ dy; dγ = Σ dy·x̂; dx = γ/sqrt(σ²+ε) · (dy - dβ/M - x̂·dγ/M).
 */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): BatchNormTrainingResult {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1]!;
  let mean: Tensor | undefined;
  let variance: Tensor | undefined;
  const op = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const [input, g, b, save] = args as [Tensor, Tensor, Tensor, tf.GradSaveFunc];
    const moments = tf.moments(input, axes);
    mean = tf.keep(moments.mean);
    variance = tf.keep(moments.variance);
    const invStd = tf.rsqrt(tf.add(moments.variance, eps));
    const xHat = tf.mul(tf.sub(input, moments.mean), invStd);
    save([xHat, invStd, g]);
    return {
      value: tf.add(tf.mul(xHat, g), b),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sInv, sg] = saved as [Tensor, Tensor, Tensor];
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, sx), axes);
        const centred = tf.sub(dy, tf.add(tf.div(dBeta, count), tf.mul(sx, tf.div(dGamma, count))));
        const dx = tf.mul(centred, tf.mul(sg, sInv));
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}
