/**
 * @module onnx/proto
 * The subset of the ONNX protobuf schema (onnx.proto, proto2) that adaptive-exit writes and reads
 * back, declared with protobufjs's reflection API: the exporter writes stage graphs with it, the
 * runtime decodes them to compose the fused early-exit graph, and onnx-import decodes foreign
 * graphs and re-encodes their nodes (so it also declares the fields that exporter never writes:
 * tensor attributes, typed data arrays, external data, value_info, functions). Field numbers and enum values
 * are ONNX's; repeated scalars are left unpacked as in the proto2 original (readers accept both
 * encodings).
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const ONNX_DTYPE = Object.freeze({ float32: 1, int64: 7, bool: 9, float64: 11 } as const);
/** AttributeProto.AttributeType values used here. */
export const ATTRIBUTE_TYPE = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3, GRAPH: 5, FLOATS: 6, INTS: 7 } as const);

function message(name: string, fields: Array<[string, number, string, ('repeated' | 'packed' | undefined)?]>): protobuf.Type {
  const type = new protobuf.Type(name);
  for (const [fieldName, id, fieldType, rule] of fields) {
    const field = new protobuf.Field(fieldName, id, fieldType, rule === 'packed' ? 'repeated' : rule);
    // onnx.proto declares TensorProto's numeric data fields [packed = true] and the rest unpacked.
    if (rule === 'repeated' && !/^[A-Z]/.test(fieldType) && fieldType !== 'string' && fieldType !== 'bytes') field.setOption('packed', false);
    type.add(field);
  }
  return type;
}

