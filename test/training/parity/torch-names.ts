/**
 * Test helper: which PyTorch state_dict entry of the peer (../shared/peers/torch_msdnet.py) holds
 * each variable of this project's model, and in which layout. Derived by walking the built model
 * (blocks, layers, units, heads) in the peer's module order, not by rewriting name strings, so a
 * structural difference between the two shows up as an unmapped entry on one side.
 */
import type { BatchNormLayer, Conv2dLayer, ConvBasic, ConvBN, LinearLayer, MultiExitModel } from '../../../training/models/index.js';

/**
 * How a tensor is laid out on each side: `conv` is tfjs HWIO [kh, kw, in, out] here and OIHW
 * [out, in, kh, kw] in PyTorch; `linear` is [in, out] here and [out, in] there; `same` needs nothing.
 */
export type TorchLayout = 'conv' | 'linear' | 'same';

export interface TorchName {
  /** This project's variable name (ParameterStore). */
  ours: string;
  /** The peer's state_dict key. */
  torch: string;
  layout: TorchLayout;
}

/** Permutation that turns our layout into PyTorch's (and its inverse, back). */
export const TO_TORCH: Readonly<Record<TorchLayout, readonly number[] | undefined>> = Object.freeze({
  conv: [3, 2, 0, 1],
  linear: [1, 0],
  same: undefined,
});
export const FROM_TORCH: Readonly<Record<TorchLayout, readonly number[] | undefined>> = Object.freeze({
  conv: [2, 3, 1, 0],
  linear: [1, 0],
  same: undefined,
});

/** PyTorch BatchNorm's step counter: no counterpart here (the step parity leaves it out). */
export const NUM_BATCHES_TRACKED = 'num_batches_tracked';

/** Our shape in PyTorch's layout. */
export function torchShape(shape: readonly number[], layout: TorchLayout): number[] {
  const perm = TO_TORCH[layout];
  return perm ? perm.map((i) => shape[i]!) : shape.slice();
}

class Mapper {
  readonly entries: TorchName[] = [];

  conv(layer: Conv2dLayer, prefix: string): void {
    this.entries.push({ ours: `${layer.name}.weight`, torch: `${prefix}.weight`, layout: 'conv' });
    if (layer.bias) this.entries.push({ ours: `${layer.name}.bias`, torch: `${prefix}.bias`, layout: 'same' });
  }

  batchNorm(layer: BatchNormLayer, prefix: string): void {
    for (const field of ['weight', 'bias', 'running_mean', 'running_var']) {
      this.entries.push({ ours: `${layer.name}.${field}`, torch: `${prefix}.${field}`, layout: 'same' });
    }
  }

  linear(layer: LinearLayer, prefix: string): void {
    this.entries.push({ ours: `${layer.name}.weight`, torch: `${prefix}.weight`, layout: 'linear' });
    this.entries.push({ ours: `${layer.name}.bias`, torch: `${prefix}.bias`, layout: 'same' });
  }

  /** conv -> BN -> ReLU as entries `index` and `index + 1` of an nn.Sequential. */
  convBasic(m: ConvBasic, sequential: string, index = 0): void {
    this.conv(m.conv, `${sequential}.${index}`);
    this.batchNorm(m.bn, `${sequential}.${index + 1}`);
  }

  /** The peer's ConvBN: one nn.Sequential `net` of [conv, BN, ReLU] (bottleneck) + [conv, BN, ReLU]. */
  convBN(m: ConvBN, prefix: string): void {
    if (m.bottleneck) this.convBasic(m.bottleneck, `${prefix}.net`, 0);
    this.convBasic(m.main, `${prefix}.net`, m.bottleneck ? 3 : 0);
  }
}

/**
 * Every variable of `model` with its PyTorch name. Stage-2 heads are the peer's `imta.*` entries
 * (`imta.cls.k` classifiers, `imta.isc.k` = Linear, BatchNorm1d, ReLU).
 * @throws Error for a model the peer cannot build (ImageNet stem, no bottleneck, unlinked heads).
 */
