/**
 * @module export/onnx-ops
 * {@link GraphOps} that writes ONNX nodes: the model's own forward pass, interpreted a third way
 * (after tensors and costs). Values are NCHW (or [N, F]); every BatchNorm is folded into the
 * convolution or Linear layer that feeds it, so the graphs hold Conv, Gemm, Relu, MaxPool,
 * Concat and GlobalAveragePool only.
 */
import { convOutSize, type BatchNormLayer, type Conv2dLayer, type GraphOps, type LinearLayer } from '../training/index.js';
import type { Dim, OnnxGraphBuilder } from './onnx/graph-builder.js';

/** A conv or Linear whose node is written once we know whether a BatchNorm follows it. */
type Deferred = { kind: 'conv'; layer: Conv2dLayer; input: OnnxValue } | { kind: 'linear'; layer: LinearLayer; input: OnnxValue };

export interface OnnxValue {
  /** Tensor name in the graph (unset while deferred or while a lazy concatenation). */
  name: string;
  dims: Dim[];
  deferred?: Deferred;
  /**
   * A channel concatenation not written yet: its parts, flat. MSDNet's dense state is a growing
   * concatenation; kept lazy, a stage boundary can hand on only the parts this stage added (the
   * older parts are carried from the stages that made them) instead of the whole state again.
   */
  parts?: OnnxValue[];
}

function values(v: { dataSync(): unknown }): Float32Array {
  return v.dataSync() as Float32Array;
}

/** HWIO (tfjs) to OIHW (ONNX), scaling each output channel. */
function convWeightOIHW(layer: Conv2dLayer, scale?: Float32Array): Float32Array {
  const w = values(layer.weight);
  const { kernel: k, inChannels: ci, outChannels: co } = layer;
  const out = new Float32Array(w.length);
  for (let h = 0; h < k; h++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) {
          out[((o * ci + i) * k + h) * k + x] = w[((h * k + x) * ci + i) * co + o]! * (scale ? scale[o]! : 1);
        }
  return out;
}

/** Per-channel scale and shift of an inference-mode BatchNorm: y = x·a + b. */
function batchNormAffine(bn: BatchNormLayer): { a: Float32Array; b: Float32Array } {
  const gamma = values(bn.gamma);
  const beta = values(bn.beta);
  const mean = values(bn.runningMean);
  const variance = values(bn.runningVar);
  const a = new Float32Array(bn.channels);
  const b = new Float32Array(bn.channels);
  for (let c = 0; c < bn.channels; c++) {
    a[c] = gamma[c]! / Math.sqrt(variance[c]! + bn.eps);
    b[c] = beta[c]! - mean[c]! * a[c]!;
  }
  return { a, b };
}

export class OnnxOps implements GraphOps<OnnxValue> {
  constructor(private readonly g: OnnxGraphBuilder) {}

  /** Writes a deferred layer's node (folding `bn` when given) and returns its output. */
  private materialize(v: OnnxValue, bn?: BatchNormLayer): OnnxValue {
    const d = v.deferred;
    if (!d) return v;
    const affine = bn ? batchNormAffine(bn) : undefined;
    const base = bn ? bn.name.replace(/\.bn$/, '') : d.layer.name;
    if (d.kind === 'conv') {
      const { layer } = d;
      const w = this.g.addInitializer(`${base}.weight`, [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel], convWeightOIHW(layer, affine?.a));
      const bias = new Float32Array(layer.outChannels);
      const own = layer.bias ? values(layer.bias) : undefined;
      for (let o = 0; o < layer.outChannels; o++) bias[o] = (own?.[o] ?? 0) * (affine?.a[o] ?? 1) + (affine?.b[o] ?? 0);
      const inputs = [this.input(d.input), w];
      if (own || affine) inputs.push(this.g.addInitializer(`${base}.bias`, [layer.outChannels], bias));
      const out = this.g.uniqueName(base);
      const p = layer.pad;
      this.g.addNode('Conv', base, inputs, [out], {
        kernel_shape: [layer.kernel, layer.kernel],
        strides: [layer.stride, layer.stride],
        pads: [p, p, p, p],
      });
      return { name: out, dims: v.dims };
    }
    const { layer } = d;
    const w = values(layer.weight);
    const own = values(layer.bias);
    const weight = new Float32Array(w.length);
    const bias = new Float32Array(layer.outFeatures);
    for (let o = 0; o < layer.outFeatures; o++) {
      const a = affine?.a[o] ?? 1;
      for (let i = 0; i < layer.inFeatures; i++) weight[i * layer.outFeatures + o] = w[i * layer.outFeatures + o]! * a;
      bias[o] = own[o]! * a + (affine?.b[o] ?? 0);
    }
    const wName = this.g.addInitializer(`${base}.weight`, [layer.inFeatures, layer.outFeatures], weight);
    const bName = this.g.addInitializer(`${base}.bias`, [layer.outFeatures], bias);
    const out = this.g.uniqueName(base);
    this.g.addNode('Gemm', base, [this.input(d.input), wName, bName], [out]);
    return { name: out, dims: v.dims };
  }

