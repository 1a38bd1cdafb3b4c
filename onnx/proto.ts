/**
 * @module onnx/proto
 * The subset of the ONNX protobuf schema (onnx.proto, proto2) that adaptive-exit writes and reads
 * back, declared with protobufjs's reflection API: the exporter writes stage graphs with it, and
 * the runtime decodes them to compose the fused early-exit graph. Field numbers and enum values
 * are ONNX's; repeated scalars are left unpacked as in the proto2 original (readers accept both
 * encodings).
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const ONNX_DTYPE = Object.freeze({ float32: 1, int64: 7, bool: 9, float64: 11 } as const);
/** AttributeProto.AttributeType values used here. */
export const ATTRIBUTE_TYPE = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3, GRAPH: 5, FLOATS: 6, INTS: 7 } as const);

function message(name: string, fields: Array<[string, number, string, ('repeated' | undefined)?]>): protobuf.Type {
  const type = new protobuf.Type(name);
  for (const [fieldName, id, fieldType, rule] of fields) {
    const field = new protobuf.Field(fieldName, id, fieldType, rule);
    if (rule === 'repeated' && !/^[A-Z]/.test(fieldType) && fieldType !== 'string' && fieldType !== 'bytes') field.setOption('packed', false);
    type.add(field);
  }
  return type;
}

function buildRoot(): protobuf.Root {
  const dimension = message('Dimension', [
    ['dimValue', 1, 'int64'],
    ['dimParam', 2, 'string'],
  ]);
  const shape = message('TensorShapeProto', [['dim', 1, 'Dimension', 'repeated']]);
  shape.add(dimension);
  const tensorType = message('Tensor', [
    ['elemType', 1, 'int32'],
    ['shape', 2, 'TensorShapeProto'],
  ]);
  const typeProto = message('TypeProto', [['tensorType', 1, 'Tensor']]);
  typeProto.add(tensorType);
  const root = new protobuf.Root();
  const onnx = new protobuf.Namespace('onnx');
  root.add(onnx);
  onnx.add(shape);
  onnx.add(typeProto);
  onnx.add(
    message('TensorProto', [
      ['dims', 1, 'int64', 'repeated'],
      ['dataType', 2, 'int32'],
      ['name', 8, 'string'],
      ['rawData', 9, 'bytes'],
      ['docString', 12, 'string'],
    ]),
  );
  onnx.add(
    message('AttributeProto', [
      ['name', 1, 'string'],
      ['f', 2, 'float'],
      ['i', 3, 'int64'],
      ['s', 4, 'bytes'],
      ['g', 6, 'GraphProto'],
      ['floats', 7, 'float', 'repeated'],
      ['ints', 8, 'int64', 'repeated'],
      ['type', 20, 'int32'],
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