export function torchNames(model: MultiExitModel): TorchName[] {
  const c = model.config.msdnet;
  if (c.head !== 'cifar' || !c.bottleneck || c.inputChannels !== 3) {
    throw new Error(`torchNames: the peer builds CIFAR MSDNets with bottlenecks on RGB input, got head=${c.head}, bottleneck=${c.bottleneck}, inputChannels=${c.inputChannels}.`);
  }
  const m = new Mapper();
  model.msdnet.blocks.forEach((block, b) => {
    const stages = `blocks.${b}.stages`;
    let j = 0;
    if (block.first) {
      // FirstLayer.convs: the stem, then one strided conv per coarser scale.
      [block.first.stem, ...block.first.downs].forEach((cb, s) => m.convBasic(cb, `${stages}.0.convs.${s}`));
      j = 1;
    }
    for (const item of block.items) {
      const stage = `${stages}.${j++}`;
      if (item.kind === 'transition') {
        item.convs.forEach((cb, s) => m.convBasic(cb, `${stage}.convs.${s}`));
        continue;
      }
      item.units.forEach((u, i) => {
        if (u.kind === 'normal') {
          m.convBN(u.normal, `${stage}.ops.${i}.normal`);
        } else {
          m.convBN(u.down, `${stage}.ops.${i}.down`);
          m.convBN(u.normal, `${stage}.ops.${i}.normal`);
        }
      });
    }
    m.convBasic(block.head.convs[0], `heads.${b}.features.0`);
    m.convBasic(block.head.convs[1], `heads.${b}.features.1`);
    if (model.config.linearHeads) m.linear(block.head.linear, `heads.${b}.linear`);
  });
  if (model.isc) {
    if (!model.isc.linked) throw new Error('torchNames: unlinked ISC heads are not mapped (the step parity runs ISC proper).');
    model.isc.classifiers.forEach((cls, k) => m.linear(cls, `imta.cls.${k}`));
    model.isc.links.forEach((link, k) => {
      m.linear(link.linear, `imta.isc.${k}.0`);
      m.batchNorm(link.bn, `imta.isc.${k}.1`);
    });
  }
  return m.entries;
}

/**
 * What does not pair up between the mapping, our variables and the peer's state_dict (its
 * `--dump-keys` output): unmapped or doubly mapped names on either side and shape mismatches.
 * `num_batches_tracked` entries are the only peer entries allowed without a counterpart.
 */
export function mappingProblems(
  names: readonly TorchName[],
  ours: ReadonlyArray<{ name: string; shape: readonly number[] }>,
  peer: Readonly<Record<string, readonly number[]>>,
): string[] {
  const problems: string[] = [];
  const byOurs = new Map<string, TorchName>();
  const byTorch = new Map<string, TorchName>();
  for (const n of names) {
    if (byOurs.has(n.ours)) problems.push(`"${n.ours}" mapped twice`);
    if (byTorch.has(n.torch)) problems.push(`peer "${n.torch}" mapped twice`);
    byOurs.set(n.ours, n);
    byTorch.set(n.torch, n);
  }
  const ourShapes = new Map(ours.map((v) => [v.name, v.shape] as const));
  for (const { name } of ours) if (!byOurs.has(name)) problems.push(`our "${name}" has no peer name`);
  for (const n of names) {
    const shape = ourShapes.get(n.ours);
    const theirs = peer[n.torch];
    if (!shape) problems.push(`mapped "${n.ours}" is not a variable of the model`);
    else if (!theirs) problems.push(`"${n.ours}" maps to "${n.torch}", which the peer does not have`);
    else if (torchShape(shape, n.layout).join('x') !== theirs.join('x')) {
      problems.push(`"${n.ours}" [${shape.join(', ')}] as ${n.layout} is [${torchShape(shape, n.layout).join(', ')}], peer "${n.torch}" is [${theirs.join(', ')}]`);
    }
  }
  for (const key of Object.keys(peer)) {
    if (!byTorch.has(key) && !key.endsWith(`.${NUM_BATCHES_TRACKED}`)) problems.push(`peer "${key}" has no counterpart here`);
  }
  return problems;
}
