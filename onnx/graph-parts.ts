/**
 * @module onnx/graph-parts
 * The plain objects ONNX messages are written from (graphs, nodes, attributes, value infos,
 * initialisers), and helpers that make them: shared by the exporter (export/onnx) and the
 * runtime's graph fusion (runtime/core/fuse-stages), which both write ONNX graphs.
 */
import { ATTRIBUTE_TYPE, ONNX_DTYPE } from './proto.js';

/** A tensor element type by name. */
export type OnnxDtype = keyof typeof ONNX_DTYPE;
/** A dimension: a size, or a symbolic name such as `batch`. */
export type Dim = number | string;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}
export interface OnnxAttribute {
  name: string;
  type: number;
  i?: number;
  ints?: number[];
  f?: number;
  s?: Uint8Array;
  g?: OnnxGraph;
}
export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
  domain?: string;
}
export interface OnnxValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: Array<{ dimValue?: number; dimParam?: string }> } } };
}
export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

/** An attribute value: INT, INTS, STRING, FLOAT (`{ float }`, as a bare number means INT) or a GRAPH. */
export type AttributeValue = number | number[] | string | { float: number } | OnnxGraph;

export function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if (typeof value === 'number') return { name, type: ATTRIBUTE_TYPE.INT, i: value };
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: ATTRIBUTE_TYPE.INTS, ints: value };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value.float };
  return { name, type: ATTRIBUTE_TYPE.GRAPH, g: value };
}

/** A graph input or output: its element type and shape (symbolic dims as names). */
export function valueInfo(name: string, dtype: OnnxDtype, dims: readonly Dim[]): OnnxValueInfo {
  return { name, type: { tensorType: { elemType: ONNX_DTYPE[dtype], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** An initialiser of little-endian raw values. */
export function tensor(name: string, dtype: 'float32' | 'float64' | 'int64', dims: readonly number[], values: ArrayLike<number>): OnnxTensor {
  const size = dtype === 'float32' ? 4 : 8;
  const rawData = new Uint8Array(values.length * size);
  const view = new DataView(rawData.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (dtype === 'float32') view.setFloat32(i * 4, v, true);
    else if (dtype === 'float64') view.setFloat64(i * 8, v, true);
    else view.setBigInt64(i * 8, BigInt(v), true);
  }
  return { name, dims: [...dims], dataType: ONNX_DTYPE[dtype], rawData };
}