function buildRoot(): protobuf.Root {
  const dimension = message('Dimension', [
    ['dimValue', 1, 'int64'],
    ['dimParam', 2, 'string'],
    ['denotation', 3, 'string'],
  ]);
  const shape = message('TensorShapeProto', [['dim', 1, 'Dimension', 'repeated']]);
  shape.add(dimension);
  const tensorType = message('Tensor', [
    ['elemType', 1, 'int32'],
    ['shape', 2, 'TensorShapeProto'],
  ]);
  // Sequence, map and optional types nest TypeProto; kept so that foreign graphs survive a decode
  // and re-encode (onnx-import) unchanged.
  const sequenceType = message('Sequence', [['elemType', 1, 'TypeProto']]);
  const mapType = message('Map', [
    ['keyType', 1, 'int32'],
    ['valueType', 2, 'TypeProto'],
  ]);
  const optionalType = message('Optional', [['elemType', 1, 'TypeProto']]);
  const sparseTensorType = message('SparseTensor', [
    ['elemType', 1, 'int32'],
    ['shape', 2, 'TensorShapeProto'],
  ]);
  const typeProto = message('TypeProto', [
    ['tensorType', 1, 'Tensor'],
    ['sequenceType', 4, 'Sequence'],
    ['mapType', 5, 'Map'],
    ['denotation', 6, 'string'],
    ['sparseTensorType', 8, 'SparseTensor'],
    ['optionalType', 9, 'Optional'],
  ]);
  for (const t of [tensorType, sequenceType, mapType, optionalType, sparseTensorType]) typeProto.add(t);
  const root = new protobuf.Root();
  const onnx = new protobuf.Namespace('onnx');
  root.add(onnx);
  onnx.add(shape);
  onnx.add(typeProto);
  onnx.add(
    message('TensorProto', [
      ['dims', 1, 'int64', 'repeated'],
      ['dataType', 2, 'int32'],
      ['floatData', 4, 'float', 'packed'],
      ['int32Data', 5, 'int32', 'packed'],
      ['stringData', 6, 'bytes', 'repeated'],
      ['int64Data', 7, 'int64', 'packed'],
      ['name', 8, 'string'],
      ['rawData', 9, 'bytes'],
      ['doubleData', 10, 'double', 'packed'],
      ['uint64Data', 11, 'uint64', 'packed'],
      ['docString', 12, 'string'],
      ['externalData', 13, 'StringStringEntryProto', 'repeated'],
      ['dataLocation', 14, 'int32'],
    ]),
  );
  onnx.add(
    message('SparseTensorProto', [
      ['values', 1, 'TensorProto'],
      ['indices', 2, 'TensorProto'],
      ['dims', 3, 'int64', 'packed'],
    ]),
  );
  onnx.add(
    message('AttributeProto', [
      ['name', 1, 'string'],
      ['f', 2, 'float'],
      ['i', 3, 'int64'],
      ['s', 4, 'bytes'],
      ['g', 6, 'GraphProto'],
      ['t', 5, 'TensorProto'],
      ['floats', 7, 'float', 'repeated'],
      ['ints', 8, 'int64', 'repeated'],
      ['strings', 9, 'bytes', 'repeated'],
      ['tensors', 10, 'TensorProto', 'repeated'],
      ['graphs', 11, 'GraphProto', 'repeated'],
      ['docString', 13, 'string'],
      ['type', 20, 'int32'],
      ['refAttrName', 21, 'string'],
      ['sparseTensor', 22, 'SparseTensorProto'],
      ['sparseTensors', 23, 'SparseTensorProto', 'repeated'],
    ]),
  );
  onnx.add(
    message('ValueInfoProto', [
      ['name', 1, 'string'],
      ['type', 2, 'TypeProto'],
      ['docString', 3, 'string'],
    ]),
  );
  onnx.add(
    message('NodeProto', [
      ['input', 1, 'string', 'repeated'],
      ['output', 2, 'string', 'repeated'],
      ['name', 3, 'string'],
      ['opType', 4, 'string'],
      ['attribute', 5, 'AttributeProto', 'repeated'],
      ['docString', 6, 'string'],
      ['domain', 7, 'string'],
    ]),
  );
  onnx.add(
    message('GraphProto', [
      ['node', 1, 'NodeProto', 'repeated'],
      ['name', 2, 'string'],
      ['initializer', 5, 'TensorProto', 'repeated'],
      ['docString', 10, 'string'],
      ['input', 11, 'ValueInfoProto', 'repeated'],
      ['output', 12, 'ValueInfoProto', 'repeated'],
      ['valueInfo', 13, 'ValueInfoProto', 'repeated'],
      ['sparseInitializer', 15, 'SparseTensorProto', 'repeated'],
    ]),
  );
  onnx.add(
    message('OperatorSetIdProto', [
      ['domain', 1, 'string'],
      ['version', 2, 'int64'],
    ]),
  );
  onnx.add(
    message('StringStringEntryProto', [
      ['key', 1, 'string'],
      ['value', 2, 'string'],
    ]),
  );
  onnx.add(
    message('ModelProto', [
      ['irVersion', 1, 'int64'],
      ['producerName', 2, 'string'],
      ['producerVersion', 3, 'string'],
      ['domain', 4, 'string'],
      ['modelVersion', 5, 'int64'],
      ['docString', 6, 'string'],
      ['graph', 7, 'GraphProto'],
      ['opsetImport', 8, 'OperatorSetIdProto', 'repeated'],
      ['metadataProps', 14, 'StringStringEntryProto', 'repeated'],
      ['functions', 25, 'FunctionProto', 'repeated'],
    ]),
  );
  onnx.add(
    message('FunctionProto', [
      ['name', 1, 'string'],
      ['input', 4, 'string', 'repeated'],
      ['output', 5, 'string', 'repeated'],
      ['attribute', 6, 'string', 'repeated'],
      ['node', 7, 'NodeProto', 'repeated'],
      ['docString', 8, 'string'],
      ['opsetImport', 9, 'OperatorSetIdProto', 'repeated'],
      ['domain', 10, 'string'],
      ['attributeProto', 11, 'AttributeProto', 'repeated'],
    ]),
  );
  root.resolveAll();
  return root;
}

let root: protobuf.Root | undefined;

/** The ModelProto message type. */
export function modelProtoType(): protobuf.Type {
  root ??= buildRoot();
  return root.lookupType('onnx.ModelProto');
}
