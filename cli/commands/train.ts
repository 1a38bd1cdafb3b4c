/**
 * @module cli/commands/train
 * `adaptive-exit train`: a full training run (IMTA two-stage by default) into a run directory,
 * from flags and/or a JSON configuration file, resumable with `--resume`.
 */
import { Command } from 'commander';
import { selectTrainingBackend, TRAINING_BACKENDS } from '../../training/backend/index.js';
import { FROZEN_BN_MODES } from '../../training/objective.js';
import { KD_REDUCTIONS } from '../../training/techniques/ofa-kd.js';
import {
  LR_SCHEDULES,
  parseTrainConfig,
  RECIPES,
  trainRun,
  type DatasetName,
  type TrainConfig,
} from '../../training/trainer/index.js';
import { configWithDefaults } from '../config-file.js';
import { addDatasetFlags } from '../dataset-flags.js';
import { addModelFlags, msdnetFromFlags, withFlagNames, type ModelFlagValues } from '../model-flags.js';
import { choiceFlag, intFlag, numberFlag } from '../parse-flags.js';

/** Flag (commander attribute) to configuration field, for options that map one to one. */
const DIRECT: ReadonlyArray<[keyof TrainConfig, string]> = [
  ['data', 'data'],
  ['recipe', 'recipe'],
  ['ge', 'ge'],
  ['isc', 'isc'],
  ['kd', 'kd'],
  ['iscDetach', 'iscDetach'],
  ['frozenBn', 'frozenBn'],
  ['temperature', 'temperature'],
  ['gamma', 'gamma'],
  ['kdReduction', 'kdReduction'],
  ['epochs', 'epochs'],
  ['stage2Epochs', 'stage2Epochs'],
  ['batchSize', 'batchSize'],
  ['lr', 'lr'],
  ['momentum', 'momentum'],
  ['weightDecay', 'weightDecay'],
  ['nesterov', 'nesterov'],
  ['schedule', 'schedule'],
  ['augment', 'augment'],
  ['seed', 'seed'],
  ['valSize', 'valSize'],
  ['limitTrain', 'limitTrain'],
  ['limitTest', 'limitTest'],
  ['evalEveryEpoch', 'evalEveryEpoch'],
  ['initFrom', 'initFrom'],
];

const MODEL_ATTRS = ['blocks', 'base', 'step', 'stepMode', 'channels', 'growthRate', 'grFactor', 'bnFactor', 'reduction', 'bottleneck', 'classes', 'input', 'head'];

