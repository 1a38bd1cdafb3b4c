/**
 * @module training/models/msdnet
 * The MSDNet backbone of spec §5: first layer, dense multi-scale layers with `prune=max` scale
 * dropping, transitions, and one convolutional classifier head per block (its Linear layer
 * included). Built as plain data; the forward pass is written once against {@link GraphOps}.
 */
import { blockSteps, layerScales, type MsdNetConfig } from './config.js';
import type { GraphOps } from './graph-ops.js';
import type { BatchNormLayer, Conv2dLayer, LinearLayer, ParameterStore } from './layers.js';

/** conv -> BN -> ReLU. */
export interface ConvBasic {
  conv: Conv2dLayer;
  bn: BatchNormLayer;
}

/** Optional 1x1 bottleneck, then a 3x3 convolution (stride 1 `normal` or 2 `down`), spec §5.3. */
export interface ConvBN {
  bottleneck?: ConvBasic;
  main: ConvBasic;
}

/** Output unit of one scale of a dense layer, spec §5.4 (identity first in the concatenation). */
export type DenseUnit = { kind: 'normal'; normal: ConvBN } | { kind: 'down-normal'; down: ConvBN; normal: ConvBN };

export interface MsdLayer {
  kind: 'layer';
  inScales: number;
  outScales: number;
  units: DenseUnit[];
}

export interface Transition {
  kind: 'transition';
  convs: ConvBasic[];
}

export interface FirstLayer {
  /** Scale 0; the ImageNet stem adds a 3x3 stride-2 max pool after it. */
  stem: ConvBasic;
  maxPool: boolean;
  /** Scale s >= 1: 3x3 stride-2 ConvBasic on scale s-1. */
  downs: ConvBasic[];
}

/** Classifier head of spec §5.5: two strided ConvBasic, average pool, Linear. */
export interface ClassifierHead {
  convs: [ConvBasic, ConvBasic];
  /** Width of the pooled feature f_k (128 on CIFAR, 4 nIn on ImageNet). */
  featureWidth: number;
  linear: LinearLayer;
}

export interface MsdBlock {
  first?: FirstLayer;
  items: Array<MsdLayer | Transition>;
  head: ClassifierHead;
  /** Channels of the coarsest scale leaving this block (the head's input). */
  coarsestChannels: number;
}

/** The built backbone. */
export interface MsdNet {
  config: MsdNetConfig;
  blocks: MsdBlock[];
}

function convBasic(
  store: ParameterStore,
  name: string,
  inC: number,
  outC: number,
  kernel: number,
  stride: number,
  pad: number,
  bias = false,
): ConvBasic {
  return {
    conv: store.conv2d(`${name}.conv`, 'backbone', { inChannels: inC, outChannels: outC, kernel, stride, pad, bias }),
    bn: store.batchNorm(`${name}.bn`, 'backbone', outC),
  };
}

function convBN(
  store: ParameterStore,
  name: string,
  inC: number,
  outC: number,
  type: 'normal' | 'down',
  bottleneck: boolean,
  bnWidth: number,
): ConvBN {
  let inner = inC;
  let bottle: ConvBasic | undefined;
  if (bottleneck) {
    inner = Math.min(inC, bnWidth * outC);
    bottle = convBasic(store, `${name}.bottleneck`, inC, inner, 1, 1, 0);
  }
  const main = convBasic(store, `${name}.${type}`, inner, outC, 3, type === 'down' ? 2 : 1, 1);
  return bottle ? { bottleneck: bottle, main } : { main };
}

function downNormal(
  store: ParameterStore,
  name: string,
  c: MsdNetConfig,
  nIn: number,
  scale: number,
): DenseUnit {
  const nOut = c.growthRate * c.grFactor[scale]!;
  return {
    kind: 'down-normal',
    down: convBN(store, `${name}.down`, nIn * c.grFactor[scale - 1]!, Math.floor(nOut / 2), 'down', c.bottleneck, c.bnFactor[scale - 1]!),
    normal: convBN(store, `${name}.normal`, nIn * c.grFactor[scale]!, Math.floor(nOut / 2), 'normal', c.bottleneck, c.bnFactor[scale]!),
  };
}

function msdLayer(store: ParameterStore, name: string, c: MsdNetConfig, nIn: number, inScales: number, outScales: number): MsdLayer {
  const nScales = c.grFactor.length;
  const offset = nScales - outScales;
  const units: DenseUnit[] = [];
  if (inScales > outScales) {
    units.push(downNormal(store, `${name}.scale${offset}`, c, nIn, offset));
  } else {
    const s = offset;
    units.push({
      kind: 'normal',
      normal: convBN(store, `${name}.scale${s}.normal`, nIn * c.grFactor[s]!, c.growthRate * c.grFactor[s]!, 'normal', c.bottleneck, c.bnFactor[s]!),
    });
  }
  for (let s = offset + 1; s < nScales; s++) units.push(downNormal(store, `${name}.scale${s}`, c, nIn, s));
  return { kind: 'layer', inScales, outScales, units };
}

function firstLayer(store: ParameterStore, c: MsdNetConfig): FirstLayer {
  const imagenet = c.head === 'imagenet';
  const stemOut = c.nChannels * c.grFactor[0]!;
  const stem = imagenet
    ? convBasic(store, 'first.scale0', c.inputChannels, stemOut, 7, 2, 3, true)
    : convBasic(store, 'first.scale0', c.inputChannels, stemOut, 3, 1, 1);
  const downs: ConvBasic[] = [];
  let inC = stemOut;
  for (let s = 1; s < c.grFactor.length; s++) {
    const outC = c.nChannels * c.grFactor[s]!;
    downs.push(convBasic(store, `first.scale${s}`, inC, outC, 3, 2, 1));
    inC = outC;
  }
  return { stem, maxPool: imagenet, downs };
}

