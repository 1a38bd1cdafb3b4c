/**
 * @module training/models/batch-norm-training
 * BatchNorm with batch statistics and a hand-written backward pass. tfjs's generic gradient of
 * its fused batch norm tiles the scale to the input's full shape and differentiates through the
 * moments op by op: on the WASM backend that made BatchNorm the costliest part of a training step
 * (the `Tile` kernel alone took more time than all convolutions). Here the backward pass is the
 * closed form, with [C]-vector broadcasts only.
 */
import { tf, type Tensor } from '../backend/tf.js';
import { BATCH_NORM_RELU, BATCH_NORM_RELU_GRAD } from '../backend/wasm-kernels/batch-norm-relu.js';

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

// The fused kernel's gradient, for backends that register both of its kernels (wasm). Computed
// once per node: tfjs asks for each input's gradient separately, inside its own tidy, which
// would dispose the other two outputs of one backward kernel run there.
tf.registerGradient({
  kernelName: BATCH_NORM_RELU,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    // The batch statistics feed only the running averages, outside the tape: their dy is zero.
    const dOut = Array.isArray(dy) ? dy[0]! : dy;
    const [x, gamma, y, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const [dx, dGamma, dBeta] = tf
      .engine()
      .runKernel(BATCH_NORM_RELU_GRAD, { dy: dOut, x, y, mean, variance, gamma }, attrs) as unknown as [Tensor, Tensor, Tensor];
    // The backward pass keeps every gradient it computed until it ends (tfjs frees them with its
    // scope), though y's is read by this node alone, which runs once: freeing it now lowers the
    // pass's peak memory. (Only this tensor object: data shared by another stays alive.)
    dOut.dispose();
    return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
  },
});

/**
 * relu(BatchNorm with batch statistics): one fused kernel forward and one backward where the
 * backend has them (wasm: training/backend/wasm-kernels/batch-norm-relu), else
 * {@link batchNormTraining} followed by `tf.relu`. Same result and gradients either way.
 */
export function batchNormReluTraining(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): BatchNormTrainingResult {
  const backend = tf.getBackend();
  if (tf.getKernel(BATCH_NORM_RELU, backend) === undefined || tf.getKernel(BATCH_NORM_RELU_GRAD, backend) === undefined) {
    const { y, mean, variance } = batchNormTraining(x, gamma, beta, eps);
    return { y: tf.relu(y), mean, variance };
  }
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_RELU, { x, gamma, beta }, { eps }) as unknown as [Tensor, Tensor, Tensor];
  return { y, mean, variance };
}
