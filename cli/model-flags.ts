/**
 * @module cli/model-flags
 * The architecture flags shared by every command that builds a model (`model`, later `train`),
 * and their translation to an MSDNet configuration.
 */
import type { Command } from 'commander';
import { DEFAULT_MSDNET_CONFIG, HEAD_TYPES, STEP_MODES, type MsdNetConfig } from '../training/models/index.js';
import { choiceFlag, inputShapeFlag, intFlag, intListFlag, numberFlag } from './parse-flags.js';

/** Configuration field to the flag that sets it, so validation errors can name the flag. */
export const FLAG_FOR_FIELD: Readonly<Record<keyof MsdNetConfig, string>> = Object.freeze({
  nBlocks: '--blocks',
  base: '--base',
  step: '--step',
  stepMode: '--step-mode',
  nChannels: '--channels',
  growthRate: '--growth-rate',
  grFactor: '--gr-factor',
  bnFactor: '--bn-factor',
  reduction: '--reduction',
  bottleneck: '--no-bottleneck',
  numClasses: '--classes',
  inputSize: '--input',
  inputChannels: '--input',
  head: '--head',
});

export interface ModelFlagValues {
  blocks?: number;
  base?: number;
  step?: number;
  stepMode?: MsdNetConfig['stepMode'];
  channels?: number;
  growthRate?: number;
  grFactor?: number[];
  bnFactor?: number[];
  reduction?: number;
  bottleneck?: boolean;
  classes?: number;
  input?: { size: [number, number]; channels: number };
  head?: MsdNetConfig['head'];
}

/** Adds the architecture flags (defaults: the CIFAR-10 7-exit anytime MSDNet). */
export function addModelFlags(cmd: Command): Command {
  const d = DEFAULT_MSDNET_CONFIG;
  return cmd
    .option('--blocks <n>', `number of blocks = exits K (default ${d.nBlocks})`, intFlag('--blocks'))
    .option('--base <n>', `layers in the first block (default ${d.base})`, intFlag('--base'))
    .option('--step <n>', `layer step between blocks (default ${d.step})`, intFlag('--step'))
    .option('--step-mode <mode>', `${STEP_MODES.join(' | ')} (default ${d.stepMode})`, choiceFlag('--step-mode', STEP_MODES))
    .option('--channels <n>', `channels of the first layer (default ${d.nChannels})`, intFlag('--channels'))
    .option('--growth-rate <n>', `growth rate (default ${d.growthRate})`, intFlag('--growth-rate'))
    .option('--gr-factor <list>', `channel factor per scale (default ${d.grFactor.join('-')})`, intListFlag('--gr-factor'))
    .option('--bn-factor <list>', `bottleneck factor per scale (default ${d.bnFactor.join('-')})`, intListFlag('--bn-factor'))
    .option('--reduction <r>', `transition compression (default ${d.reduction})`, numberFlag('--reduction', 0, 1))
    .option('--no-bottleneck', 'no 1x1 bottleneck convolutions')
    .option('--classes <n>', `number of classes (default ${d.numClasses})`, intFlag('--classes', 2))
    .option('--input <HxWxC>', `input shape (default ${d.inputSize.join('x')}x${d.inputChannels})`, inputShapeFlag('--input'))
    .option('--head <type>', `stem and classifier heads: ${HEAD_TYPES.join(' | ')} (default ${d.head})`, choiceFlag('--head', HEAD_TYPES));
}

/** The configuration the flags describe (not yet validated across fields). */
export function msdnetFromFlags(f: ModelFlagValues, base: MsdNetConfig = DEFAULT_MSDNET_CONFIG): MsdNetConfig {
  return {
    nBlocks: f.blocks ?? base.nBlocks,
    base: f.base ?? base.base,
    step: f.step ?? base.step,
    stepMode: f.stepMode ?? base.stepMode,
    nChannels: f.channels ?? base.nChannels,
    growthRate: f.growthRate ?? base.growthRate,
    grFactor: f.grFactor ?? base.grFactor,
    bnFactor: f.bnFactor ?? base.bnFactor,
    reduction: f.reduction ?? base.reduction,
    bottleneck: f.bottleneck ?? base.bottleneck,
    numClasses: f.classes ?? base.numClasses,
    inputSize: f.input?.size ?? base.inputSize,
    inputChannels: f.input?.channels ?? base.inputChannels,
    head: f.head ?? base.head,
  };
}

/** Rewrites `msdnet.<field>` in a validation message as the flag that sets the field. */
export function withFlagNames(message: string): string {
  return message.replace(/\bmsdnet\.(\w+)/g, (whole, field: string) => {
    const flag = FLAG_FOR_FIELD[field as keyof MsdNetConfig];
    return flag ? `${flag} (${whole})` : whole;
  });
}
