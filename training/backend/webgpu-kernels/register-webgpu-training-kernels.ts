/**
 * @module training/backend/webgpu-kernels/register-webgpu-training-kernels
 * Registers the kernels that training needs on tfjs-backend-webgpu but it lacks or gets wrong.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';

/** Kernels this project adds to (or replaces on) the `webgpu` backend. */
export const WEBGPU_TRAINING_KERNELS: readonly KernelConfig[] = Object.freeze([]);

/**
 * Registers {@link WEBGPU_TRAINING_KERNELS} for `webgpu`, replacing the stock kernel of the
 * same name. Idempotent. Call after tfjs-backend-webgpu is imported (its import registers the
 * stock kernels, which would otherwise replace ours... tfjs ignores a second registration).
 * @returns The names of the kernels this call registered (empty on later calls).
 */
export function registerWebGpuTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of WEBGPU_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing !== undefined) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}
