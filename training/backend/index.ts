/**
 * @module training/backend
 * The TensorFlow.js engine used for training: backend selection, the WASM training kernels, and
 * WebGPU on Dawn.
 */
export { tf } from './tf.js';
export type { Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from './tf.js';
export { BACKEND_ENV_VAR, selectTrainingBackend, TRAINING_BACKENDS } from './select-backend.js';
export type { BackendInfo, SelectBackendOptions, TrainingBackendName } from './select-backend.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels/register-wasm-training-kernels.js';
export { loadWebGpuBackend } from './webgpu-backend.js';
export type { WebGpuLoadOptions } from './webgpu-backend.js';
export { describeWebGpuAdapter, probeWebGpuAdapter, softwareAdapterReason } from './webgpu-device.js';
export type { WebGpuAdapterSummary } from './webgpu-device.js';
