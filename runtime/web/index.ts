/**
 * @module runtime/web
 * The early-exit runtime on onnxruntime-web (WebGPU or WASM), for browsers and Node: the same
 * engine and API as runtime/node. Re-exports runtime/core.
 */
export * from '../core/index.js';
export { AdaptiveModel, type WebAdaptiveModelOptions } from './adaptive-model.js';
export { createWebBackend, webGpuAvailable, WEB_EXECUTION_PROVIDERS, type WebBackendOptions, type WebExecutionProvider, type WebStageBackend } from './backend.js';
export { decodeWebImage, type WebImage } from './decode-image.js';
