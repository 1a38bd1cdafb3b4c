/**
 * @module training/backend/wasm-kernels/register-wasm-training-kernels
 * Registers the backward kernels that tfjs-backend-wasm lacks but training needs.
 */
import { getKernel, registerKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';

/**
 * Kernels this project adds to the `wasm` backend. Of the backward kernels an MSDNet training
 * step uses (conv, pooling, relu, batch-norm by primitive ops, concat, matmul, log-softmax,
 * reductions), only `Conv2DBackpropFilter` is missing from tfjs-backend-wasm 4.22.
 */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = Object.freeze([conv2dBackpropFilterConfig]);

/**
 * Registers {@link WASM_TRAINING_KERNELS} for the `wasm` backend. Idempotent: a kernel name that
 * already has a wasm kernel is skipped, whether ours from an earlier call or one a newer
 * tfjs-backend-wasm ships itself (tfjs would only warn and ignore the duplicate).
 * Safe before or after the wasm backend initialises: these kernels need no setup function.
 * @returns The names of the kernels this call registered (empty on later calls).
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of WASM_TRAINING_KERNELS) {
    if (getKernel(config.kernelName, config.backendName) !== undefined) continue;
    registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}
