/**
 * @module training/trainer/run-stage
 * One training stage: epochs of seeded, augmented batches, a JSONL line and an atomic checkpoint
 * per epoch, resumable from the last checkpoint; the trained model is saved as `final/`.
 */
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../backend/tf.js';
import { epochBatches, SeededRng, type ChannelNormalization, type Uint8Dataset } from '../../datasets/index.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import type { MultiExitModel } from '../models/multi-exit-model.js';
import { saveModel } from '../models/weights.js';
import { planObjective, type ObjectiveOptions } from '../objective.js';
import { Sgd } from '../optim/sgd.js';
import { trainStep } from '../train-step.js';
import { findCheckpoint, loadCheckpoint, saveCheckpoint, type PartialEpoch } from './checkpoint.js';
import { collectExitLogits, exitAccuracies } from './exit-outputs.js';
import { learningRate } from './lr-schedule.js';
import { epochProgress } from './progress.js';
import type { TrainConfig } from './train-config.js';

export const STAGE_LOG = 'log.jsonl';
export const STAGE_FINAL = 'final';
const CHECKPOINT = 'checkpoint';

/** One line of a stage's JSONL log. */
export interface EpochRecord {
  stage: string;
  epoch: number;
  epochs: number;
  lr: number;
  loss: number;
  perExitLoss: number[];
  trainAccuracyLastExit: number;
  testTop1?: number[];
  seconds: number;
  imagesPerSecond: number;
}

export interface StageSpec {
  name: string;
  dir: string;
  model: MultiExitModel;
  objective: ObjectiveOptions;
  epochs: number;
  config: TrainConfig;
  train: Uint8Dataset;
  trainIndices: ArrayLike<number>;
  test: Uint8Dataset;
  testIndices?: ArrayLike<number>;
  normalization: ChannelNormalization;
  seed: number;
  /** Human-readable lines (epoch summaries). */
  log: (line: string) => void;
  /** Show a progress bar. */
  progress: boolean;
  /** Called after each epoch's checkpoint (tests use it to interrupt a run). */
  onEpochEnd?: (record: EpochRecord) => void;
  /** Seconds between checkpoints inside an epoch (0: epoch ends only). @defaultValue 300 */
  checkpointEverySeconds?: number;
  /** Called after each mid-epoch checkpoint with the batches done (tests use it to interrupt a run). */
  onCheckpoint?: (epoch: number, batch: number) => void;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Drops log lines of epochs after the checkpoint (written before a crash, redone on resume). */
async function trimLog(path: string, epochsDone: number): Promise<void> {
  if (!(await exists(path))) return;
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l) as EpochRecord).epoch <= epochsDone;
    } catch {
      return false;
    }
  });
  if (kept.length !== lines.length) await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}

/** Whether the stage already finished (its final model exists). */
export async function stageDone(dir: string): Promise<boolean> {
  return exists(join(dir, STAGE_FINAL, 'model.json'));
}

/**
 * Trains `spec.model` in place for the stage's epochs, resuming from `dir/checkpoint` if present.
 * @throws NonFiniteLossError when the loss diverges (the last checkpoint stays).
 */
