/**
 * @module onnx-import
 * `adaptive-exit import`: any multi-exit ONNX graph to a model directory with per-stage graphs
 * (lazy splitting), costs by the project's counting rules and an uncalibrated manifest. Imports
 * nothing from training/ or tfjs: it ships in the runtime package.
 */
export { ImportError } from './errors.js';
export { importModel, type ImageOptions, type ImportOptions, type ImportResult } from './import-model.js';
export { FREE_OPS, nodeMultiplyAdds } from './op-costs.js';
export { splitGraph, type StagePlan, type StageSource } from './split-graph.js';
