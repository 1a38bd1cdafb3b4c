/**
 * @module runtime/node
 * The early-exit runtime on onnxruntime-node: {@link AdaptiveModel}, the stage backend (CPU,
 * CUDA, WebGPU with CPU fallback) and sharp image decoding. Re-exports runtime/core.
 */
export * from '../core/index.js';
export { AdaptiveModel, type AdaptiveModelOptions } from './adaptive-model.js';
export { createNodeBackend, nodeSessionOptions, NODE_EXECUTION_PROVIDERS, WEBGPU_LAYOUTS, type NodeBackendOptions, type NodeExecutionProvider, type NodeStageBackend, type WebGpuLayout } from './backend.js';
export { decodeNodeImage, decodeWithSharp, MAX_INPUT_PIXELS, type NodeImage } from './decode-image.js';
export { decodeSmallPng, isPng } from './small-png.js';
export { calibrateModelDir, modelLabels, type CalibrateDirOptions } from './calibrate-dir.js';
export { bundledModelDir, packageVersion } from './package-files.js';
