/**
 * @module training/techniques/isc
 * Inline Subnetwork Collaboration heads (spec §2): exit 1 is Linear(C_1 -> N) on f_1; exit k >= 2
 * reads concat[f_k, ReLU(BN1d(Linear(z_{k-1})))], i.e. the previous exit's (ISC) logits, with no
 * detach unless asked for as an ablation.
 */
import type { GraphOps } from '../models/graph-ops.js';
import type { BatchNormLayer, LinearLayer, ParameterStore } from '../models/layers.js';

/** Linear(N -> C_k) -> BN1d(C_k) -> ReLU, applied to exit k-1's logits. */
export interface IscLink {
  linear: LinearLayer;
  bn: BatchNormLayer;
}

export interface IscHeads {
  /** One classifier per exit: Linear(C_1 -> N), then Linear(2 C_k -> N). */
  classifiers: LinearLayer[];
  /** links[k - 1] feeds exit k (k >= 1, 0-based), K - 1 in all. */
  links: IscLink[];
  detach: boolean;
  /** False: no links, each exit is a new Linear head on f_k alone (an ablation). */
  linked: boolean;
}

/**
 * Creates the ISC heads for exits with the given feature widths (all new parameters use
 * PyTorch's default initialisation, as the reference's new modules do).
 */
export function buildIscHeads(
  store: ParameterStore,
  featureWidths: readonly number[],
  numClasses: number,
  detach: boolean,
  linked = true,
): IscHeads {
  const classifiers: LinearLayer[] = [];
  const links: IscLink[] = [];
  featureWidths.forEach((width, k) => {
    if (k > 0 && linked) {
      links.push({
        linear: store.linear(`isc${k + 1}.link.linear`, 'isc-heads', numClasses, width, 'torch-default'),
        bn: store.batchNorm(`isc${k + 1}.link.bn`, 'isc-heads', width),
      });
    }
    classifiers.push(store.linear(`isc${k + 1}.classifier`, 'isc-heads', k === 0 || !linked ? width : 2 * width, numClasses, 'torch-default'));
  });
  return { classifiers, links, detach, linked };
}

/** Logits of exit `k` (0-based) from its feature and, for k >= 1, the previous exit's logits. */
export function applyIscExit<T>(ops: GraphOps<T>, heads: IscHeads, k: number, feature: T, previousLogits?: T): T {
  const classifier = heads.classifiers[k]!;
  if (k === 0 || !heads.linked) return ops.linear(classifier, feature);
  if (previousLogits === undefined) throw new Error(`ISC exit ${k + 1}: the previous exit's logits are required.`);
  const link = heads.links[k - 1]!;
  const source = heads.detach ? ops.scaleGradient(previousLogits, 0) : previousLogits;
  const transformed = ops.batchNormRelu(link.bn, ops.linear(link.linear, source));
  return ops.linear(classifier, ops.concat([feature, transformed]));
}
