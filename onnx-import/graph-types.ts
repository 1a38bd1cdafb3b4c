/**
 * @module onnx-import/graph-types
 * The decoded ONNX messages as onnx-import reads them (protobufjs objects of onnx/proto.ts):
 * only the fields this folder looks at are typed; the rest travel untouched when re-encoded.
 */

/** An int64 as protobufjs decodes it: a number, or a Long when it does not fit one. */
export type Int64 = number | { toNumber(): number };

export const toNumber = (v: Int64 | undefined | null): number => (v === undefined || v === null ? 0 : typeof v === 'number' ? v : v.toNumber());

export interface OnnxTensor {
  name: string;
  dims: Int64[];
  dataType: number;
  rawData?: Uint8Array;
  externalData?: Array<{ key: string; value: string }>;
  dataLocation?: number;
}

export interface OnnxAttribute {
  name: string;
  type?: number;
  i?: Int64;
  ints?: Int64[];
  g?: OnnxGraph | null;
  graphs?: OnnxGraph[];
}

export interface OnnxNode {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

export interface OnnxDim {
  dimValue?: Int64;
  dimParam?: string;
}

export interface OnnxValueInfo {
  name: string;
  type?: { tensorType?: { elemType: number; shape?: { dim: OnnxDim[] } } | null } | null;
}

export interface OnnxGraph {
  name?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
  sparseInitializer?: unknown[];
}

export interface OnnxModel {
  irVersion?: Int64;
  opsetImport: Array<{ domain?: string; version: Int64 }>;
  graph?: OnnxGraph | null;
  [field: string]: unknown;
}

/** TensorProto.DataType → the onnxruntime tensor type name, for the types a stage may carry or output. */
export const ELEM_TYPES: Readonly<Record<number, string>> = Object.freeze({
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
});
/** The onnxruntime tensor type name → TensorProto.DataType. */
export const ELEM_TYPE_OF: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(Object.entries(ELEM_TYPES).map(([k, v]) => [v, Number(k)])));
/** Floating-point DataTypes: initializers of these types count as parameters. */
export const FLOAT_TYPES: ReadonlySet<number> = new Set([1, 10, 11, 16]);

/** The subgraphs a node holds (If branches, Loop and Scan bodies). */
export function subgraphs(node: OnnxNode): OnnxGraph[] {
  return node.attribute.flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]);
}

/** Names a graph reads from its enclosing scopes: used before (or without) being made inside it. */
function graphOuterReferences(g: OnnxGraph): Set<string> {
  const local = new Set<string>([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  const refs = new Set<string>();
  for (const n of g.node) {
    for (const x of n.input) if (x !== '' && !local.has(x)) refs.add(x);
    for (const sg of subgraphs(n)) for (const x of graphOuterReferences(sg)) if (!local.has(x)) refs.add(x);
    for (const y of n.output) local.add(y);
  }
  return refs;
}

/**
 * Names a node's subgraphs read from the enclosing scopes: the node depends on those tensors as
 * much as on its explicit inputs, so they decide its stage too.
 */
export function outerReferences(node: OnnxNode): string[] {
  return [...new Set(subgraphs(node).flatMap((g) => [...graphOuterReferences(g)]))];
}

/** The tensors a node reads: explicit inputs and its subgraphs' outer references. */
export function nodeReads(node: OnnxNode): string[] {
  return [...new Set([...node.input.filter((x) => x !== ''), ...outerReferences(node)])];
}
