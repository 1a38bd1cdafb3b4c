/**
 * @module training/backend
 * The TensorFlow.js engine used for training: backend selection and the WASM training kernels.
 */
export { tf } from './tf.js';
export type { Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from './tf.js';
export { BACKEND_ENV_VAR, selectTrainingBackend, TRAINING_BACKENDS } from './select-backend.js';
export type { BackendInfo, SelectBackendOptions, TrainingBackendName } from './select-backend.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels/register-wasm-training-kernels.js';
