/**
 * @module training/backend/wasm-kernels/register-wasm-training-kernels
 * Registers the backward kernels that training needs on tfjs-backend-wasm but it lacks or runs slowly.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { concatConfig, splitVConfig } from './concat-split.js';
import { sliceConfig } from './slice.js';
import { identityConfig } from './identity.js';
import { sgdUpdateConfig } from './sgd-update.js';
import { batchNormReluConfig, batchNormReluGradConfig } from './batch-norm-relu.js';
import { rememberStockKernel } from './wasm-kernel-util.js';

/**
 * Kernels this project adds to the `wasm` backend. Of the backward kernels an MSDNet training
 * step uses (conv, pooling, relu, batch norm by primitive ops, concat, matmul, log-softmax,
 * reductions), tfjs-backend-wasm 4.22 lacks `Conv2DBackpropFilter`; its `MaxPoolGrad` is wrong
 * for windows whose values are all ≤ 0 (running max starts at FLT_MIN, not −∞); and its
 * `Conv2DBackpropInput` is a scalar loop running ~1 GFLOP/s, 10-15x slower than its forward conv;
 * its `Slice` copies the whole input out of the heap per call; and its `Concat` and `SplitV`
 * (every dense-connectivity concat of MSDNet and its gradient) copy a few floats per JS call;
 * its `Identity` copies every tensor tfjs saves for a gradient. BatchNorm + ReLU, which
 * tfjs composes of about 14 kernels, is one fused kernel forward and one backward; and a
 * parameter's SGD step is one kernel instead of about six.
 */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = Object.freeze([
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  sliceConfig,
  concatConfig,
  splitVConfig,
  identityConfig,
  batchNormReluConfig,
  batchNormReluGradConfig,
  sgdUpdateConfig,
]);

/** Kernels of {@link WASM_TRAINING_KERNELS} that deliberately replace a stock wasm kernel. */
export const REPLACED_STOCK_KERNELS: ReadonlySet<string> = new Set([
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'Slice',
  'Concat',
  'SplitV',
  'Identity',
]);

/**
 * Registers {@link WASM_TRAINING_KERNELS} for the `wasm` backend. Idempotent: a kernel already
 * registered by an earlier call is skipped (tfjs would warn and ignore the duplicate), and so is
 * one that a newer tfjs-backend-wasm ships itself, unless it is listed in
 * {@link REPLACED_STOCK_KERNELS}, whose stock kernel is unregistered first.
 * Safe before or after the wasm backend initialises: these kernels need no setup function.
 * @returns The names of the kernels this call registered (empty on later calls).
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing !== undefined) {
      if (existing.kernelFunc === config.kernelFunc || !REPLACED_STOCK_KERNELS.has(config.kernelName)) continue;
      rememberStockKernel(existing);
      unregisterKernel(config.kernelName, config.backendName);
    }
    registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}
