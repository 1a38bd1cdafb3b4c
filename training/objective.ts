/**
 * @module training/objective
 * The three training objectives and what each trains: stage 1 (Σ CE over exits, GE per the
 * model), stage 2 (frozen stage-1 network, ISC heads trained with OFA-KD against the frozen exit
 * K), and the joint variant (everything trained at once, OFA-KD against the model's own exit K).
 */
import type { Tensor } from './backend/tf.js';
import type { ParamGroup } from './models/layers.js';
import type { MultiExitModel } from './models/multi-exit-model.js';
import { TensorOps } from './models/tensor-ops.js';
import { sumOfExitCrossEntropies } from './techniques/losses.js';
import { DEFAULT_OFA_KD, ofaKdLoss, type OfaKdOptions } from './techniques/ofa-kd.js';

export const OBJECTIVES = Object.freeze(['stage1', 'stage2', 'joint'] as const);
export type Objective = (typeof OBJECTIVES)[number];

/**
 * How the frozen backbone's BatchNorm behaves in stage 2: `batch` uses batch statistics and keeps
 * updating the running ones, as the reference does (model.train() on the whole model); `frozen`
 * uses the stored running statistics.
 */
export const FROZEN_BN_MODES = Object.freeze(['batch', 'frozen'] as const);
export type FrozenBnMode = (typeof FROZEN_BN_MODES)[number];

export interface ObjectiveOptions {
  objective: Objective;
  /** OFA-KD constants (stage 2 and joint). */
  kd?: OfaKdOptions;
  /** Stage 2 / joint without distillation: Σ CE over the exits (an ablation). @defaultValue true */
  distill?: boolean;
  /** Stage 2 only. @defaultValue 'batch' */
  frozenBn?: FrozenBnMode;
}

/** What an objective trains and which BatchNorm layers use batch statistics. */
export interface ObjectivePlan {
  trainGroups: ParamGroup[];
  batchStatsGroups: ParamGroup[];
}

/**
 * Checks that the model has the heads the objective needs and says what it trains.
 * @throws Error naming the missing heads.
 */
export function planObjective(model: MultiExitModel, options: ObjectiveOptions): ObjectivePlan {
  const { linearHeads, iscHeads } = model.config;
  switch (options.objective) {
    case 'stage1':
      if (!linearHeads || iscHeads) throw new Error(`objective "stage1": expected a model with Linear heads only, got linearHeads=${linearHeads}, iscHeads=${iscHeads}.`);
      return { trainGroups: ['backbone', 'linear-heads'], batchStatsGroups: ['backbone', 'linear-heads'] };
    case 'stage2':
      if (!linearHeads || !iscHeads) throw new Error(`objective "stage2": expected a model with Linear (teacher) and ISC heads, got linearHeads=${linearHeads}, iscHeads=${iscHeads}.`);
      return {
        trainGroups: ['isc-heads'],
        batchStatsGroups: (options.frozenBn ?? 'batch') === 'batch' ? ['backbone', 'isc-heads'] : ['isc-heads'],
      };
    case 'joint':
      if (linearHeads || !iscHeads) throw new Error(`objective "joint": expected a model with ISC heads only, got linearHeads=${linearHeads}, iscHeads=${iscHeads}.`);
      return { trainGroups: ['backbone', 'isc-heads'], batchStatsGroups: ['backbone', 'isc-heads'] };
  }
}

export interface LossOutput {
  total: Tensor;
  perExit: Tensor[];
  logits: Tensor[];
}

/** The objective's loss on one batch (call inside a gradient tape). */
export function objectiveLoss(
  model: MultiExitModel,
  ops: TensorOps,
  images: Tensor,
  labels: Tensor,
  options: ObjectiveOptions,
): LossOutput {
  const kd = options.kd ?? DEFAULT_OFA_KD;
  if (options.objective === 'stage1') {
    const { logits } = model.forward(ops, images);
    return { ...sumOfExitCrossEntropies(logits, labels), logits };
  }
  if (options.distill === false) {
    const { logits } = model.forward(ops, images);
    return { ...sumOfExitCrossEntropies(logits, labels), logits };
  }
  const out = model.forward(ops, images, options.objective === 'stage2');
  const teacher = options.objective === 'stage2' ? out.teacherLogits! : out.logits[out.logits.length - 1]!;
  return { ...ofaKdLoss(out.logits, teacher, labels, kd), logits: out.logits };
}

/** Convenience: a TensorOps in training mode for the plan. */
export function trainingOps(plan: ObjectivePlan): TensorOps {
  return new TensorOps({ batchStatsGroups: plan.batchStatsGroups });
}

