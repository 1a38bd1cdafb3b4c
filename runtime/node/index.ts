/**
 * @module runtime/node
 * The early-exit runtime on onnxruntime-node: {@link AdaptiveModel} and the CPU stage backend.
 * Re-exports runtime/core.
 */
export * from '../core/index.js';
export { AdaptiveModel, type AdaptiveModelOptions, type InputBatch } from './adaptive-model.js';
export { createNodeBackend, type NodeBackendOptions } from './backend.js';
