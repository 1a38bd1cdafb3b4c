/**
 * @module export
 * Exporting trained multi-exit models: per-stage ONNX graphs, the full graph, and the manifest.
 */
export { exportRun, type ExportOptions } from './export-run.js';
export { buildFullGraph, buildStageGraphs, ONNX_IR_VERSION, ONNX_OPSET, tensorNames, type GraphTensor, type StageGraph } from './stage-graphs.js';
export { OnnxOps, type OnnxValue } from './onnx-ops.js';
export { OnnxGraphBuilder, type Dim } from './onnx/graph-builder.js';
