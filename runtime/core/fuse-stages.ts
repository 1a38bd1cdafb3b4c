/**
 * @module runtime/core/fuse-stages
 * Composes a model's stage graphs into one ONNX graph that makes the exit decisions itself.
 *
 * Why: every session run has a fixed cost (binding the feeds, planning memory, copying each
 * output into a JavaScript buffer) that a small stage does not amortise. Run stage by stage, a
 * 6-exit CIFAR model spent ~35% more than its full graph at batch 1 and the engine's row
 * compaction copied every carried tensor once more in JavaScript. The fused graph runs in one
 * call: after exit k it computes each row's confidence (the manifest's criterion, in float64 as
 * `manifest/confidence.ts` does, rounded to float32 as it does, so decisions match the staged
 * engine's), emits the rows that leave (their logits and their positions in the batch), keeps
 * the carried tensors' rows that stay (`Gather` by index), and runs stage k+1 inside an `If` that
 * is skipped when no row stays. Stage k+1's nodes are the exported stage graph's own nodes,
 * renamed into that scope.
 *
 * One-sample calls run a second form ('single') with no compaction at all: each exit is the
 * decision and an `If` whose branch reads the enclosing scope's tensors in place.
 *
 * Inputs: the image batch, per-row thresholds `[n, K]` (float32, each the smallest float32 at or
 * above the JavaScript threshold: see {@link float32Threshold}) and per-row exit caps `[n]`
 * (int64, 1-based last exit). Outputs, batch form: per exit k, the logits of the rows leaving
 * there and their int64 batch positions; single form: the logits of the exit taken and its number.
 */
import { ATTRIBUTE_TYPE, modelProtoType, ONNX_DTYPE } from '../../onnx/index.js';
import type { ExitCriterion, Manifest } from '../../manifest/index.js';
import { IMAGE_KEY, lastUses, outputKey, sourceKey } from './stage-plan.js';

/**
 * The threshold to feed the fused graph for JavaScript threshold `t`: the smallest float32 at or
 * above it. Confidences are float32 values, so for every confidence c, `c >= t` exactly when
 * `c >= float32Threshold(t)`; the graph compares in float32 without a cast per exit.
 */
export function float32Threshold(t: number): number {
  const f = Math.fround(t);
  if (f >= t || Number.isNaN(t)) return f;
  // Math.fround rounded down: step to the next float32 up.
  if (f === -Infinity) return -F32_MAX;
  if (f === 0) return F32_MIN_SUBNORMAL;
  F32_VIEW.setFloat32(0, f);
  F32_VIEW.setInt32(0, F32_VIEW.getInt32(0) + (f > 0 ? 1 : -1));
  return F32_VIEW.getFloat32(0);
}
const F32_MAX = 3.4028234663852886e38;
const F32_MIN_SUBNORMAL = 1.401298464324817e-45;
const F32_VIEW = new DataView(new ArrayBuffer(4));

/** Input names of the fused graph (the image keeps the manifest's name). */
export const FUSED_THRESHOLDS = 'exit_thresholds';
export const FUSED_CAPS = 'exit_caps';

/**
 * The fused graph's two forms: 'batch' compacts the rows that stay after every exit; 'single'
 * takes exactly one row, so nothing is compacted and an exit is one `If` (it runs batch-1 calls).
 */
export type FusedForm = 'batch' | 'single';

interface FusedGraphBase {
  bytes: Uint8Array;
  criterion: ExitCriterion;
}
/** The batch form's outputs. */
export interface BatchFusedGraph extends FusedGraphBase {
  form: 'batch';
  /** Per exit (index k-1): the output holding the logits of the rows that leave at exit k. */
  logits: string[];
  /** Per exit: the output holding those rows' positions in the input batch (int64). */
  rows: string[];
}
/** The single form's outputs. */
export interface SingleFusedGraph extends FusedGraphBase {
  form: 'single';
  /** The output holding the logits `[1, N]` of the exit taken. */
  logits: string;
  /** The output holding the exit taken (int64 `[1]`, 1-based). */
  exit: string;
}
/** What {@link fuseStageGraphs} returns. */
export type FusedGraph = BatchFusedGraph | SingleFusedGraph;

/** The stage graph opsets whose operator forms (ReduceMax's `axes` attribute) this file writes. */
const MIN_OPSET = 13;
const MAX_OPSET = 17;

