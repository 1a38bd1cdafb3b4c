/**
 * @module training/models/tensor-ops
 * {@link GraphOps} on tfjs tensors: the interpreter used for training and evaluation. In training
 * mode BatchNorm normalises with batch statistics and queues running-statistic updates, which the
 * caller applies after the gradient step (variables must not change inside a gradient tape).
 */
import { tf, type Tensor } from '../backend/tf.js';
import { scaleGradient } from '../techniques/gradient-scale.js';
import { batchNormReluTraining, batchNormTraining } from './batch-norm-training.js';
// Registers the Conv2D and Concat gradients that free their dy early (side effect only).
import './lean-gradients.js';
import type { GraphOps } from './graph-ops.js';
import type { BatchNormLayer, Conv2dLayer, LinearLayer, ParamGroup } from './layers.js';

interface PendingUpdate {
  layer: BatchNormLayer;
  mean: Tensor;
  variance: Tensor;
  count: number;
}

export interface TensorOpsOptions {
  /**
   * Which groups' BatchNorm layers use batch statistics (and update their running statistics).
   * An empty list is evaluation mode. @defaultValue [] (evaluation)
   */
  batchStatsGroups?: readonly ParamGroup[];
}

/** Interprets a forward pass on tfjs tensors. */
export class TensorOps implements GraphOps<Tensor> {
  private readonly batchStats: ReadonlySet<ParamGroup>;
  private pending: PendingUpdate[] = [];

  constructor(options: TensorOpsOptions = {}) {
    this.batchStats = new Set(options.batchStatsGroups ?? []);
  }

  conv2d(layer: Conv2dLayer, x: Tensor): Tensor {
    const y = tf.conv2d(x as tf.Tensor4D, layer.weight as unknown as tf.Tensor4D, layer.stride, layer.pad);
    return layer.bias ? tf.add(y, layer.bias) : y;
  }

  batchNorm(layer: BatchNormLayer, x: Tensor): Tensor {
    if (!this.batchStats.has(layer.group)) {
      return tf.batchNorm(x, layer.runningMean, layer.runningVar, layer.beta, layer.gamma, layer.eps);
    }
    const { y, mean, variance } = batchNormTraining(x, layer.gamma, layer.beta, layer.eps);
    this.queueUpdate(layer, mean, variance, x.size / layer.channels);
    return y;
  }

  private queueUpdate(layer: BatchNormLayer, mean: Tensor, variance: Tensor, count: number): void {
    // Kept past the tape's tidy so the running statistics can be updated after the step.
    this.pending.push({ layer, mean: tf.keep(mean), variance: tf.keep(variance), count });
  }

  relu(x: Tensor): Tensor {
    return tf.relu(x);
  }

  batchNormRelu(layer: BatchNormLayer, x: Tensor): Tensor {
    if (!this.batchStats.has(layer.group)) return tf.relu(this.batchNorm(layer, x));
    const { y, mean, variance } = batchNormReluTraining(x, layer.gamma, layer.beta, layer.eps);
    this.queueUpdate(layer, mean, variance, x.size / layer.channels);
    return y;
  }

  maxPool(x: Tensor, kernel: number, stride: number, pad: number): Tensor {
    return tf.maxPool(x as tf.Tensor4D, kernel, stride, pad);
  }

  globalAvgPool(x: Tensor): Tensor {
    return tf.mean(x, [1, 2]);
  }

  linear(layer: LinearLayer, x: Tensor): Tensor {
    return tf.add(tf.matMul(x as tf.Tensor2D, layer.weight as unknown as tf.Tensor2D), layer.bias);
  }

  concat(xs: Tensor[]): Tensor {
    return tf.concat(xs, -1);
  }

  scaleGradient(x: Tensor, scale: number): Tensor {
    return scaleGradient(x, scale);
  }

  /**
   * Applies the queued running-statistic updates (PyTorch convention: unbiased batch variance,
   * momentum 0.1) and frees the kept batch statistics.
   *
   * All layers' statistics are updated as one vector: per layer the update is seven kernels on
   * vectors of a few dozen floats, whose engine overhead (about 900 kernel calls for the 7-exit
   * MSDNet's 128 BatchNorm layers) cost more than the arithmetic. The per-element formula and
   * its float32 rounding are the same as layer by layer.
   */
  applyBatchNormUpdates(): void {
    const pending = this.pending;
    this.pending = [];
    if (pending.length > 0) {
      const sizes = pending.map((p) => p.layer.channels);
      // Per element: the layer's momentum m, 1 − m, and the unbiasing factor n / (n − 1).
      const total = sizes.reduce((a, b) => a + b, 0);
      const keep = new Float32Array(total);
      const take = new Float32Array(total);
      const unbias = new Float32Array(total);
      let at = 0;
      for (const { layer, count } of pending) {
        keep.fill(1 - layer.momentum, at, at + layer.channels);
        take.fill(layer.momentum, at, at + layer.channels);
        unbias.fill(count > 1 ? count / (count - 1) : 1, at, at + layer.channels);
        at += layer.channels;
      }
      const [means, vars] = tf.tidy(() => {
        // Statistics are vectors of the layer's channels already; reshapes (kernel calls too) only if not.
        const flat = (ts: Tensor[]) => tf.concat(ts.map((t) => (t.rank === 1 ? t : t.reshape([-1]))));
        const batchMean = flat(pending.map((p) => p.mean));
        const batchVar = tf.mul(flat(pending.map((p) => p.variance)), unbias);
        const runningMean = flat(pending.map((p) => p.layer.runningMean));
        const runningVar = flat(pending.map((p) => p.layer.runningVar));
        const perLayer = (v: Tensor) => tf.split(v, sizes).map((t, i) => (pending[i]!.layer.runningMean.rank === 1 ? t : t.reshape(pending[i]!.layer.runningMean.shape)));
        return [
          perLayer(tf.add(tf.mul(runningMean, keep), tf.mul(batchMean, take))),
          perLayer(tf.add(tf.mul(runningVar, keep), tf.mul(batchVar, take))),
        ];
      });
      pending.forEach(({ layer }, i) => {
        layer.runningMean.assign(means[i]!);
        layer.runningVar.assign(vars[i]!);
      });
      tf.dispose([...means, ...vars]);
    }
    for (const p of pending) {
      p.mean.dispose();
      p.variance.dispose();
    }
  }

  /** Drops queued updates without applying them (for a step that failed). */
  discardBatchNormUpdates(): void {
    for (const p of this.pending) {
      p.mean.dispose();
      p.variance.dispose();
    }
    this.pending = [];
  }
}