export async function runStage(spec: StageSpec): Promise<EpochRecord[]> {
  const { config, model } = spec;
  await mkdir(spec.dir, { recursive: true });
  const plan = planObjective(model, spec.objective);
  const sgd = new Sgd(model.parameters(plan.trainGroups), {
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    nesterov: config.nesterov,
  });
  const rng = new SeededRng(spec.seed);
  const logPath = join(spec.dir, STAGE_LOG);
  let startEpoch = 0;
  let startBatch = 0;
  let partial: PartialEpoch | undefined;
  let step = 0;
  const ckpt = await findCheckpoint(join(spec.dir, CHECKPOINT));
  if (ckpt) {
    const state = await loadCheckpoint(ckpt, model, sgd);
    startEpoch = state.epoch;
    startBatch = state.batch;
    partial = state.partial;
    step = state.step;
    rng.setState(state.rng);
    await trimLog(logPath, startEpoch);
    spec.log(`${spec.name}: resuming ${startBatch > 0 ? `epoch ${startEpoch + 1} of ${spec.epochs} at batch ${startBatch}` : `after epoch ${startEpoch} of ${spec.epochs}`} (step ${step})`);
  }
  const everyMs = (spec.checkpointEverySeconds ?? 300) * 1000;
  const records: EpochRecord[] = [];
  try {
    for (let epoch = startEpoch; epoch < spec.epochs; epoch++) {
      // The state before this epoch's draws: a mid-epoch checkpoint stores it, and resuming
      // replays the same draws, skipping the batches already trained.
      const epochRng = rng.getState();
      const first = epoch === startEpoch ? startBatch : 0;
      const resumed = epoch === startEpoch ? partial : undefined;
      const batches = epochBatches(spec.train, {
        batchSize: config.batchSize,
        normalization: spec.normalization,
        indices: spec.trainIndices,
        shuffle: true,
        augment: config.augment,
        rng,
        startBatch: first,
      });
      const total = first + batches.batchCount;
      const bar = epochProgress(`${spec.name} ${epoch + 1}/${spec.epochs}`, total, spec.progress);
      const started = performance.now() - (resumed?.seconds ?? 0) * 1000;
      let seen = resumed?.seen ?? 0;
      let correct = resumed?.correct ?? 0;
      let lossSum = resumed?.lossSum ?? 0;
      const perExitSum = resumed?.perExitSum.slice() ?? new Array<number>(model.numExits).fill(0);
      let lr = 0;
      let i = first;
      let lastCheckpoint = performance.now();
      for (const batch of batches) {
        lr = learningRate({ schedule: config.schedule, baseLr: config.lr, epochs: spec.epochs, stepsPerEpoch: total }, epoch, i);
        const x = tf.tensor4d(batch.images, batch.shape);
        const y = tf.tensor1d(batch.labels, 'int32');
        let r;
        try {
          r = await trainStep(model, sgd, plan, spec.objective, x, y, lr);
        } finally {
          tf.dispose([x, y]);
        }
        i += 1;
        step += 1;
        seen += batch.size;
        correct += r.lastExitCorrect;
        lossSum += r.loss * batch.size;
        r.perExitLoss.forEach((v, k) => (perExitSum[k]! += v * batch.size));
        const secs = (performance.now() - started) / 1000;
        bar.update(i, { loss: lossSum / seen, acc: (100 * correct) / seen, ips: seen / secs });
        if (everyMs > 0 && i < total && performance.now() - lastCheckpoint >= everyMs) {
          await saveCheckpoint(join(spec.dir, CHECKPOINT), model, sgd, { epoch, batch: i, step, rng: epochRng, partial: { seen, correct, lossSum, perExitSum: perExitSum.slice(), seconds: secs } });
          lastCheckpoint = performance.now();
          spec.onCheckpoint?.(epoch, i);
        }
        // On the CPU backends a step's read resolves without reaching the event loop: yield so
        // timers (the progress bar's redraw without a terminal, signal handlers) get their turn.
        await new Promise((resolve) => setImmediate(resolve));
      }
      bar.stop();
      const seconds = (performance.now() - started) / 1000;
      const last = epoch === spec.epochs - 1;
      const testTop1 =
        config.evalEveryEpoch || last
          ? exitAccuracies(await collectExitLogits(model, spec.test, spec.normalization, { indices: spec.testIndices }))
          : undefined;
      const record: EpochRecord = {
        stage: spec.name,
        epoch: epoch + 1,
        epochs: spec.epochs,
        lr,
        loss: lossSum / seen,
        perExitLoss: perExitSum.map((v) => v / seen),
        trainAccuracyLastExit: (100 * correct) / seen,
        testTop1,
        seconds,
        imagesPerSecond: seen / seconds,
      };
      await appendFile(logPath, `${JSON.stringify(record)}\n`);
      await saveCheckpoint(join(spec.dir, CHECKPOINT), model, sgd, { epoch: epoch + 1, step, rng: rng.getState() });
      spec.log(
        `${spec.name} epoch ${epoch + 1}/${spec.epochs}: loss ${record.loss.toFixed(4)}, ` +
          `train acc (last exit) ${record.trainAccuracyLastExit.toFixed(2)}%, ${record.imagesPerSecond.toFixed(0)} img/s` +
          (testTop1 ? `, test top-1 per exit ${testTop1.map((a) => a.toFixed(2)).join(' / ')}` : ''),
      );
      records.push(record);
      spec.onEpochEnd?.(record);
    }
    await saveModel(model, join(spec.dir, STAGE_FINAL));
    return records;
  } finally {
    sgd.dispose();
  }
}