interface Tensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}
interface Attribute {
  name: string;
  type: number;
  i?: number;
  ints?: number[];
  g?: Graph;
}
interface Node {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
  domain?: string;
}
interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: Array<{ dimValue?: number; dimParam?: string }> } } };
}
interface Graph {
  name: string;
  node: Node[];
  initializer: Tensor[];
  input: ValueInfo[];
  output: ValueInfo[];
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): ValueInfo {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

function int64Tensor(name: string, values: number[], dims: number[]): Tensor {
  const rawData = new Uint8Array(values.length * 8);
  const view = new DataView(rawData.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: ONNX_DTYPE.int64, rawData };
}

function float64Tensor(name: string, value: number): Tensor {
  const rawData = new Uint8Array(8);
  new DataView(rawData.buffer).setFloat64(0, value, true);
  return { name, dims: [], dataType: ONNX_DTYPE.float64, rawData };
}

/** One graph being written (the main graph or an `If` branch), with a model-wide name counter. */
class Scope {
  readonly graph: Graph;
  constructor(
    name: string,
    private readonly counter: { n: number },
  ) {
    this.graph = { name, node: [], initializer: [], input: [], output: [] };
  }
  /** Adds a node with one fresh output and returns the output's name. */
  op(opType: string, input: string[], attrs: Record<string, number | number[] | Graph> = {}, outputs = 1): string[] {
    const id = this.counter.n++;
    const output = Array.from({ length: outputs }, (_, i) => `fuse/${opType.toLowerCase()}_${id}${outputs > 1 ? `_${i}` : ''}`);
    this.graph.node.push({ name: `fuse/${opType}_${id}`, opType, input, output, attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)) });
    return output;
  }
  one(opType: string, input: string[], attrs: Record<string, number | number[] | Graph> = {}): string {
    return this.op(opType, input, attrs)[0]!;
  }
}

function attribute(name: string, v: number | number[] | Graph): Attribute {
  if (typeof v === 'number') return { name, type: ATTRIBUTE_TYPE.INT, i: v };
  if (Array.isArray(v)) return { name, type: ATTRIBUTE_TYPE.INTS, ints: v };
  return { name, type: ATTRIBUTE_TYPE.GRAPH, g: v };
}

/**
 * The fused early-exit graph of `manifest`'s stages (`stageBytes[k-1]` is stage k's ONNX file).
 * @throws Error when the stage graphs use something the fusion does not handle (row-index
 *   inputs, an opset outside 13–17, fewer than two classes, names the manifest does not list);
 *   the engine then runs stage by stage.
 */
