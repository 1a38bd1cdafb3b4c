/**
 * @module onnx
 * The ONNX file format as adaptive-exit writes and reads it (a protobuf schema subset). A format
 * library, not a pipeline stage: export encodes stage graphs with it, the runtime decodes them.
 */
export { ATTRIBUTE_TYPE, modelProtoType, ONNX_DTYPE } from './proto.js';
