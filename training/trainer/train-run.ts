/**
 * @module training/trainer/train-run
 * A whole training run in a run directory: the recipe's stages in order (stage 1, then stage 2
 * for IMTA; or the joint variant), the validation split, and the final model. Re-running on the
 * same directory resumes where it stopped.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadValidationSplit, saveValidationSplit, splitValidation, type ValidationSplit } from '../../datasets/index.js';
import { stage1Config, type ModelConfig } from '../models/config.js';
import { exitCosts } from '../models/cost.js';
import { MultiExitModel } from '../models/multi-exit-model.js';
import { loadModel, saveModel, toStage2Model } from '../models/weights.js';
import type { ObjectiveOptions } from '../objective.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { collectExitLogits, exitAccuracies } from './exit-outputs.js';
import { loadRunData } from './load-datasets.js';
import { runStage, STAGE_FINAL, stageDone, type EpochRecord } from './run-stage.js';
import { parseTrainConfig, type TrainConfig } from './train-config.js';
import { checkWarmStartSource, loadWarmStart, warmStartModelDir } from './warm-start.js';
import { packageVersion } from '../../runtime/node/package-files.js';

export const RUN_FILE = 'run.json';
export const SPLIT_FILE = 'split.json';
export const RESULT_FILE = 'result.json';
/** The run's final model (what evaluation and export read). */
export const RUN_MODEL_DIR = 'model';


export interface TrainRunOptions {
  log?: (line: string) => void;
  progress?: boolean;
  onEpochEnd?: (record: EpochRecord) => void;
  /** Seconds between checkpoints inside an epoch (0: epoch ends only). @defaultValue 300 */
  checkpointEverySeconds?: number;
}

export interface TrainRunResult {
  runDir: string;
  testTop1: number[];
  mflops: number[];
  seconds: number;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The split of a new run: a warm start keeps its init run's split (its weights never saw those
 * images), so that split must have this run's size; otherwise a fresh seeded one.
 */
async function newSplit(cfg: TrainConfig, count: number): Promise<ValidationSplit> {
  if (cfg.initFrom === undefined) return splitValidation(count, cfg.valSize, cfg.seed);
  await checkWarmStartSource(cfg.initFrom);
  const initSplit = join(cfg.initFrom, SPLIT_FILE);
  if (!(await exists(initSplit))) {
    // Without a split there, its weights saw every training image: none could be held out now.
    throw new Error(`initFrom ${cfg.initFrom}: that run held out no validation images (no ${SPLIT_FILE}); a warm start from it needs valSize 0 (--val-size 0).`);
  }
  const split = await loadValidationSplit(initSplit, count);
  if (split.valSize !== cfg.valSize) {
    throw new Error(`initFrom ${cfg.initFrom}: its validation split holds ${split.valSize} images, this run's valSize is ${cfg.valSize}; use the same size.`);
  }
  return split;
}

/** Reads the configuration stored in a run directory. */
export async function readRunConfig(runDir: string): Promise<TrainConfig> {
  const path = join(runDir, RUN_FILE);
  let raw: { config?: unknown };
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as { config?: unknown };
  } catch (err) {
    throw new Error(`${path}: not a training run (${(err as Error).message}).`);
  }
  return parseTrainConfig(raw.config, `${path}: config`);
}

/**
 * Trains (or resumes) the run in `runDir`. A new directory needs `config`; an existing one uses
 * its stored configuration, and `config`, if given, must equal it.
 */