export function fuseStageGraphs(manifest: Manifest, stageBytes: readonly Uint8Array[], criterion: ExitCriterion, form?: 'batch'): BatchFusedGraph;
export function fuseStageGraphs(manifest: Manifest, stageBytes: readonly Uint8Array[], criterion: ExitCriterion, form: 'single'): SingleFusedGraph;
export function fuseStageGraphs(manifest: Manifest, stageBytes: readonly Uint8Array[], criterion: ExitCriterion, form: FusedForm = 'batch'): FusedGraph {
  const type = modelProtoType();
  const K = manifest.stages.length;
  const N = manifest.classNames.length;
  if (N < 2) throw new Error(`fusion needs at least two classes, the manifest has ${N}.`);
  if (stageBytes.length !== K) throw new Error(`expected ${K} stage graphs, got ${stageBytes.length}.`);
  for (const stage of manifest.stages) {
    if (stage.inputs.some((i) => i.role.kind === 'row-indices')) throw new Error(`stage ${stage.index} takes row indices; fusion does not handle them.`);
  }
  const models = stageBytes.map((b, k) => {
    try {
      return type.decode(b) as unknown as { graph: Graph; opsetImport: Array<{ domain?: string; version: number | { toNumber(): number } }>; irVersion: number };
    } catch (e) {
      throw new Error(`${manifest.stages[k]!.file}: not a readable ONNX model (${(e as Error).message}).`);
    }
  });
  const opsets = models.map((m) => Number(m.opsetImport.find((o) => !o.domain)?.version ?? 0));
  const opset = Math.max(...opsets);
  if (opset < MIN_OPSET || opset > MAX_OPSET) throw new Error(`fusion writes opset ${MIN_OPSET}–${MAX_OPSET} operators; the stage graphs use opset ${opset}.`);
  for (const stage of manifest.stages) {
    const g = models[stage.index - 1]!.graph;
    if (!g) throw new Error(`${stage.file}: the ONNX model holds no graph.`);
    const names = new Set(g.input.map((v) => v.name));
    for (const input of stage.inputs) if (!names.has(input.name)) throw new Error(`${stage.file}: no graph input "${input.name}" as the manifest says.`);
  }

  const last = lastUses(manifest);
  const counter = { n: 0 };
  const main = new Scope('early_exit', counter);
  const image = manifest.stages[0]!.inputs.find((i) => i.role.kind === 'image')!.name;

  // Constants live in the main graph; If branches read them from the outer scope.
  const constants = new Map<string, Tensor>();
  const int64 = (values: number[], dims: number[]) => {
    const name = `fuse/const_i64_${dims.length === 0 ? 's' : 'v'}_${values.join('_').replace(/-/g, 'm')}`;
    if (!constants.has(name)) constants.set(name, int64Tensor(name, values, dims));
    return name;
  };
  const float64 = (value: number) => {
    const name = `fuse/const_f64_${constants.size}`;
    constants.set(name, float64Tensor(name, value));
    return name;
  };

  /** Confidence of each row of `logits`: the float32 value the criterion gives. */
  const confidence = (s: Scope, logits: string): string => {
    const probs = s.one('Cast', [s.one('Softmax', [s.one('Cast', [logits], { to: ONNX_DTYPE.float64 })], { axis: 1 })], { to: ONNX_DTYPE.float32 });
    let conf: string;
    if (criterion === 'max-softmax') {
      conf = s.one('ReduceMax', [probs], { axes: [1], keepdims: 0 });
    } else if (criterion === 'entropy') {
      // 1 − H(p)/log N over the float32 probabilities, with 0·log 0 taken as 0.
      const p = s.one('Cast', [probs], { to: ONNX_DTYPE.float64 });
      const zero = float64(0);
      const plogp = s.one('Where', [s.one('Greater', [p, zero]), s.one('Mul', [p, s.one('Log', [p])]), zero]);
      const negH = s.one('ReduceSum', [plogp, int64([1], [1])], { keepdims: 0 });
      conf = s.one('Cast', [s.one('Add', [float64(1), s.one('Div', [negH, float64(Math.log(N))])])], { to: ONNX_DTYPE.float32 });
    } else if (criterion === 'margin') {
      const [top] = s.op('TopK', [probs, int64([2], [1])], { axis: 1 }, 2);
      const top64 = s.one('Cast', [top!], { to: ONNX_DTYPE.float64 });
      const first = s.one('Gather', [top64, int64([0], [])], { axis: 1 });
      const second = s.one('Gather', [top64, int64([1], [])], { axis: 1 });
      conf = s.one('Cast', [s.one('Sub', [first, second])], { to: ONNX_DTYPE.float32 });
    } else {
      throw new Error(`no fused form of the criterion ${JSON.stringify(criterion)}.`);
    }
    return conf;
  };

  /** The rows of `x` where `mask` is true (one op instead of NonZero, Reshape and Gather). */
  const rowsWhere = (s: Scope, x: string, mask: string) => s.one('Compress', [x, mask], { axis: 0 });

  /** Writes stage k's nodes into `s`, its inputs read from `live`; returns its logits and the tensors later stages read. */
  const inlineStage = (k: number, s: Scope, live: Map<string, string>) => {
    const stage = manifest.stages[k - 1]!;
    const g = models[k - 1]!.graph;
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
    for (const [key, name] of live) if ((last.get(key) ?? 0) > k) carry.set(key, name);
    for (const o of stage.outputs) if ((last.get(outputKey(k, o.name)) ?? 0) > k) carry.set(outputKey(k, o.name), mapName(o.name));
    return { logits: mapName(logitsOut.name), carry };
  };

  /**
   * Whether each row leaves at exit k, as the staged engine decides: at or above its threshold,
   * or at its cap. (A NaN confidence passes no threshold, as in JavaScript.)
   */
  const leavesAt = (k: number, s: Scope, logits: string, thresholds: string, caps: string) => {
    const threshold = s.one('Gather', [thresholds, int64([k - 1], [])], { axis: 1 });
    const passes = s.one('GreaterOrEqual', [confidence(s, logits), threshold]);
    return s.one('Or', [passes, s.one('LessOrEqual', [caps, int64([k], [])])]);
  };

  /**
   * Batch form: writes stage k and everything after it into `s`. `live` maps tensor keys to their
   * names in this scope (already reduced to the rows that reach stage k). Returns, per exit
   * k..K, the names (in this scope) of the leaving rows' logits and positions.
   */
  const build = (k: number, s: Scope, live: Map<string, string>, rows: string, thresholds: string, caps: string): Array<[string, string]> => {
    const { logits, carry } = inlineStage(k, s, live);
    // A branch's outputs must be its own values; `rows` may come from the enclosing scope.
    if (k === K) return [[logits, s === main ? rows : s.one('Identity', [rows])]];

    const leaves = leavesAt(k, s, logits, thresholds, caps);
    const stays = s.one('Not', [leaves]);
    const here: [string, string] = [rowsWhere(s, logits, leaves), rowsWhere(s, rows, leaves)];
    // Computed out here: the If's condition needs its size.
    const nextRows = rowsWhere(s, rows, stays);

    const later = K - k;
    const outInfo = (scopeOut: Array<[string, string]>): ValueInfo[] => scopeOut.flatMap(([l, r]) => [valueInfo(l, ONNX_DTYPE.float32, ['rows', N]), valueInfo(r, ONNX_DTYPE.int64, ['rows'])]);

    // No row stays: every later exit gets zero rows (gathering an empty index list keeps the types).
    const none = new Scope(`none_after_${k}`, counter);
    const empty: Array<[string, string]> = Array.from({ length: later }, () => [rowsWhere(none, logits, stays), none.one('Identity', [nextRows])]);
    none.graph.output = outInfo(empty);

    const next = new Scope(`stages_after_${k}`, counter);
    const nextLive = new Map<string, string>();
    // The carried features are by far the largest tensors compacted: gathered by index, because
    // onnxruntime's CPU Gather copies on every intra-op thread and Compress on one (profiled at
    // batch 64: about 30% less kernel time for the compaction).
    const stayIndices = next.one('Squeeze', [next.one('NonZero', [stays]), int64([0], [1])]);
    for (const [key, name] of carry) nextLive.set(key, next.one('Gather', [name, stayIndices], { axis: 0 }));
    const nextThresholds = rowsWhere(next, thresholds, stays);
    const nextCaps = rowsWhere(next, caps, stays);
    const nextOut = build(k + 1, next, nextLive, nextRows, nextThresholds, nextCaps);
    next.graph.output = outInfo(nextOut);

    const noneLeft = s.one('Equal', [s.one('Size', [nextRows]), int64([0], [])]);
    const outs = s.op('If', [noneLeft], { then_branch: none.graph, else_branch: next.graph }, 2 * later);
    const afterwards: Array<[string, string]> = Array.from({ length: later }, (_, j) => [outs[2 * j]!, outs[2 * j + 1]!]);
    return [here, ...afterwards];
  };

  /**
   * Single form (one row): writes stage k and everything after it into `s`; returns the names of
   * the logits of the exit taken and of its number. Nothing is compacted: a branch reads the
   * enclosing scope's tensors in place, so the only per-exit work is the decision and the `If`.
   */
  const buildSingle = (k: number, s: Scope, live: Map<string, string>): [string, string] => {
    const { logits, carry } = inlineStage(k, s, live);
    if (k === K) return [s === main ? logits : s.one('Identity', [logits]), s.one('Identity', [int64([k], [1])])];
    const leaves = leavesAt(k, s, logits, FUSED_THRESHOLDS, FUSED_CAPS);
    const info = ([l, e]: [string, string]): ValueInfo[] => [valueInfo(l, ONNX_DTYPE.float32, [1, N]), valueInfo(e, ONNX_DTYPE.int64, [1])];
    const here = new Scope(`exit_${k}`, counter);
    here.graph.output = info([here.one('Identity', [logits]), here.one('Identity', [int64([k], [1])])]);
    const next = new Scope(`stages_after_${k}`, counter);
    next.graph.output = info(buildSingle(k + 1, next, carry));
    const [l, e] = s.op('If', [leaves], { then_branch: here.graph, else_branch: next.graph }, 2);
    return [l!, e!];
  };

  const [, C, H, W] = manifest.input.dims;
  const batch = form === 'single' ? 1 : 'batch';
  main.graph.input = [
    valueInfo(image, ONNX_DTYPE.float32, [batch, C, H, W]),
    valueInfo(FUSED_THRESHOLDS, ONNX_DTYPE.float32, [batch, K]),
    valueInfo(FUSED_CAPS, ONNX_DTYPE.int64, [batch]),
  ];
  let outputs: { logits: string; exit: string } | { logits: string[]; rows: string[] };
  if (form === 'single') {
    const [logits, exit] = buildSingle(1, main, new Map([[IMAGE_KEY, image]]));
    main.graph.output = [valueInfo(logits, ONNX_DTYPE.float32, [1, N]), valueInfo(exit, ONNX_DTYPE.int64, [1])];
    outputs = { logits, exit };
  } else {
    const rows = main.one('Range', [int64([0], []), main.one('Gather', [main.one('Shape', [image]), int64([0], [])], { axis: 0 }), int64([1], [])]);
    const exits = build(1, main, new Map([[IMAGE_KEY, image]]), rows, FUSED_THRESHOLDS, FUSED_CAPS);
    main.graph.output = exits.flatMap(([l, r], i) => [valueInfo(l, ONNX_DTYPE.float32, [`rows_${i + 1}`, N]), valueInfo(r, ONNX_DTYPE.int64, [`rows_${i + 1}`])]);
    outputs = { logits: exits.map(([l]) => l), rows: exits.map(([, r]) => r) };
  }
  main.graph.initializer.push(...constants.values());

  const model = {
    irVersion: models[0]!.irVersion,
    producerName: 'adaptive-exit',
    opsetImport: [{ domain: '', version: opset }],
    graph: main.graph,
  };
  const bytes = type.encode(type.fromObject(model)).finish();
  return 'exit' in outputs ? { form: 'single', bytes, criterion, ...outputs } : { form: 'batch', bytes, criterion, ...outputs };
}
