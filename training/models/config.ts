/**
 * @module training/models/config
 * The model configuration: its schema (zod), defaults (the CIFAR-10 7-exit anytime MSDNet of
 * spec §5.6), the derived layout (layers per block, scale pruning) and checks that name the field.
 */
import { z } from 'zod';

/** Step modes of spec §5.1: how many layers each block gets. */
export const STEP_MODES = Object.freeze(['even', 'lin_grow'] as const);
/** Stem and classifier-head families of spec §5.2 and §5.5. */
export const HEAD_TYPES = Object.freeze(['cifar', 'imagenet'] as const);

const positiveInt = z.number().int().positive();

/** The MSDNet backbone, spec §5. Field names follow the reference flags. */
export const MsdNetConfigSchema = z
  .object({
    nBlocks: positiveInt.describe('number of blocks = number of exits K'),
    base: positiveInt.describe('layers in the first block'),
    step: positiveInt.describe('layer step between blocks'),
    stepMode: z.enum(STEP_MODES),
    nChannels: positiveInt.describe('channels of the first layer at scale 0'),
    growthRate: positiveInt,
    grFactor: z.array(positiveInt).min(1).describe('channel multiplier per scale; its length is the number of scales'),
    bnFactor: z.array(positiveInt).min(1).describe('bottleneck width factor per scale'),
    reduction: z.number().gt(0).lte(1),
    bottleneck: z.boolean(),
    numClasses: z.number().int().min(2),
    inputSize: z.tuple([positiveInt, positiveInt]).describe('[height, width]'),
    inputChannels: positiveInt,
    head: z.enum(HEAD_TYPES),
  })
  .strict();
export type MsdNetConfig = z.infer<typeof MsdNetConfigSchema>;

/** Which heads a model carries and whether Gradient Equilibrium is in its forward graph. */
export const ModelConfigSchema = z
  .object({
    msdnet: MsdNetConfigSchema,
    /** Gradient Equilibrium (spec §1) on the coarsest-scale tensor. */
    ge: z.boolean(),
    /** The MSDNet Linear classifiers (stage 1; kept frozen in stage 2 as the KD teacher). */
    linearHeads: z.boolean(),
    /** Inline Subnetwork Collaboration heads (spec §2); when present they are the exits. */
    iscHeads: z.boolean(),
    /** Ablation knob: stop gradients through the ISC link from exit k-1 into exit k. */
    iscDetach: z.boolean(),
    /**
     * Whether the new heads are linked (ISC proper). Without links they are plain new Linear
     * heads on f_k: the "stage 2 with OFA-KD only" ablation. @defaultValue true
     */
    iscLinks: z.boolean().default(true),
  })
  .strict()
  .refine((c) => c.linearHeads || c.iscHeads, {
    message: 'a model needs linearHeads or iscHeads (or both)',
    path: ['linearHeads'],
  });
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** CIFAR-10 7-exit anytime MSDNet (spec §5.6): the default of every command. */
export const DEFAULT_MSDNET_CONFIG: MsdNetConfig = Object.freeze({
  nBlocks: 7,
  base: 4,
  step: 2,
  stepMode: 'even',
  nChannels: 16,
  growthRate: 6,
  grFactor: [1, 2, 4],
  bnFactor: [1, 2, 4],
  reduction: 0.5,
  bottleneck: true,
  numClasses: 10,
  inputSize: [32, 32],
  inputChannels: 3,
  head: 'cifar',
}) as MsdNetConfig;

/** A configuration problem; the message names every bad field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Formats zod issues as `path: message` lines so a user sees which field is wrong.
 * @internal
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

/** Layers per block, spec §5.1. */
export function blockSteps(c: Pick<MsdNetConfig, 'nBlocks' | 'base' | 'step' | 'stepMode'>): number[] {
  const steps = [c.base];
  for (let i = 1; i < c.nBlocks; i++) steps.push(c.stepMode === 'even' ? c.step : c.step * i + 1);
  return steps;
}

/** Input and output scale counts of global layer n (1-based) under `prune=max`, spec §5.4. */
export function layerScales(n: number, totalLayers: number, nScales: number): { inScales: number; outScales: number } {
  const interval = Math.ceil(totalLayers / nScales);
  return {
    inScales: nScales - Math.floor(Math.max(0, n - 2) / interval),
    outScales: nScales - Math.floor((n - 1) / interval),
  };
}

/** Spatial size after a k x k convolution or pool with the given stride and padding. */
export function convOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Spatial size of every scale produced by the first layer, spec §5.2. */
export function scaleSizes(c: MsdNetConfig): Array<[number, number]> {
  let [h, w] = c.inputSize;
  if (c.head === 'imagenet') {
    h = convOutSize(convOutSize(h, 7, 2, 3), 3, 2, 1);
    w = convOutSize(convOutSize(w, 7, 2, 3), 3, 2, 1);
  }
  const sizes: Array<[number, number]> = [[h, w]];
  for (let s = 1; s < c.grFactor.length; s++) {
    h = convOutSize(h, 3, 2, 1);
    w = convOutSize(w, 3, 2, 1);
    sizes.push([h, w]);
  }
  return sizes;
}

/** Checks that need more than one field; each message names the field. */
function crossFieldProblems(c: MsdNetConfig, root: string): string[] {
  const problems: string[] = [];
  if (c.bnFactor.length !== c.grFactor.length) {
    problems.push(
      `${root}.bnFactor: expected ${c.grFactor.length} values (one per scale, as grFactor), got ${c.bnFactor.length}.`,
    );
  }
  const sizes = scaleSizes(c);
  const coarsest = sizes[sizes.length - 1]!;
  if (coarsest[0] < 2 || coarsest[1] < 2) {
    problems.push(
      `${root}.inputSize: expected an input large enough for ${c.grFactor.length} scales ` +
        `(coarsest scale at least 2x2), got ${c.inputSize.join('x')} (coarsest ${coarsest.join('x')}).`,
    );
  }
  for (let s = 1; s < c.grFactor.length; s++) {
    if ((c.growthRate * c.grFactor[s]!) % 2 !== 0) {
      problems.push(
        `${root}.growthRate: expected growthRate x grFactor[${s}] to be even (ConvDownNormal splits it in two), got ${c.growthRate} x ${c.grFactor[s]}.`,
      );
    }
  }
  return problems;
}

/**
 * Validates an MSDNet configuration, filling nothing in.
 * @throws ConfigError naming each bad field.
 */
export function parseMsdNetConfig(value: unknown, root = 'msdnet'): MsdNetConfig {
  const parsed = MsdNetConfigSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, root));
  const problems = crossFieldProblems(parsed.data, root);
  if (problems.length > 0) throw new ConfigError(problems.join(' '));
  return parsed.data;
}

/**
 * Validates a whole model configuration.
 * @throws ConfigError naming each bad field.
 */
export function parseModelConfig(value: unknown, root = 'config'): ModelConfig {
  const parsed = ModelConfigSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, root));
  parseMsdNetConfig(parsed.data.msdnet, `${root}.msdnet`);
  return parsed.data;
}

/** A stage-1 (plain or GE) model configuration around an MSDNet. */
export function stage1Config(msdnet: MsdNetConfig, ge: boolean): ModelConfig {
  return { msdnet, ge, linearHeads: true, iscHeads: false, iscDetach: false, iscLinks: true };
}
