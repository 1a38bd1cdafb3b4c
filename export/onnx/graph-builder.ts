/**
 * @module export/onnx/graph-builder
 * Accumulates an ONNX graph (nodes, float32 initialisers as little-endian raw data, inputs and
 * outputs with a symbolic batch dimension) and encodes it as a ModelProto.
 */
import { attribute, modelProtoType, tensor, valueInfo, type AttributeValue, type Dim, type OnnxDtype, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from '../../onnx/index.js';

export type { AttributeValue, Dim } from '../../onnx/index.js';

export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly names = new Set<string>();
  /** Renamed node outputs: old name → new name, applied to inputs of nodes added later. */
  private readonly aliases = new Map<string, string>();

  constructor(readonly graphName: string) {}

  /**
   * Renames the output `from` of a node already added (and every use of it) to `to`, so a graph
   * output can take a fixed name without an Identity node (which would copy the tensor).
   * @returns false, changing nothing, when no node produces `from` (a graph input or an
   *   initialiser) or `to` is taken.
   */
  renameNodeOutput(from: string, to: string): boolean {
    const producer = this.nodes.find((n) => n.output.includes(from));
    if (!producer || this.names.has(to)) return false;
    for (const n of this.nodes) {
      n.input = n.input.map((x) => (x === from ? to : x));
      n.output = n.output.map((x) => (x === from ? to : x));
    }
    this.names.add(to);
    this.aliases.set(from, to);
    return true;
  }

  /** Reserves a tensor name, suffixing it when taken, so every value has a unique name. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  addInput(name: string, dims: readonly Dim[], dtype: OnnxDtype = 'float32'): void {
    this.names.add(name);
    this.inputs.push(valueInfo(name, dtype, dims));
  }

  addOutput(name: string, dims: readonly Dim[], dtype: OnnxDtype = 'float32'): void {
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** A float32 initialiser (stored as little-endian raw bytes); returns its name. */
  addInitializer(base: string, dims: readonly number[], values: Float32Array): string {
    const name = this.uniqueName(base);
    this.initializers.push(tensor(name, 'float32', dims, values));
    return name;
  }

  /** An int64 initialiser (shapes for Reshape and the like). */
  addInt64Initializer(base: string, values: readonly number[]): string {
    const name = this.uniqueName(base);
    this.initializers.push(tensor(name, 'int64', [values.length], values));
    return name;
  }

  /** Adds a node; its output names must be unique (use {@link uniqueName}). */
  addNode(opType: string, name: string, input: string[], output: string[], attrs: Record<string, AttributeValue> = {}): void {
    this.nodes.push({ opType, name, input: input.map((x) => this.aliases.get(x) ?? x), output, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
  }

  /** Encodes the graph as an ONNX model. */
  toBytes(options: { opset: number; irVersion: number; producerVersion: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    const type = modelProtoType();
    const model = {
      irVersion: options.irVersion,
      producerName: 'adaptive-exit',
      producerVersion: options.producerVersion,
      docString: options.docString ?? '',
      opsetImport: [{ domain: '', version: options.opset }],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    const problem = type.verify(model);
    if (problem) throw new Error(`ONNX model "${this.graphName}": ${problem}`);
    return type.encode(type.fromObject(model)).finish();
  }
}
