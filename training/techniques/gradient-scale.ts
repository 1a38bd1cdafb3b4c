/**
 * @module training/techniques/gradient-scale
 * Identity in the forward pass, gradient times a constant in the backward pass: the primitive of
 * Gradient Equilibrium, and (with 0) a stop-gradient for teachers and the ISC detach ablation.
 */
import { tf, type Tensor } from '../backend/tf.js';

/** Returns x unchanged; its gradient is multiplied by `scale` (0 cuts it). */
export function scaleGradient(x: Tensor, scale: number): Tensor {
  if (scale === 1) return x;
  const op = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => ({
    value: tf.clone(args[0] as Tensor),
    gradFunc: (dy: Tensor) => (scale === 0 ? tf.zerosLike(dy) : tf.mul(dy, scale)),
  }));
  return op(x);
}

/** x with no gradient flowing back through it. */
export function stopGradient(x: Tensor): Tensor {
  return scaleGradient(x, 0);
}
