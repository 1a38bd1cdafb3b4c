/**
 * @module training/backend/wasm-kernels/register-wasm-training-kernels
 * Registers the backward kernels that training needs on tfjs-backend-wasm but it lacks or runs slowly.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';

/**
 * Kernels this project adds to the `wasm` backend. Of the backward kernels an MSDNet training
 * step uses (conv, pooling, relu, batch norm by primitive ops, concat, matmul, log-softmax,
 * reductions), tfjs-backend-wasm 4.22 lacks `Conv2DBackpropFilter`, and its
 * `Conv2DBackpropInput` is a scalar loop running ~1 GFLOP/s, 10-15x slower than its forward conv.
 */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = Object.freeze([
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
]);

/** Kernels of {@link WASM_TRAINING_KERNELS} that deliberately replace a stock wasm kernel. */
export const REPLACED_STOCK_KERNELS: ReadonlySet<string> = new Set(['Conv2DBackpropInput']);

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
      unregisterKernel(config.kernelName, config.backendName);
    }
    registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}
