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
   */
  applyBatchNormUpdates(): void {
    const pending = this.pending;
    this.pending = [];
    tf.tidy(() => {
      for (const { layer, mean, variance, count } of pending) {
        const m = layer.momentum;
        const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
        layer.runningMean.assign(tf.add(tf.mul(layer.runningMean, 1 - m), tf.mul(mean, m)));
        layer.runningVar.assign(tf.add(tf.mul(layer.runningVar, 1 - m), tf.mul(unbiased, m)));
      }
    });
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
