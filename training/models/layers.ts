/**
 * @module training/models/layers
 * Leaf layers (convolution, batch normalisation, linear) as plain objects holding tfjs variables,
 * created through a {@link ParameterStore} that names them and initialises them as spec §4.6.
 */
import { tf, type Tensor, type Variable } from '../backend/tf.js';

/** Parts of a model that are trained, frozen or normalised together. */
export type ParamGroup = 'backbone' | 'linear-heads' | 'isc-heads';

/** A named variable of a model: a trained parameter or a BatchNorm running statistic. */
export interface NamedVariable {
  name: string;
  variable: Variable;
  group: ParamGroup;
  kind: 'param' | 'buffer';
}

export interface Conv2dLayer {
  readonly type: 'conv2d';
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
  /** [kh, kw, in, out] (tfjs HWIO). */
  readonly weight: Variable;
  readonly bias?: Variable;
  readonly group: ParamGroup;
}

export interface BatchNormLayer {
  readonly type: 'batch-norm';
  readonly name: string;
  readonly channels: number;
  readonly gamma: Variable;
  readonly beta: Variable;
  readonly runningMean: Variable;
  readonly runningVar: Variable;
  readonly eps: number;
  /** PyTorch convention: running = (1 - momentum) * running + momentum * batch. */
  readonly momentum: number;
  readonly group: ParamGroup;
}

export interface LinearLayer {
  readonly type: 'linear';
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [in, out], so that y = x W + b. */
  readonly weight: Variable;
  readonly bias: Variable;
  readonly group: ParamGroup;
}

export type Layer = Conv2dLayer | BatchNormLayer | LinearLayer;

/** How a Linear layer's weights start: PyTorch's default, with the bias zeroed (MSDNet heads) or not. */
export type LinearInit = 'msdnet' | 'torch-default';

/**
 * Creates and owns every variable of one model, in creation order, with deterministic seeded
 * initialisation (the same seed gives the same weights on every backend).
 */
export class ParameterStore {
  readonly entries: NamedVariable[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(private readonly seed: number) {}

  private nextSeed(): number {
    // Distinct, reproducible seeds per tensor; tfjs seeds its Alea generator per call.
    this.counter += 1;
    return this.seed * 100_003 + this.counter;
  }

  private add(name: string, init: Tensor, group: ParamGroup, kind: 'param' | 'buffer'): Variable {
    if (this.names.has(name)) throw new Error(`ParameterStore: duplicate variable name "${name}".`);
    this.names.add(name);
    // Variables are created unnamed: tfjs names must be unique per process and two models may coexist.
    const variable = tf.variable(init, kind === 'param');
    init.dispose();
    this.entries.push({ name, variable, group, kind });
    return variable;
  }

  /** Bias-free (unless asked) k x k convolution, weights N(0, sqrt(2 / (k k C_out))) as spec §4.6. */
  conv2d(
    name: string,
    group: ParamGroup,
    spec: { inChannels: number; outChannels: number; kernel: number; stride: number; pad: number; bias?: boolean },
  ): Conv2dLayer {
    const { inChannels, outChannels, kernel } = spec;
    const std = Math.sqrt(2 / (kernel * kernel * outChannels));
    const weight = this.add(
      `${name}.weight`,
      tf.randomNormal([kernel, kernel, inChannels, outChannels], 0, std, 'float32', this.nextSeed()),
      group,
      'param',
    );
    let bias: Variable | undefined;
    if (spec.bias) {
      // PyTorch's default conv bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
      const bound = 1 / Math.sqrt(inChannels * kernel * kernel);
      bias = this.add(`${name}.bias`, tf.randomUniform([outChannels], -bound, bound, 'float32', this.nextSeed()), group, 'param');
    }
    return { type: 'conv2d', name, ...spec, weight, bias, group };
  }

  /** BatchNorm with gamma 1, beta 0, running mean 0 and variance 1 (PyTorch defaults). */
  batchNorm(name: string, group: ParamGroup, channels: number): BatchNormLayer {
    return {
      type: 'batch-norm',
      name,
      channels,
      gamma: this.add(`${name}.weight`, tf.ones([channels]), group, 'param'),
      beta: this.add(`${name}.bias`, tf.zeros([channels]), group, 'param'),
      runningMean: this.add(`${name}.running_mean`, tf.zeros([channels]), group, 'buffer'),
      runningVar: this.add(`${name}.running_var`, tf.ones([channels]), group, 'buffer'),
      eps: 1e-5,
      momentum: 0.1,
      group,
    };
  }

  /**
   * Linear layer with PyTorch's default weight init, U(-1/sqrt(in), 1/sqrt(in)); the bias is zero
   * for MSDNet's heads (spec §4.6) and PyTorch's default uniform for the new ISC modules (spec §2).
   */
  linear(name: string, group: ParamGroup, inFeatures: number, outFeatures: number, init: LinearInit): LinearLayer {
    const bound = 1 / Math.sqrt(inFeatures);
    const weight = this.add(
      `${name}.weight`,
      tf.randomUniform([inFeatures, outFeatures], -bound, bound, 'float32', this.nextSeed()),
      group,
      'param',
    );
    const biasInit =
      init === 'msdnet' ? tf.zeros([outFeatures]) : tf.randomUniform([outFeatures], -bound, bound, 'float32', this.nextSeed());
    const bias = this.add(`${name}.bias`, biasInit, group, 'param');
    return { type: 'linear', name, inFeatures, outFeatures, weight, bias, group };
  }

  /** Trainable parameters of the given groups, in creation order. */
  params(groups?: readonly ParamGroup[]): NamedVariable[] {
    return this.entries.filter((e) => e.kind === 'param' && (!groups || groups.includes(e.group)));
  }

  /** Frees every variable. */
  dispose(): void {
    for (const e of this.entries) e.variable.dispose();
  }
}

/** Number of trainable values in a layer (what a parameter count counts). */
export function layerParamCount(layer: Layer): number {
  switch (layer.type) {
    case 'conv2d':
      return layer.weight.size + (layer.bias?.size ?? 0);
    case 'batch-norm':
      return layer.gamma.size + layer.beta.size;
    case 'linear':
      return layer.weight.size + layer.bias.size;
  }
}
