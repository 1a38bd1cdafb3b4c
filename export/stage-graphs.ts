/**
 * @module export/stage-graphs
 * Cuts a multi-exit model into one ONNX graph per stage: stage k takes the tensors carried from
 * stage k-1 (stage 1: the normalised NCHW image) and, on ISC models, exit k-1's logits; it returns
 * exit k's logits and the tensors later stages need (the last stage: logits only). Also the
 * full graph with every exit, for comparison.
 */
import type { MultiExitModel, StageState } from '../training/index.js';
import { OnnxGraphBuilder, type Dim } from './onnx/graph-builder.js';
import { OnnxOps, type OnnxValue } from './onnx-ops.js';

export const ONNX_OPSET = 17;
/** The newest IR version Debian's python3-onnx 1.12 checker accepts; every ONNX Runtime reads it. */
export const ONNX_IR_VERSION = 8;
export const IMAGE_INPUT = 'image';
export const BATCH_DIM = 'batch';

/** Names of the graph tensors, shared by export and the manifest. */
export const tensorNames = Object.freeze({
  logits: (exit: number) => `logits_${exit}`,
  carried: (stage: number, scale: number) => `features_${stage}_scale${scale}`,
  /** One part of a scale's dense state that this stage added (the older parts come from earlier stages). */
  carriedPart: (stage: number, scale: number, part: number) => `features_${stage}_scale${scale}_${part}`,
});

export type TensorRole =
  | { kind: 'image' }
  | { kind: 'carried'; from: { stage: number; output: string } }
  | { kind: 'previous-logits'; from: { stage: number; output: string } }
  | { kind: 'logits'; exit: number }
  | { kind: 'carried-out' };

export interface GraphTensor {
  name: string;
  dims: Dim[];
  role: TensorRole;
}

export interface StageGraph {
  /** 1-based stage index. */
  index: number;
  bytes: Uint8Array;
  inputs: GraphTensor[];
  outputs: GraphTensor[];
}

/** One tensor of the carried state and the stage whose output it is. */
interface CarriedPart {
  tensor: GraphTensor;
  stage: number;
}

interface Carried {
  /** Per carried scale, the parts of its dense state (concatenated along channels), in order. */
  scales: CarriedPart[][];
  logits?: GraphTensor;
}

function encode(g: OnnxGraphBuilder, producerVersion: string, doc: string): Uint8Array {
  return g.toBytes({ opset: ONNX_OPSET, irVersion: ONNX_IR_VERSION, producerVersion, docString: doc });
}

/** Builds the K stage graphs. */
export function buildStageGraphs(model: MultiExitModel, producerVersion: string): StageGraph[] {
  const c = model.config.msdnet;
  const nScales = c.grFactor.length;
  const K = model.numExits;
  const graphs: StageGraph[] = [];
  let carried: Carried | undefined;
  for (let k = 0; k < K; k++) {
    const stage = k + 1;
    const g = new OnnxGraphBuilder(`stage_${stage}`);
    const ops = new OnnxOps(g);
    const inputs: GraphTensor[] = [];
    /** Carried inputs of this stage by name: passed on by reference, not output again. */
    const fromStage = new Map<string, CarriedPart>();
    let input: OnnxValue | StageState<OnnxValue>;
    if (k === 0) {
      const dims: Dim[] = [BATCH_DIM, c.inputChannels, c.inputSize[0], c.inputSize[1]];
      g.addInput(IMAGE_INPUT, dims);
      inputs.push({ name: IMAGE_INPUT, dims, role: { kind: 'image' } });
      input = { name: IMAGE_INPUT, dims };
    } else {
      const prev = carried!;
      const scales = prev.scales.map((parts) => {
        const values = parts.map(({ tensor: t, stage: from }): OnnxValue => {
          g.addInput(t.name, t.dims);
          inputs.push({ name: t.name, dims: t.dims, role: { kind: 'carried', from: { stage: from, output: t.name } } });
          fromStage.set(t.name, { tensor: t, stage: from });
          return { name: t.name, dims: [...t.dims] };
        });
        if (values.length === 1) return values[0]!;
        const dims = [...values[0]!.dims];
        dims[1] = values.reduce((a, v) => a + (v.dims[1] as number), 0);
        return { name: '', dims, parts: values };
      });
      let previousLogits: OnnxValue | undefined;
      if (prev.logits) {
        g.addInput(prev.logits.name, prev.logits.dims);
        inputs.push({ name: prev.logits.name, dims: prev.logits.dims, role: { kind: 'previous-logits', from: { stage: k, output: prev.logits.name } } });
        previousLogits = { name: prev.logits.name, dims: [...prev.logits.dims] };
      }
      input = previousLogits ? { scales, previousLogits } : { scales };
    }
    const out = model.stage(ops, k, input);
    const outputs: GraphTensor[] = [];
    const logits = ops.named(out.logits, tensorNames.logits(stage));
    g.addOutput(logits.name, logits.dims);
    outputs.push({ name: logits.name, dims: logits.dims, role: { kind: 'logits', exit: stage } });
    if (k < K - 1) {
      const first = nScales - out.state.scales.length;
      const next: Carried = { scales: [] };
      out.state.scales.forEach((v, j) => {
        const scale = first + j;
        // Parts carried in stay where they came from; runs of parts made here leave as one tensor.
        const groups: Array<CarriedPart | OnnxValue[]> = [];
        for (const part of v.parts ?? [v]) {
          const inherited = !part.deferred && !part.parts ? fromStage.get(part.name) : undefined;
          const last = groups[groups.length - 1];
          if (inherited) groups.push(inherited);
          else if (Array.isArray(last)) last.push(part);
          else groups.push([part]);
        }
        next.scales.push(
          groups.map((group, i) => {
            if (!Array.isArray(group)) return group;
            const value = group.length === 1 ? group[0]! : ops.concat(group);
            const named = ops.named(value, groups.length === 1 ? tensorNames.carried(stage, scale) : tensorNames.carriedPart(stage, scale, i));
            g.addOutput(named.name, named.dims);
            const t: GraphTensor = { name: named.name, dims: named.dims, role: { kind: 'carried-out' } };
            outputs.push(t);
            return { tensor: t, stage };
          }),
        );
      });
      if (out.state.previousLogits) next.logits = outputs[0];
      carried = next;
    }
    graphs.push({ index: stage, bytes: encode(g, producerVersion, `adaptive-exit stage ${stage} of ${K}`), inputs, outputs });
  }
  return graphs;
}

/** One graph computing every exit (outputs logits_1 … logits_K). */
export function buildFullGraph(model: MultiExitModel, producerVersion: string): { bytes: Uint8Array; outputs: string[] } {
  const c = model.config.msdnet;
  const g = new OnnxGraphBuilder('full');
  const ops = new OnnxOps(g);
  const dims: Dim[] = [BATCH_DIM, c.inputChannels, c.inputSize[0], c.inputSize[1]];
  g.addInput(IMAGE_INPUT, dims);
  const { logits } = model.forward(ops, { name: IMAGE_INPUT, dims });
  const outputs = logits.map((v, k) => {
    const named = ops.named(v, tensorNames.logits(k + 1));
    g.addOutput(named.name, named.dims);
    return named.name;
  });
  return { bytes: encode(g, producerVersion, `adaptive-exit, all ${model.numExits} exits`), outputs };
}
