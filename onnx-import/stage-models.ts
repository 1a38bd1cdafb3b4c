/**
 * @module onnx-import/stage-models
 * {@link encodeStageModel}: one stage's ONNX model from the source model: its nodes and
 * initializers unchanged (protobuf messages re-encoded as decoded), its inputs and outputs typed
 * from the probed shapes with axis 0 named `batch`, everything else of the model (IR version,
 * opsets, functions, metadata) copied.
 */
import { BATCH_DIM } from '../manifest/index.js';
import { modelProtoType } from '../onnx/index.js';
import { ELEM_TYPE_OF, type OnnxModel, type OnnxValueInfo } from './graph-types.js';
import type { ProbedTensor } from './probe-shapes.js';
import type { StagePlan } from './split-graph.js';

/** A stage tensor's dims with the batch axis symbolic. */
export function batchDims(t: ProbedTensor): Array<string | number> {
  return [BATCH_DIM, ...t.dims.slice(1)];
}

function valueInfo(name: string, t: ProbedTensor): OnnxValueInfo {
  return {
    name,
    type: { tensorType: { elemType: ELEM_TYPE_OF[t.dtype]!, shape: { dim: batchDims(t).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** The ONNX bytes of stage `plan.index` of `total`. */
export function encodeStageModel(source: OnnxModel, plan: StagePlan, total: number, shapes: ReadonlyMap<string, ProbedTensor>, fileName: string): Uint8Array {
  const g = source.graph!;
  const wanted = new Set(plan.initializers);
  const info = (name: string) => valueInfo(name, shapes.get(name)!);
  const model = {
    ...source,
    docString: `adaptive-exit import: stage ${plan.index} of ${total} of ${fileName}`,
    graph: {
      name: `stage_${plan.index}`,
      node: plan.nodes.map((i) => g.node[i]!),
      initializer: g.initializer.filter((t) => wanted.has(t.name)),
      input: plan.inputs.map((x) => info(x.name)),
      output: [plan.logits, ...plan.carried].map(info),
    },
  };
  const type = modelProtoType();
  return type.encode(type.fromObject(model)).finish();
}
