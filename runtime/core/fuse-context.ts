/**
 * @module runtime/core/fuse-context
 * {@link Fusion}: what both forms of the fused early-exit graph (./fuse-batch.ts,
 * ./fuse-single.ts) are written with: the decoded stage graphs, scopes (the main graph and `If`
 * branches) with a model-wide name counter, shared constants, a stage's nodes inlined into a
 * scope, and each exit's decision (the criterion's confidence against the row's threshold, or
 * its cap), computed as `manifest/confidence.ts` does so decisions match the staged engine's.
 */
import { ATTRIBUTE_TYPE, attribute, modelProtoType, ONNX_DTYPE, tensor, valueInfo, type AttributeValue, type OnnxGraph, type OnnxTensor, type OnnxValueInfo } from '../../onnx/index.js';
import type { ExitCriterion, Manifest } from '../../manifest/index.js';
import { sampleDims } from './model-input.js';
import { lastUses, outputKey, sourceKey } from './stage-plan.js';

/** Input names of the fused graph (the image keeps the manifest's name). */
export const FUSED_THRESHOLDS = 'exit_thresholds';
export const FUSED_CAPS = 'exit_caps';

/** The stage graph opsets whose operator forms (ReduceMax's `axes` attribute) the fusion writes. */
const MIN_OPSET = 13;
const MAX_OPSET = 17;

interface StageModel {
  graph: OnnxGraph;
  opsetImport: Array<{ domain?: string; version: number | { toNumber(): number } }>;
  irVersion: number;
}

/** One graph being written (the main graph or an `If` branch), with a model-wide name counter. */
export class Scope {
  readonly graph: OnnxGraph;
  constructor(
    name: string,
    private readonly counter: { n: number },
  ) {
    this.graph = { name, node: [], initializer: [], input: [], output: [] };
  }
  /** Adds a node with `outputs` fresh outputs and returns their names. */
  op(opType: string, input: string[], attrs: Record<string, AttributeValue> = {}, outputs = 1): string[] {
    const id = this.counter.n++;
    const output = Array.from({ length: outputs }, (_, i) => `fuse/${opType.toLowerCase()}_${id}${outputs > 1 ? `_${i}` : ''}`);
    this.graph.node.push({ name: `fuse/${opType}_${id}`, opType, input, output, attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)) });
    return output;
  }
  /** Adds a node with one output and returns its name. */
  one(opType: string, input: string[], attrs: Record<string, AttributeValue> = {}): string {
    return this.op(opType, input, attrs)[0]!;
  }
}

/** The state of one fusion: the stage graphs read, the main graph and the constants written. */
export class Fusion {
  readonly K: number;
  readonly N: number;
  /** The image input's name (the manifest's). */
  readonly image: string;
  readonly main: Scope;
  private readonly models: StageModel[];
  private readonly opset: number;
  private readonly last: Map<string, number>;
  private readonly counter = { n: 0 };
  // Constants live in the main graph; If branches read them from the outer scope.
  private readonly constants = new Map<string, OnnxTensor>();

  /**
   * @throws Error when the stage graphs use something the fusion does not handle (row-index
   *   inputs, an opset outside 13–17, fewer than two classes, names the manifest does not list).
   */
  constructor(
    readonly manifest: Manifest,
    stageBytes: readonly Uint8Array[],
    readonly criterion: ExitCriterion,
  ) {
    const type = modelProtoType();
    this.K = manifest.stages.length;
    this.N = manifest.classNames.length;
    if (this.N < 2) throw new Error(`fusion needs at least two classes, the manifest has ${this.N}.`);
    if (stageBytes.length !== this.K) throw new Error(`expected ${this.K} stage graphs, got ${stageBytes.length}.`);
    for (const stage of manifest.stages) {
      if (stage.inputs.some((i) => i.role.kind === 'row-indices')) throw new Error(`stage ${stage.index} takes row indices; fusion does not handle them.`);
    }
    this.models = stageBytes.map((b, k) => {
      try {
        return type.decode(b) as unknown as StageModel;
      } catch (e) {
        throw new Error(`${manifest.stages[k]!.file}: not a readable ONNX model (${(e as Error).message}).`, { cause: e });
      }
    });
    this.opset = Math.max(...this.models.map((m) => Number(m.opsetImport.find((o) => !o.domain)?.version ?? 0)));
    if (this.opset < MIN_OPSET || this.opset > MAX_OPSET) throw new Error(`fusion writes opset ${MIN_OPSET}–${MAX_OPSET} operators; the stage graphs use opset ${this.opset}.`);
    for (const stage of manifest.stages) {
      const g = this.models[stage.index - 1]!.graph;
      if (!g) throw new Error(`${stage.file}: the ONNX model holds no graph.`);
      const names = new Set(g.input.map((v) => v.name));
      for (const input of stage.inputs) if (!names.has(input.name)) throw new Error(`${stage.file}: no graph input "${input.name}" as the manifest says.`);
    }
    this.last = lastUses(manifest);
    this.main = this.scope('early_exit');
    this.image = manifest.stages[0]!.inputs.find((i) => i.role.kind === 'image')!.name;
  }

  /** A new scope (an `If` branch) sharing the name counter. */
  scope(name: string): Scope {
    return new Scope(name, this.counter);
  }

  /** An int64 constant (shared by value). */
  int64(values: number[], dims: number[]): string {
    const name = `fuse/const_i64_${dims.length === 0 ? 's' : 'v'}_${values.join('_').replace(/-/g, 'm')}`;
    if (!this.constants.has(name)) this.constants.set(name, tensor(name, 'int64', dims, values));
    return name;
  }

