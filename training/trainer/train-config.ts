/**
 * @module training/trainer/train-config
 * Everything a training run needs, as one validated object (from flags or a JSON file), with
 * per-dataset defaults. Stored in the run directory so that resume, evaluation and export read
 * the same settings.
 */
import { z } from 'zod';
import { DATASET_NAMES, type DatasetName } from '../../datasets/dataset-names.js';
import { formatIssues, ConfigError, MsdNetConfigSchema, DEFAULT_MSDNET_CONFIG, type MsdNetConfig, parseMsdNetConfig } from '../models/config.js';
import { KD_REDUCTIONS } from '../techniques/ofa-kd.js';
import { FROZEN_BN_MODES } from '../objective.js';

/** The datasets a run trains on: the command line's names (datasets/dataset-names.ts). */
export const DATASETS = DATASET_NAMES;
export type { DatasetName };

/**
 * Training recipes: `imta` is the paper's two-stage recipe (stage 1 with GE, then ISC + OFA-KD
 * over the frozen network); `stage1` trains only the first stage (plain MSDNet or + GE); `joint`
 * trains one model with GE, ISC and OFA-KD at once. The stage-2 ablations are switches
 * (`isc: false`: new Linear heads without links; `kd: false`: cross-entropy only).
 */
export const RECIPES = Object.freeze(['stage1', 'imta', 'joint'] as const);
export type Recipe = (typeof RECIPES)[number];

export const LR_SCHEDULES = Object.freeze(['multistep', 'cosine'] as const);

const positive = z.number().positive();

export const TrainConfigSchema = z
  .object({
    dataset: z.enum(DATASETS),
    /** Dataset directory (folder datasets: with train/ and test/ subfolders of class folders). */
    data: z.string().min(1).optional(),
    /** Held-out validation images taken from the training set (0: none). */
    valSize: z.number().int().nonnegative(),
    /** Use only the first N training images (after the validation split); 0: all. */
    limitTrain: z.number().int().nonnegative(),
    /** Use only the first N test images; 0: all. */
    limitTest: z.number().int().nonnegative(),
    model: MsdNetConfigSchema,
    recipe: z.enum(RECIPES),
    /** Gradient Equilibrium in stage 1 (and in the joint variant). */
    ge: z.boolean(),
    /** Stage 2 / joint: ISC heads (false: new Linear heads, the OFA-KD-only ablation). */
    isc: z.boolean(),
    /** Stage 2 / joint: OFA-KD (false: CE only, the ISC-only ablation). */
    kd: z.boolean(),
    iscDetach: z.boolean(),
    frozenBn: z.enum(FROZEN_BN_MODES),
    temperature: positive,
    gamma: z.number().min(0).max(1),
    kdReduction: z.enum(KD_REDUCTIONS),
    epochs: z.number().int().positive(),
    /** Epochs of stage 2 (imta recipe). */
    stage2Epochs: z.number().int().positive(),
    batchSize: z.number().int().positive(),
    lr: positive,
    momentum: z.number().min(0).lt(1),
    weightDecay: z.number().nonnegative(),
    nesterov: z.boolean(),
    schedule: z.enum(LR_SCHEDULES),
    augment: z.boolean(),
    seed: z.number().int().nonnegative(),
    /** Test-set evaluation after every epoch (per-exit accuracy in the log). */
    evalEveryEpoch: z.boolean(),
    /**
     * Warm start: another run directory whose stage-1 weights (same architecture) start this run's
     * stage 1, which then trains them on its own schedule (a warm restart); its validation split
     * is kept, so held-out images stay held out.
     */
    initFrom: z.string().min(1).optional(),
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** Model defaults per dataset: classes and input shape. */
export function datasetModelDefaults(dataset: DatasetName): Partial<MsdNetConfig> {
  switch (dataset) {
    case 'cifar10':
      return { numClasses: 10, inputSize: [32, 32], inputChannels: 3 };
    case 'cifar100':
      return { numClasses: 100, inputSize: [32, 32], inputChannels: 3 };
    case 'fashion-mnist':
      return { numClasses: 10, inputSize: [28, 28], inputChannels: 1 };
    case 'folder':
      return {};
  }
}

/** Defaults of spec §4 (SGD 0.1, momentum 0.9, wd 1e-4, batch 64, multistep) and §3 (T 3, γ 0.9). */
export function defaultTrainConfig(dataset: DatasetName): TrainConfig {
  return {
    dataset,
    // Spec §4.3: the last 5,000 images of a seeded permutation (used for every dataset here).
    valSize: 5000,
    limitTrain: 0,
    limitTest: 0,
    model: { ...DEFAULT_MSDNET_CONFIG, ...datasetModelDefaults(dataset) },
    recipe: 'imta',
    ge: true,
    isc: true,
    kd: true,
    iscDetach: false,
    frozenBn: 'batch',
    temperature: 3,
    gamma: 0.9,
    kdReduction: 'elementwise-mean',
    epochs: 300,
    stage2Epochs: 300,
    batchSize: 64,
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 1e-4,
    nesterov: false,
    schedule: 'multistep',
    augment: true,
    seed: 0,
    evalEveryEpoch: true,
  };
}

/**
 * Validates a full configuration.
 * @throws ConfigError naming each bad field.
 */
export function parseTrainConfig(value: unknown, root = 'config'): TrainConfig {
  const parsed = TrainConfigSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, root));
  const c = parsed.data;
  parseMsdNetConfig(c.model, `${root}.model`);
  if (c.dataset === 'folder' && !c.data) throw new ConfigError(`${root}.data: expected a directory for the folder dataset, got none.`);
  if (c.initFrom !== undefined && c.recipe === 'joint') {
    throw new ConfigError(`${root}.initFrom: a warm start continues stage 1; expected the imta or stage1 recipe, got joint.`);
  }
  if (c.recipe === 'joint' && !c.isc) throw new ConfigError(`${root}.isc: the joint recipe trains ISC heads; expected true, got false.`);
  return c;
}
