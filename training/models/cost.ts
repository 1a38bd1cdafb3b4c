/**
 * @module training/models/cost
 * Per-exit cost read off the built model by running its own forward pass on shapes (batch 1),
 * with the counting rules of spec §6.3: convolution and Linear mult-adds (Linear adds its bias),
 * ReLU one per element, pooling C·H_out·W_out·k², BatchNorm free. Parameters are counted once per
 * layer, when it first runs.
 */
import type { GraphOps } from './graph-ops.js';
import { layerParamCount, type BatchNormLayer, type Conv2dLayer, type Layer, type LinearLayer } from './layers.js';
import type { MultiExitModel, StageState } from './multi-exit-model.js';
import { convOutSize } from './config.js';

/** A value of the shape interpreter: a shape, NHWC or [batch, features]. */
export interface Shape {
  readonly shape: readonly number[];
}

function numel(s: Shape): number {
  return s.shape.reduce((a, b) => a * b, 1);
}

/** {@link GraphOps} on shapes that counts mult-adds and parameters as it goes. */
export class CostOps implements GraphOps<Shape> {
  flops = 0;
  params = 0;
  private readonly seen = new Set<Layer>();

  private visit(layer: Layer): void {
    if (this.seen.has(layer)) return;
    this.seen.add(layer);
    this.params += layerParamCount(layer);
  }

  private expectRank(x: Shape, rank: number, where: string): void {
    if (x.shape.length !== rank) throw new Error(`${where}: expected rank ${rank}, got shape [${x.shape.join(', ')}].`);
  }

  conv2d(layer: Conv2dLayer, x: Shape): Shape {
    this.expectRank(x, 4, layer.name);
    const [n, h, w, c] = x.shape as [number, number, number, number];
    if (c !== layer.inChannels) throw new Error(`${layer.name}: expected ${layer.inChannels} input channels, got ${c}.`);
    const ho = convOutSize(h, layer.kernel, layer.stride, layer.pad);
    const wo = convOutSize(w, layer.kernel, layer.stride, layer.pad);
    this.visit(layer);
    this.flops += n * layer.inChannels * layer.outChannels * layer.kernel * layer.kernel * ho * wo;
    return { shape: [n, ho, wo, layer.outChannels] };
  }

  batchNorm(layer: BatchNormLayer, x: Shape): Shape {
    const c = x.shape[x.shape.length - 1];
    if (c !== layer.channels) throw new Error(`${layer.name}: expected ${layer.channels} channels, got ${c}.`);
    this.visit(layer);
    return x;
  }

  relu(x: Shape): Shape {
    this.flops += numel(x);
    return x;
  }

  batchNormRelu(layer: BatchNormLayer, x: Shape): Shape {
    return this.relu(this.batchNorm(layer, x));
  }

  maxPool(x: Shape, kernel: number, stride: number, pad: number): Shape {
    this.expectRank(x, 4, 'maxPool');
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const ho = convOutSize(h, kernel, stride, pad);
    const wo = convOutSize(w, kernel, stride, pad);
    this.flops += n * c * ho * wo * kernel * kernel;
    return { shape: [n, ho, wo, c] };
  }

  globalAvgPool(x: Shape): Shape {
    this.expectRank(x, 4, 'globalAvgPool');
    const [n, h, w, c] = x.shape as [number, number, number, number];
    // An H x W pool to 1 x 1: C · 1 · 1 · (H·W), the §6.3 pooling rule.
    this.flops += n * c * h * w;
    return { shape: [n, c] };
  }

  linear(layer: LinearLayer, x: Shape): Shape {
    this.expectRank(x, 2, layer.name);
    const [n, f] = x.shape as [number, number];
    if (f !== layer.inFeatures) throw new Error(`${layer.name}: expected ${layer.inFeatures} features, got ${f}.`);
    this.visit(layer);
    this.flops += n * (layer.inFeatures * layer.outFeatures + layer.outFeatures);
    return { shape: [n, layer.outFeatures] };
  }

  concat(xs: Shape[]): Shape {
    const first = xs[0]!.shape;
    const lead = first.slice(0, -1).join('x');
    for (const x of xs) {
      if (x.shape.slice(0, -1).join('x') !== lead) {
        throw new Error(`concat: expected matching leading dimensions ${lead}, got ${x.shape.slice(0, -1).join('x')}.`);
      }
    }
    const channels = xs.reduce((a, x) => a + x.shape[x.shape.length - 1]!, 0);
    return { shape: [...first.slice(0, -1), channels] };
  }

  scaleGradient(x: Shape): Shape {
    return x;
  }
}

/** Cumulative cost of each exit. */
export interface ExitCost {
  /** Mult-adds up to and including exit k, in millions. */
  mflops: number;
  /** Parameters of every layer that runs up to exit k. */
  params: number;
  /** Cost of this stage alone, in millions of mult-adds. */
  stageMflops: number;
  /** Parameters of this stage alone. */
  stageParams: number;
}

/**
 * Walks the model's inference path stage by stage (exits as a deployed model computes them: ISC
 * logits on ISC models, without the frozen MSDNet Linear heads that only teach in training).
 */
export function exitCosts(model: MultiExitModel): ExitCost[] {
  const c = model.config.msdnet;
  const ops = new CostOps();
  const costs: ExitCost[] = [];
  let input: Shape | StageState<Shape> = { shape: [1, c.inputSize[0], c.inputSize[1], c.inputChannels] };
  let prevFlops = 0;
  let prevParams = 0;
  for (let k = 0; k < model.numExits; k++) {
    input = model.stage(ops, k, input).state;
    costs.push({
      mflops: ops.flops / 1e6,
      params: ops.params,
      stageMflops: (ops.flops - prevFlops) / 1e6,
      stageParams: ops.params - prevParams,
    });
    prevFlops = ops.flops;
    prevParams = ops.params;
  }
  return costs;
}