  /** A float64 scalar constant. */
  float64(value: number): string {
    const name = `fuse/const_f64_${this.constants.size}`;
    this.constants.set(name, tensor(name, 'float64', [], [value]));
    return name;
  }

  /** Confidence of each row of `logits`: the float32 value the criterion gives. */
  confidence(s: Scope, logits: string): string {
    const probs = s.one('Cast', [s.one('Softmax', [s.one('Cast', [logits], { to: ONNX_DTYPE.float64 })], { axis: 1 })], { to: ONNX_DTYPE.float32 });
    if (this.criterion === 'max-softmax') return s.one('ReduceMax', [probs], { axes: [1], keepdims: 0 });
    if (this.criterion === 'entropy') {
      // 1 − H(p)/log N over the float32 probabilities, with 0·log 0 taken as 0.
      const p = s.one('Cast', [probs], { to: ONNX_DTYPE.float64 });
      const zero = this.float64(0);
      const plogp = s.one('Where', [s.one('Greater', [p, zero]), s.one('Mul', [p, s.one('Log', [p])]), zero]);
      const negH = s.one('ReduceSum', [plogp, this.int64([1], [1])], { keepdims: 0 });
      return s.one('Cast', [s.one('Add', [this.float64(1), s.one('Div', [negH, this.float64(Math.log(this.N))])])], { to: ONNX_DTYPE.float32 });
    }
    if (this.criterion === 'margin') {
      const [top] = s.op('TopK', [probs, this.int64([2], [1])], { axis: 1 }, 2);
      const top64 = s.one('Cast', [top!], { to: ONNX_DTYPE.float64 });
      const first = s.one('Gather', [top64, this.int64([0], [])], { axis: 1 });
      const second = s.one('Gather', [top64, this.int64([1], [])], { axis: 1 });
      return s.one('Cast', [s.one('Sub', [first, second])], { to: ONNX_DTYPE.float32 });
    }
    throw new Error(`no fused form of the criterion ${JSON.stringify(this.criterion)}.`);
  }

  /** The rows of `x` where `mask` is true (one op instead of NonZero, Reshape and Gather). */
  rowsWhere(s: Scope, x: string, mask: string): string {
    return s.one('Compress', [x, mask], { axis: 0 });
  }

  /** Writes stage k's nodes into `s`, its inputs read from `live`; returns its logits and the tensors later stages read. */
  inlineStage(k: number, s: Scope, live: Map<string, string>): { logits: string; carry: Map<string, string> } {
    const stage = this.manifest.stages[k - 1]!;
    const g = this.models[k - 1]!.graph;
    const rename = new Map<string, string>();
    for (const input of stage.inputs) rename.set(input.name, live.get(sourceKey(input)!)!);
    const mapName = (x: string) => (x === '' ? x : (rename.get(x) ?? `s${k}/${x}`));
    for (const t of g.initializer) s.graph.initializer.push({ ...t, name: mapName(t.name) });
    for (const n of g.node) {
      if (n.attribute.some((a) => a.type === ATTRIBUTE_TYPE.GRAPH)) throw new Error(`${stage.file}: node ${n.name} has a subgraph; fusion does not handle it.`);
      s.graph.node.push({ ...n, name: `s${k}/${n.name}`, input: n.input.map(mapName), output: n.output.map(mapName) });
    }
    const logitsOut = stage.outputs.find((o) => o.role.kind === 'logits')!;
    // Tensors that later stages read: the live ones not yet used up and this stage's outputs.
    const carry = new Map<string, string>();
    for (const [key, name] of live) if ((this.last.get(key) ?? 0) > k) carry.set(key, name);
    for (const o of stage.outputs) if ((this.last.get(outputKey(k, o.name)) ?? 0) > k) carry.set(outputKey(k, o.name), mapName(o.name));
    return { logits: mapName(logitsOut.name), carry };
  }

  /**
   * Whether each row leaves at exit k, as the staged engine decides: at or above its threshold,
   * or at its cap. (A NaN confidence passes no threshold, as in JavaScript.)
   */
  leavesAt(k: number, s: Scope, logits: string, thresholds: string, caps: string): string {
    const threshold = s.one('Gather', [thresholds, this.int64([k - 1], [])], { axis: 1 });
    const passes = s.one('GreaterOrEqual', [this.confidence(s, logits), threshold]);
    return s.one('Or', [passes, s.one('LessOrEqual', [caps, this.int64([k], [])])]);
  }

  /** Declares the main graph's inputs: images, per-row thresholds `[rows, K]` and caps `[rows]`. */
  setInputs(rows: number | string): void {
    this.main.graph.input = [valueInfo(this.image, this.manifest.input.dtype, [rows, ...sampleDims(this.manifest)]), valueInfo(FUSED_THRESHOLDS, 'float32', [rows, this.K]), valueInfo(FUSED_CAPS, 'int64', [rows])];
  }

  /** A float32 logits value info with `rows` rows. */
  logitsInfo(name: string, rows: number | string): OnnxValueInfo {
    return valueInfo(name, 'float32', [rows, this.N]);
  }

  /** Encodes the main graph (with its inputs and outputs set) as an ONNX model. */
  encode(): Uint8Array {
    this.main.graph.initializer.push(...this.constants.values());
    const type = modelProtoType();
    const model = { irVersion: this.models[0]!.irVersion, producerName: 'adaptive-exit', opsetImport: [{ domain: '', version: this.opset }], graph: this.main.graph };
    return type.encode(type.fromObject(model)).finish();
  }
}
