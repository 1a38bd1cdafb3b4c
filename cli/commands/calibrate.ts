/**
 * @module cli/commands/calibrate
 * `adaptive-exit calibrate MODEL_DIR --dataset NAME`: the budgeted-batch threshold table (spec
 * §6.2) and default policy of any model directory (imported or exported), measured on labelled
 * images and written into its manifest. The runtime and datasets are loaded when it runs.
 */
import { Command, InvalidArgumentError } from 'commander';
import { EXIT_CRITERIA } from '../../manifest/schema.js';
import { parsedCommandLine } from '../command-line.js';
import { addDatasetFlags } from '../dataset-flags.js';
import { choiceFlag, intFlag, numberFlag } from '../parse-flags.js';
import type { DatasetName } from '../../datasets/dataset-names.js';

const SPLITS = ['test', 'train'] as const;

/** Comma-separated positive numbers (exit-distribution parameters p). */
function psFlag(value: string): number[] {
  const parse = numberFlag('--ps', Number.MIN_VALUE);
  const ps = value.split(',').map((v) => parse(v.trim()));
  if (ps.length === 0) throw new InvalidArgumentError(`--ps: expected positive numbers separated by commas, got "${value}".`);
  return ps;
}

interface CalibrateFlags {
  dataset?: DatasetName;
  data?: string;
  split?: (typeof SPLITS)[number];
  criterion?: (typeof EXIT_CRITERIA)[number];
  ps?: number[];
  limit?: number;
  batchSize?: number;
  progress: boolean;
}

export function calibrateCommand(): Command {
  const cmd = addDatasetFlags(
    new Command('calibrate')
      .description("measure a model's exit thresholds on labelled images (budgeted batch) and write them and the default policy into its manifest")
      .argument('<model>', 'model directory (from `adaptive-exit import` or `export`)'),
    'dataset directory (defaults: CIFAR-10 from `adaptive-exit data cifar10`, Fashion-MNIST from Debian); for folder: one subfolder per class, named as the model\'s classes',
  )
    .option('--split <split>', `${SPLITS.join(' | ')} of a built-in dataset (default test)`, choiceFlag('--split', SPLITS))
    .option('--criterion <c>', `exit confidence: ${EXIT_CRITERIA.join(' | ')} (default: the manifest's)`, choiceFlag('--criterion', EXIT_CRITERIA))
    .option('--ps <list>', 'exit-distribution parameters p, comma-separated (default 0.05, 0.10, … 2.00)', psFlag)
    .option('--limit <n>', 'use the first N images only', intFlag('--limit'))
    .option('--batch-size <n>', 'samples per engine call (default 256)', intFlag('--batch-size'))
    .option('--no-progress', 'no progress lines');
  cmd.action(async (dir: string, opts: CalibrateFlags, command: Command) => {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    if (!opts.dataset) throw new Error('calibrate: expected --dataset (cifar10, cifar100, fashion-mnist, or folder with --data DIR).');
    if (opts.dataset === 'folder' && opts.split) throw new Error('calibrate: --split applies to the built-in datasets; a folder is read as it is.');
    const [{ readDatasetSplit }, { calibrateModelDir }, { readManifest }] = await Promise.all([
      import('../../datasets/named-dataset.js'),
      import('../../runtime/node/index.js'),
      import('../../manifest/index.js'),
    ]);
    const before = await readManifest(dir);
    const pre = before.preprocessing;
    const image = pre ? { height: pre.resize.height, width: pre.resize.width, channels: (pre.channelOrder === 'GRAY' ? 1 : 3) as 1 | 3, fit: pre.resize.fit } : undefined;
    let data = await readDatasetSplit(opts.dataset, { split: opts.split ?? 'test', dir: opts.data, image });
    if (opts.limit !== undefined && opts.limit < data.count) {
      const per = data.height * data.width * data.channels;
      data = { ...data, count: opts.limit, images: data.images.subarray(0, opts.limit * per), labels: data.labels.subarray(0, opts.limit) };
    }
    log(`calibrating ${dir} on ${data.count} ${opts.dataset} images (every exit runs on every image)`);
    let last = 0;
    const onProgress = opts.progress
      ? (done: number, total: number) => {
          const now = Date.now();
          if (done === total || now - last > 1000) {
            last = now;
            log(`  ${done}/${total} images`);
          }
        }
      : undefined;
    const { manifest, result } = await calibrateModelDir(dir, data, opts.dataset === 'folder', {
      criterion: opts.criterion,
      ps: opts.ps,
      batchSize: opts.batchSize,
      command: parsedCommandLine(command),
      onProgress,
      log,
    });
    const d = manifest.exitPolicy.default;
    log(`wrote ${dir}/manifest.json: ${manifest.calibration.points.length} calibration points (${manifest.calibration.criterion}); default policy ${d.expectedMflops.toFixed(2)} expected MFLOPs, ${d.valAccuracy?.toFixed(2)}% on these images`);
    process.stdout.write(
      `${JSON.stringify({ model: dir, images: data.count, criterion: manifest.calibration.criterion, exitAccuracy: result.exitAccuracy.map((a) => Number(a.toFixed(2))), defaultPolicy: d, points: manifest.calibration.points.length })}\n`,
    );
  });
  return cmd;
}