export async function trainRun(runDir: string, config: TrainConfig | undefined, options: TrainRunOptions = {}): Promise<TrainRunResult> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  let cfg: TrainConfig;
  if (await exists(join(runDir, RUN_FILE))) {
    cfg = await readRunConfig(runDir);
    if (config && JSON.stringify(config) !== JSON.stringify(cfg)) {
      throw new Error(`${runDir}: already holds a run with another configuration; resume it with --resume, or choose a new --out.`);
    }
  } else {
    if (!config) throw new Error(`${runDir}: no ${RUN_FILE} to resume from.`);
    cfg = parseTrainConfig(config);
    await mkdir(runDir, { recursive: true });
    await writeFileAtomic(join(runDir, RUN_FILE), JSON.stringify({ tool: 'adaptive-exit', version: packageVersion, createdAt: new Date().toISOString(), config: cfg }, null, 2));
  }

  const data = await loadRunData(cfg);
  log(`data: ${data.train.count} training and ${data.test.count} test images from ${data.dir}`);
  const splitPath = join(runDir, SPLIT_FILE);
  let trainIndices: Int32Array;
  if (cfg.valSize > 0) {
    const split = (await exists(splitPath))
      ? await loadValidationSplit(splitPath, data.train.count)
      : await newSplit(cfg, data.train.count);
    if (!(await exists(splitPath))) await saveValidationSplit(splitPath, split);
    trainIndices = split.train;
  } else {
    trainIndices = Int32Array.from({ length: data.train.count }, (_, i) => i);
  }
  if (cfg.limitTrain > 0) trainIndices = trainIndices.subarray(0, cfg.limitTrain);
  const testIndices = cfg.limitTest > 0 ? Int32Array.from({ length: Math.min(cfg.limitTest, data.test.count) }, (_, i) => i) : undefined;

  const common = {
    config: cfg,
    train: data.train,
    trainIndices,
    test: data.test,
    testIndices,
    normalization: data.normalization,
    log,
    progress: options.progress ?? false,
    onEpochEnd: options.onEpochEnd,
    checkpointEverySeconds: options.checkpointEverySeconds,
  };
  const kd = { temperature: cfg.temperature, gamma: cfg.gamma, reduction: cfg.kdReduction };

  const runStageOrLoad = async (name: string, make: () => Promise<MultiExitModel>, objective: ObjectiveOptions, epochs: number, seed: number) => {
    const dir = join(runDir, name);
    if (await stageDone(dir)) {
      log(`${name}: already trained, loading ${join(dir, STAGE_FINAL)}`);
      return loadModel(join(dir, STAGE_FINAL));
    }
    const model = await make();
    await runStage({ ...common, name, dir, model, objective, epochs, seed });
    return model;
  };

  let final: MultiExitModel;
  if (cfg.recipe === 'joint') {
    const config: ModelConfig = { msdnet: cfg.model, ge: cfg.ge, linearHeads: false, iscHeads: true, iscDetach: cfg.iscDetach, iscLinks: cfg.isc };
    final = await runStageOrLoad('joint', async () => MultiExitModel.create(config, cfg.seed), { objective: 'joint', kd, distill: cfg.kd }, cfg.epochs, cfg.seed);
  } else {
    const stage1 = await runStageOrLoad(
      'stage1',
      async () => {
        if (cfg.initFrom === undefined) return MultiExitModel.create(stage1Config(cfg.model, cfg.ge), cfg.seed);
        log(`stage1: warm start from ${warmStartModelDir(cfg.initFrom)}`);
        return loadWarmStart(runDir, cfg.initFrom, stage1Config(cfg.model, cfg.ge));
      },
      { objective: 'stage1' },
      cfg.epochs,
      cfg.seed,
    );
    if (cfg.recipe === 'stage1') {
      final = stage1;
    } else {
      final = await runStageOrLoad(
        'stage2',
        async () => toStage2Model(stage1, { detach: cfg.iscDetach, links: cfg.isc, seed: cfg.seed + 1 }),
        { objective: 'stage2', kd, distill: cfg.kd, frozenBn: cfg.frozenBn },
        cfg.stage2Epochs,
        cfg.seed + 1,
      );
      stage1.dispose();
    }
  }
  await saveModel(final, join(runDir, RUN_MODEL_DIR));
  const testTop1 = exitAccuracies(await collectExitLogits(final, data.test, data.normalization, { indices: testIndices }));
  const mflops = exitCosts(final).map((c) => c.mflops);
  final.dispose();
  const seconds = (performance.now() - started) / 1000;
  const result = { testTop1, mflops, testImages: testIndices?.length ?? data.test.count, seconds };
  await writeFile(join(runDir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
  log(`test top-1 per exit: ${testTop1.map((a, k) => `exit ${k + 1} ${a.toFixed(2)}% @ ${mflops[k]!.toFixed(2)} MFLOPs`).join(', ')}`);
  return { runDir, testTop1, mflops, seconds };
}
