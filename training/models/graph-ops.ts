/**
 * @module training/models/graph-ops
 * The operations a model's forward pass is written in. One forward definition serves several
 * interpreters: real tensors (training, evaluation), shapes with a cost counter (MFLOPs, params),
 * and any graph writer that implements this interface.
 */
import type { BatchNormLayer, Conv2dLayer, LinearLayer } from './layers.js';

/** Operations on values of type T (tensors in NHWC layout, or [batch, features]). */
export interface GraphOps<T> {
  conv2d(layer: Conv2dLayer, x: T): T;
  /** BatchNorm over the last (channel) axis; 4-D or 2-D input. */
  batchNorm(layer: BatchNormLayer, x: T): T;
  relu(x: T): T;
  /**
   * relu(batchNorm(x)), the pair every MSDNet conv unit ends with: an interpreter may fuse it
   * (training on wasm does); others return `relu(batchNorm(layer, x))`.
   */
  batchNormRelu(layer: BatchNormLayer, x: T): T;
  maxPool(x: T, kernel: number, stride: number, pad: number): T;
  /** Mean over the spatial axes: [N, H, W, C] to [N, C]. */
  globalAvgPool(x: T): T;
  linear(layer: LinearLayer, x: T): T;
  /** Concatenation along the last (channel or feature) axis. */
  concat(xs: T[]): T;
  /** Identity forward, gradient times `scale` backward (Gradient Equilibrium; 0 stops gradients). */
  scaleGradient(x: T, scale: number): T;
}