export function trainCommand(): Command {
  const cmd = addDatasetFlags(
    new Command('train').description('train a multi-exit MSDNet (IMTA: GE stage 1, then ISC + OFA-KD stage 2) into a run directory'),
    'dataset directory (defaults: CIFAR-10 from `adaptive-exit data cifar10`, Fashion-MNIST from Debian)',
  )
    .option('--out <dir>', 'run directory to create')
    .option('--resume <dir>', 'continue the run in this directory exactly where it stopped')
    .option('--init-from <run>', 'warm start: stage 1 starts from this finished run\'s stage-1 weights and validation split, on its own schedule')
    .option('--config <file>', 'JSON file with any of the settings below (flags override it)')
    .option('--recipe <name>', `${RECIPES.join(' | ')} (default imta)`, choiceFlag('--recipe', RECIPES))
    .option('--no-ge', 'stage 1 without Gradient Equilibrium')
    .option('--no-isc', 'stage 2 / joint: new Linear heads without ISC links')
    .option('--no-kd', 'stage 2 / joint: cross-entropy only, no OFA-KD')
    .option('--isc-detach', 'stop gradients through the ISC links (ablation)')
    .option('--frozen-bn <mode>', `stage 2 frozen BatchNorm: ${FROZEN_BN_MODES.join(' | ')} (default batch, as the reference)`, choiceFlag('--frozen-bn', FROZEN_BN_MODES))
    .option('--temperature <T>', 'OFA-KD temperature (default 3)', numberFlag('--temperature', Number.MIN_VALUE))
    .option('--gamma <g>', 'OFA-KD weight (default 0.9)', numberFlag('--gamma', 0, 1))
    .option('--kd-reduction <r>', `${KD_REDUCTIONS.join(' | ')} (default elementwise-mean, the reference's)`, choiceFlag('--kd-reduction', KD_REDUCTIONS))
    .option('--epochs <n>', 'epochs of stage 1 / joint (default 300)', intFlag('--epochs'))
    .option('--stage2-epochs <n>', 'epochs of stage 2 (default 300)', intFlag('--stage2-epochs'))
    .option('--batch-size <n>', 'batch size (default 64)', intFlag('--batch-size'))
    .option('--lr <lr>', 'initial learning rate (default 0.1)', numberFlag('--lr', Number.MIN_VALUE))
    .option('--momentum <m>', 'SGD momentum (default 0.9)', numberFlag('--momentum', 0, 0.999999))
    .option('--weight-decay <wd>', 'weight decay (default 1e-4)', numberFlag('--weight-decay', 0))
    .option('--nesterov', 'Nesterov momentum')
    .option('--schedule <s>', `${LR_SCHEDULES.join(' | ')} (default multistep: x0.1 at 50% and 75%)`, choiceFlag('--schedule', LR_SCHEDULES))
    .option('--no-augment', 'no random crop / flip')
    .option('--seed <n>', 'seed of weights, split, shuffling and augmentation (default 0)', intFlag('--seed', 0))
    .option('--val-size <n>', 'held-out validation images (default 5000)', intFlag('--val-size', 0))
    .option('--limit-train <n>', 'train on the first N training images only', intFlag('--limit-train', 0))
    .option('--limit-test <n>', 'evaluate on the first N test images only', intFlag('--limit-test', 0))
    .option('--no-eval-every-epoch', 'evaluate on the test set only after the last epoch')
    .option('--backend <name>', `${TRAINING_BACKENDS.join(' | ')}`, choiceFlag('--backend', TRAINING_BACKENDS))
    .option('--threads <n>', 'WASM threads (default: all cores)', intFlag('--threads'))
    .option('--checkpoint-every <seconds>', 'seconds between checkpoints inside an epoch (0: at epoch ends only; default 300)', numberFlag('--checkpoint-every', 0))
    .option('--no-progress', 'no progress bar');
  addModelFlags(cmd);
  cmd.action(async (opts: Record<string, unknown> & ModelFlagValues) => {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const runDir = (opts.resume ?? opts.out) as string | undefined;
    if (!runDir) throw new Error('train: expected --out RUN_DIR (a new run) or --resume RUN_DIR, got neither.');
    if (opts.resume && opts.out) throw new Error('train: expected --out or --resume, got both.');
    let config: TrainConfig | undefined;
    if (!opts.resume) {
      const merged = await configWithDefaults(opts.config as string | undefined, opts.dataset as DatasetName | undefined, 'train');
      for (const [field, attr] of DIRECT) {
        if (cmd.getOptionValueSource(attr) === 'cli') merged[field] = opts[attr];
      }
      const modelFlags = Object.fromEntries(MODEL_ATTRS.filter((a) => cmd.getOptionValueSource(a) === 'cli').map((a) => [a, opts[a as keyof typeof opts]]));
      merged.model = msdnetFromFlags(modelFlags as ModelFlagValues, merged.model as TrainConfig['model']);
      try {
        config = parseTrainConfig(merged);
      } catch (err) {
        throw new Error(withFlagNames((err as Error).message.replace(/\bconfig\.model\./g, 'msdnet.')));
      }
    }
    await selectTrainingBackend({ backend: opts.backend as string | undefined, threads: opts.threads as number | undefined, log });
    const result = await trainRun(runDir, config, { log, progress: opts.progress !== false, checkpointEverySeconds: opts.checkpointEvery as number | undefined });
    process.stdout.write(
      `${JSON.stringify({ run: result.runDir, testTop1: result.testTop1.map((a) => Number(a.toFixed(2))), mflops: result.mflops.map((m) => Number(m.toFixed(2))), seconds: Math.round(result.seconds) })}\n`,
    );
  });
  return cmd;
}