  /** The value's tensor name, writing its node first if deferred (once: later uses share it). */
  private input(v: OnnxValue): string {
    // Written once; `parts` stays, so a later concatenation still builds on the parts.
    if (v.parts && !v.name) {
      const inputs = v.parts.map((x) => this.input(x));
      const out = this.g.uniqueName(`${inputs[inputs.length - 1]}.concat`);
      this.g.addNode('Concat', out, inputs, [out], { axis: 1 });
      v.name = out;
    }
    if (v.deferred) {
      v.name = this.materialize(v).name;
      delete v.deferred;
    }
    return v.name;
  }

  conv2d(layer: Conv2dLayer, x: OnnxValue): OnnxValue {
    const [n, , h, w] = x.dims as [Dim, number, number, number];
    const out = (s: number) => convOutSize(s, layer.kernel, layer.stride, layer.pad);
    return { name: '', dims: [n, layer.outChannels, out(h), out(w)], deferred: { kind: 'conv', layer, input: x } };
  }

  batchNorm(layer: BatchNormLayer, x: OnnxValue): OnnxValue {
    if (!x.deferred) throw new Error(`${layer.name}: the exporter folds every BatchNorm into the layer before it, and this one follows no convolution or Linear layer.`);
    return this.materialize(x, layer);
  }

  relu(x: OnnxValue): OnnxValue {
    const input = this.input(x);
    const out = this.g.uniqueName(`${input}.relu`);
    this.g.addNode('Relu', out, [input], [out]);
    return { name: out, dims: x.dims };
  }

  batchNormRelu(layer: BatchNormLayer, x: OnnxValue): OnnxValue {
    return this.relu(this.batchNorm(layer, x));
  }

  maxPool(x: OnnxValue, kernel: number, stride: number, pad: number): OnnxValue {
    const input = this.input(x);
    const [n, c, h, w] = x.dims as [Dim, number, number, number];
    const size = (s: number) => convOutSize(s, kernel, stride, pad);
    const out = this.g.uniqueName(`${input}.maxpool`);
    this.g.addNode('MaxPool', out, [input], [out], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] });
    return { name: out, dims: [n, c, size(h), size(w)] };
  }

  globalAvgPool(x: OnnxValue): OnnxValue {
    const input = this.input(x);
    const [n, c] = x.dims as [Dim, number];
    const pooled = this.g.uniqueName(`${input}.pool`);
    this.g.addNode('GlobalAveragePool', pooled, [input], [pooled]);
    const out = this.g.uniqueName(`${input}.features`);
    this.g.addNode('Flatten', out, [pooled], [out], { axis: 1 });
    return { name: out, dims: [n, c] };
  }

  linear(layer: LinearLayer, x: OnnxValue): OnnxValue {
    return { name: '', dims: [x.dims[0]!, layer.outFeatures], deferred: { kind: 'linear', layer, input: x } };
  }

  /** A lazy concatenation (see {@link OnnxValue.parts}); its Concat node is written at its first use. */
  concat(xs: OnnxValue[]): OnnxValue {
    const dims = [...xs[0]!.dims];
    dims[1] = xs.reduce((a, x) => a + (x.dims[1] as number), 0);
    return { name: '', dims, parts: xs.flatMap((x) => x.parts ?? [x]) };
  }

  scaleGradient(x: OnnxValue): OnnxValue {
    return x;
  }

  /**
   * Gives a value a chosen name (graph inputs and outputs have fixed names): a rename of the
   * producing node's output when there is one, else (a graph input) an Identity node.
   */
  named(x: OnnxValue, name: string): OnnxValue {
    const input = this.input(x);
    if (input === name) return { name, dims: x.dims };
    if (this.g.renameNodeOutput(input, name)) {
      x.name = name;
      return { name, dims: x.dims };
    }
    this.g.addNode('Identity', name, [input], [name]);
    return { name, dims: x.dims };
  }
}
