/**
 * @module onnx-import/probe-shapes
 * {@link probeShapes}: the shape and element type of every tensor of the main graph, measured by
 * running the source model with onnxruntime at batch 1 and batch 3 with every node output made a
 * graph output. Foreign graphs rarely carry `value_info`, and writing shape inference for every
 * operator is the runtime's job, so the runtime is asked. Batch 1 gives the per-sample sizes that
 * costs are counted on; comparing with batch 3 tells which tensors have the batch as axis 0, the
 * only tensors a stage may carry (the engine drops rows of carried tensors as samples leave).
 */
import * as ort from 'onnxruntime-node';
import { modelProtoType } from '../onnx/index.js';
import { ImportError } from './errors.js';
import { ELEM_TYPES, toNumber, type OnnxGraph, type OnnxModel } from './graph-types.js';

/** One tensor as probed. */
export interface ProbedTensor {
  /** Dims at batch 1. */
  dims: number[];
  /** onnxruntime's type name, e.g. float32. */
  dtype: string;
  /** Axis 0 is the batch (1 at batch 1, 3 at batch 3). */
  batched: boolean;
}

const PROBE_BATCH = 3;

/** The model input fed to the probe. */
export interface ProbeInput {
  name: string;
  /** Dims without the batch axis. */
  sampleDims: number[];
  dtype: 'float32' | 'int64';
}

function feed(input: ProbeInput, batch: number): ort.Tensor {
  const n = batch * input.sampleDims.reduce((a, b) => a * b, 1);
  const dims = [batch, ...input.sampleDims];
  if (input.dtype === 'int64') return new ort.Tensor('int64', new BigInt64Array(n), dims);
  // Deterministic values in [0, 1): zeros could hide shape-dependent paths (e.g. NaN checks).
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
  return new ort.Tensor('float32', data, dims);
}

/**
 * Every node output's shape and type, plus the initializers' and the input's.
 * @throws ImportError when onnxruntime cannot load or run the model (its message included).
 */
export async function probeShapes(model: OnnxModel, graph: OnnxGraph, input: ProbeInput, file: string): Promise<Map<string, ProbedTensor>> {
  const names = [...new Set(graph.node.flatMap((n) => n.output).filter((x) => x !== ''))];
  const type = modelProtoType();
  const bytes = type.encode(type.fromObject({ ...model, graph: { ...graph, output: names.map((name) => ({ name })), valueInfo: [] } })).finish();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic' });
  } catch (err) {
    throw new ImportError(`${file}: onnxruntime cannot load the model (${(err as Error).message.split('\n')[0]}).`, { cause: err });
  }
  const shapes = new Map<string, ProbedTensor>();
  try {
    const outs: Array<Record<string, ort.Tensor>> = [];
    for (const batch of [1, PROBE_BATCH]) {
      try {
        outs.push(await session.run({ [input.name]: feed(input, batch) }));
      } catch (err) {
        throw new ImportError(`${file}: onnxruntime cannot run the model on a batch of ${batch} ${JSON.stringify([batch, ...input.sampleDims])} ${input.dtype} (${(err as Error).message.split('\n')[0]}); export it with a dynamic batch axis (torch.onnx.export(..., dynamic_axes={input: {0: "batch"}, ...}))`, { cause: err });
      }
    }
    for (const name of names) {
      const a = outs[0]![name];
      const b = outs[1]![name];
      if (!a || !b) continue;
      const dims = a.dims.map(Number);
      shapes.set(name, { dims, dtype: a.type, batched: dims.length > 0 && dims[0] === 1 && Number(b.dims[0]) === PROBE_BATCH && a.dims.length === b.dims.length });
    }
  } finally {
    await session.release();
  }
  for (const t of graph.initializer) shapes.set(t.name, { dims: t.dims.map(toNumber), dtype: ELEM_TYPES[t.dataType] ?? `type ${t.dataType}`, batched: false });
  shapes.set(input.name, { dims: [1, ...input.sampleDims], dtype: input.dtype, batched: true });
  return shapes;
}
