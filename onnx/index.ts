/**
 * @module onnx
 * The ONNX file format as adaptive-exit writes and reads it (a protobuf schema subset). A format
 * library, not a pipeline stage: export encodes stage graphs with it, the runtime decodes them.
 */
export { ATTRIBUTE_TYPE, modelProtoType, ONNX_DTYPE } from './proto.js';
export { attribute, tensor, valueInfo, type AttributeValue, type Dim, type OnnxAttribute, type OnnxDtype, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './graph-parts.js';
