/**
 * @module training/trainer/checkpoint
 * Checkpoints at the end of every epoch and every few minutes inside one: model weights,
 * optimiser momentum, RNG state, position and the epoch's running statistics, written as a new
 * directory and swapped in by rename, so a crash at any moment leaves the previous checkpoint
 * intact.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../io/atomic-write.js';
import type { RngState } from '../../datasets/index.js';
import type { MultiExitModel } from '../models/multi-exit-model.js';
import { assignWeights, ModelFileError, readFloat32Tensors, readModelFiles, saveModel } from '../models/weights.js';
import type { Sgd } from '../optim/sgd.js';

const STATE_FILE = 'state.json';
const OPTIMIZER_FILE = 'optimizer.bin';

/** The running statistics of an epoch interrupted by a mid-epoch checkpoint. */
const PartialEpochSchema = z.object({
  seen: z.number().int().nonnegative(),
  correct: z.number().nonnegative(),
  lossSum: z.number(),
  perExitSum: z.array(z.number()),
  seconds: z.number().nonnegative(),
});
export type PartialEpoch = z.infer<typeof PartialEpochSchema>;

const StateSchema = z.object({
  /** Epochs completed. */
  epoch: z.number().int().nonnegative(),
  /** Batches of epoch `epoch` (0-based: the one in progress) already trained; 0 at an epoch boundary. */
  batch: z.number().int().nonnegative().default(0),
  /** Optimisation steps taken. */
  step: z.number().int().nonnegative(),
  /** RNG state: after the last epoch when `batch` is 0, else from before the interrupted epoch's draws. */
  rng: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  partial: PartialEpochSchema.optional(),
  optimizer: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), offset: z.number().int().nonnegative() })),
});
export type CheckpointState = z.infer<typeof StateSchema>;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes a checkpoint to `dir`, replacing the previous one only once the new one is complete. */
export async function saveCheckpoint(
  dir: string,
  model: MultiExitModel,
  sgd: Sgd,
  state: { epoch: number; batch?: number; step: number; rng: RngState; partial?: PartialEpoch },
): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  await saveModel(model, tmp);
  const buffers = sgd.stateTensors();
  const total = buffers.reduce((a, b) => a + b.tensor.size, 0);
  const values = new Float32Array(total);
  const index: CheckpointState['optimizer'] = [];
  let offset = 0;
  for (const { name, tensor } of buffers) {
    values.set((await tensor.data()) as Float32Array, offset);
    index.push({ name, shape: tensor.shape.slice(), offset });
    offset += tensor.size;
  }
  await writeFileAtomic(join(tmp, OPTIMIZER_FILE), new Uint8Array(values.buffer));
  await writeFileAtomic(join(tmp, STATE_FILE), JSON.stringify({ ...state, optimizer: index }));
  const old = `${dir}.old`;
  await rm(old, { recursive: true, force: true });
  if (await exists(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** Whether a complete checkpoint exists at `dir` (or was left as `.old` by a crash mid-swap). */
export async function findCheckpoint(dir: string): Promise<string | undefined> {
  if (await exists(join(dir, STATE_FILE))) return dir;
  if (await exists(join(`${dir}.old`, STATE_FILE))) return `${dir}.old`;
  return undefined;
}

/**
 * Restores a checkpoint into `model` and `sgd`.
 * @throws ModelFileError naming the file when anything is missing or does not match.
 */
export async function loadCheckpoint(dir: string, model: MultiExitModel, sgd: Sgd): Promise<CheckpointState> {
  const statePath = join(dir, STATE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(statePath, 'utf8'));
  } catch (err) {
    throw new ModelFileError(`${statePath}: cannot read the checkpoint state (${(err as Error).message}).`);
  }
  const parsed = StateSchema.safeParse(raw);
  if (!parsed.success) throw new ModelFileError(`${statePath}: not a checkpoint state (${parsed.error.issues[0]?.message}).`);
  // Straight into the training model: no second model is built just to copy from.
  assignWeights(model, (await readModelFiles(dir)).weights, dir);
  sgd.loadState(await readFloat32Tensors(join(dir, OPTIMIZER_FILE), parsed.data.optimizer));
  return parsed.data;
}