function classifierHead(store: ParameterStore, name: string, c: MsdNetConfig, inC: number): ClassifierHead {
  const width = c.head === 'cifar' ? 128 : inC;
  const convs: [ConvBasic, ConvBasic] = [
    convBasic(store, `${name}.conv1`, inC, width, 3, 2, 1),
    convBasic(store, `${name}.conv2`, width, width, 3, 2, 1),
  ];
  const linear = store.linear(`${name}.linear`, 'linear-heads', width, c.numClasses, 'msdnet');
  return { convs, featureWidth: width, linear };
}

/**
 * Builds the backbone's layers (creating their variables in `store`, in a fixed order so that a
 * seed reproduces the weights).
 */
export function buildMsdNet(store: ParameterStore, c: MsdNetConfig): MsdNet {
  const nScales = c.grFactor.length;
  const steps = blockSteps(c);
  const totalLayers = steps.reduce((a, b) => a + b, 0);
  let nIn = c.nChannels;
  let n = 0;
  const blocks: MsdBlock[] = [];
  for (let b = 0; b < c.nBlocks; b++) {
    const first = b === 0 ? firstLayer(store, c) : undefined;
    const items: Array<MsdLayer | Transition> = [];
    for (let i = 0; i < steps[b]!; i++) {
      n += 1;
      const { inScales, outScales } = layerScales(n, totalLayers, nScales);
      items.push(msdLayer(store, `block${b + 1}.layer${n}`, c, nIn, inScales, outScales));
      nIn += c.growthRate;
      if (inScales > outScales && c.reduction > 0) {
        const offset = nScales - outScales;
        const nOut = Math.floor(c.reduction * nIn);
        const convs: ConvBasic[] = [];
        for (let j = 0; j < outScales; j++) {
          const g = c.grFactor[offset + j]!;
          convs.push(convBasic(store, `block${b + 1}.transition${n}.scale${offset + j}`, nIn * g, nOut * g, 1, 1, 0));
        }
        items.push({ kind: 'transition', convs });
        nIn = nOut;
      }
    }
    const coarsestChannels = nIn * c.grFactor[nScales - 1]!;
    blocks.push({ first, items, head: classifierHead(store, `exit${b + 1}`, c, coarsestChannels), coarsestChannels });
  }
  return { config: c, blocks };
}

function applyConvBasic<T>(ops: GraphOps<T>, m: ConvBasic, x: T): T {
  return ops.batchNormRelu(m.bn, ops.conv2d(m.conv, x));
}

function applyConvBN<T>(ops: GraphOps<T>, m: ConvBN, x: T): T {
  const h = m.bottleneck ? applyConvBasic(ops, m.bottleneck, x) : x;
  return applyConvBasic(ops, m.main, h);
}

/** `finer` is the next finer scale (used by the strided branch), `same` this scale's input. */
function applyUnit<T>(ops: GraphOps<T>, u: DenseUnit, finer: T | undefined, same: T): T {
  if (u.kind === 'normal') return ops.concat([same, applyConvBN(ops, u.normal, same)]);
  return ops.concat([same, applyConvBN(ops, u.down, finer!), applyConvBN(ops, u.normal, same)]);
}

function applyLayer<T>(ops: GraphOps<T>, layer: MsdLayer, xs: T[]): T[] {
  const out: T[] = [];
  if (layer.inScales > layer.outScales) {
    // The finest input scale is dropped: output i reads inputs i (finer) and i + 1 (same scale).
    for (let i = 0; i < layer.outScales; i++) out.push(applyUnit(ops, layer.units[i]!, xs[i], xs[i + 1]!));
  } else {
    out.push(applyUnit(ops, layer.units[0]!, undefined, xs[0]!));
    for (let i = 1; i < layer.outScales; i++) out.push(applyUnit(ops, layer.units[i]!, xs[i - 1], xs[i]!));
  }
  return out;
}

/** The first layer: the image to one tensor per scale. */
export function applyFirstLayer<T>(ops: GraphOps<T>, first: FirstLayer, image: T): T[] {
  let x = applyConvBasic(ops, first.stem, image);
  if (first.maxPool) x = ops.maxPool(x, 3, 2, 1);
  const out = [x];
  for (const d of first.downs) {
    x = applyConvBasic(ops, d, x);
    out.push(x);
  }
  return out;
}

/**
 * Block `b`'s dense layers and transitions (not its first layer): per-scale tensors in, per-scale
 * tensors out (finest kept scale first, coarsest last).
 */
export function applyBlockLayers<T>(ops: GraphOps<T>, block: MsdBlock, xs: T[]): T[] {
  let cur = xs;
  for (const item of block.items) {
    cur = item.kind === 'layer' ? applyLayer(ops, item, cur) : item.convs.map((cb, j) => applyConvBasic(ops, cb, cur[j]!));
  }
  return cur;
}

/**
 * The head's convolutions and pooling: the coarsest scale to the feature vector f_k. The pool is
 * global: on CIFAR (8x8) and Fashion-MNIST/ImageNet (7x7) coarsest scales the two strided
 * convolutions leave 2x2, where it equals the reference's AvgPool2d(2); other input sizes still
 * get one feature vector instead of failing.
 */
export function applyHeadFeatures<T>(ops: GraphOps<T>, head: ClassifierHead, coarsest: T): T {
  const h = applyConvBasic(ops, head.convs[1], applyConvBasic(ops, head.convs[0], coarsest));
  return ops.globalAvgPool(h);
}
