/**
 * @module training/models/weights
 * Saving and loading models (configuration + every variable, running statistics included) as
 * `model.json` + `weights.bin` (little-endian float32), and deriving the stage-2 model.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { tf } from '../backend/tf.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { formatIssues, ModelConfigSchema, type ModelConfig } from './config.js';
import { MultiExitModel } from './multi-exit-model.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
const FORMAT = 'adaptive-exit/model';
const FORMAT_VERSION = 1;

const ModelFileSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.literal(FORMAT_VERSION),
  config: ModelConfigSchema,
  weights: z.array(
    z.object({ name: z.string().min(1), shape: z.array(z.number().int().nonnegative()), offset: z.number().int().nonnegative() }),
  ),
});

/** A model file that cannot be read: missing, corrupt, or not matching its configuration. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/**
 * Reads every variable's values (a copy), in creation order, with `data()`, which every backend
 * supports (WebGPU in Node has no `dataSync`).
 */
export async function readWeightsAsync(model: MultiExitModel): Promise<Array<{ name: string; shape: number[]; values: Float32Array }>> {
  return Promise.all(
    model.variables().map(async ({ name, variable }) => ({ name, shape: variable.shape.slice(), values: (await variable.data()) as Float32Array })),
  );
}

/** Writes `model.json` and `weights.bin` into `dir` (created if needed), each atomically. */
export async function saveModel(model: MultiExitModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const weights = await readWeightsAsync(model);
  const total = weights.reduce((a, w) => a + w.values.length, 0);
  const buffer = new Float32Array(total);
  const index: Array<{ name: string; shape: number[]; offset: number }> = [];
  let offset = 0;
  for (const w of weights) {
    buffer.set(w.values, offset);
    index.push({ name: w.name, shape: w.shape, offset });
    offset += w.values.length;
  }
  // Weights first: a model.json never points at weights that are not there yet.
  await writeFileAtomic(join(dir, WEIGHTS_FILE), new Uint8Array(buffer.buffer));
  const file = { format: FORMAT, formatVersion: FORMAT_VERSION, config: model.config, weights: index };
  await writeFileAtomic(join(dir, MODEL_FILE), JSON.stringify(file, null, 1));
}

/**
 * Sets a model's variables from named values; every variable must be given exactly once with
 * its shape.
 * @throws ModelFileError listing every missing, unexpected or mis-shaped tensor.
 */
export function assignWeights(
  model: MultiExitModel,
  weights: ReadonlyArray<{ name: string; shape: readonly number[]; values: Float32Array }>,
  source: string,
): void {
  const given = new Map(weights.map((w) => [w.name, w] as const));
  const problems: string[] = [];
  for (const { name, variable } of model.variables()) {
    const w = given.get(name);
    if (!w) problems.push(`missing "${name}"`);
    else if (w.shape.join('x') !== variable.shape.join('x')) {
      problems.push(`"${name}" has shape [${w.shape.join(', ')}], the configuration expects [${variable.shape.join(', ')}]`);
    }
    given.delete(name);
  }
  for (const name of given.keys()) problems.push(`unexpected "${name}"`);
  if (problems.length > 0) {
    throw new ModelFileError(`${source}: the configuration does not match the weights: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}.`);
  }
  const byName = new Map(weights.map((w) => [w.name, w] as const));
  for (const { name, variable } of model.variables()) {
    const w = byName.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(w.values, w.shape as number[])));
  }
}

/** A tensor index entry: where a named tensor's values start in a float32 file. */
export interface TensorIndexEntry {
  name: string;
  shape: number[];
  offset: number;
}

/**
 * Reads little-endian float32 tensors from `path` as laid out by `index`.
 * @throws ModelFileError naming the file when it is missing, not whole float32 values, or short.
 */
export async function readFloat32Tensors(
  path: string,
  index: readonly TensorIndexEntry[],
): Promise<Array<{ name: string; shape: number[]; values: Float32Array }>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ModelFileError(`${path}: cannot read the tensors (${(err as Error).message}).`);
  }
  if (bytes.byteLength % 4 !== 0) throw new ModelFileError(`${path}: expected a whole number of float32 values, got ${bytes.byteLength} bytes.`);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return index.map((w) => {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.offset + size > floats.length) {
      throw new ModelFileError(`${path}: "${w.name}" needs values ${w.offset}..${w.offset + size}, the file holds ${floats.length}.`);
    }
    return { name: w.name, shape: w.shape, values: floats.subarray(w.offset, w.offset + size) };
  });
}

/**
 * Reads a model directory's configuration and weights without building a model.
 * @throws ModelFileError naming the file and the problem.
 */
export async function readModelFiles(
  dir: string,
): Promise<{ config: ModelConfig; weights: Array<{ name: string; shape: number[]; values: Float32Array }> }> {
  const jsonPath = join(dir, MODEL_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (err) {
    throw new ModelFileError(`${jsonPath}: cannot read the model file (${(err as Error).message}).`);
  }
  const parsed = ModelFileSchema.safeParse(raw);
  if (!parsed.success) throw new ModelFileError(`${jsonPath}: ${formatIssues(parsed.error.issues, '')}`);
  return { config: parsed.data.config, weights: await readFloat32Tensors(join(dir, WEIGHTS_FILE), parsed.data.weights) };
}

/**
 * Loads a model saved by {@link saveModel}.
 * @throws ModelFileError naming the file and the problem.
 */
export async function loadModel(dir: string): Promise<MultiExitModel> {
  const { config, weights } = await readModelFiles(dir);
  const model = MultiExitModel.create(config);
  try {
    assignWeights(model, weights, dir);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

/** Copies every variable that both models have under the same name and shape. */
export function copyMatchingWeights(from: MultiExitModel, to: MultiExitModel): number {
  const target = new Map(to.variables().map((v) => [v.name, v.variable] as const));
  let copied = 0;
  for (const { name, variable } of from.variables()) {
    const dst = target.get(name);
    if (dst && dst.shape.join('x') === variable.shape.join('x')) {
      dst.assign(variable);
      copied += 1;
    }
  }
  return copied;
}

/**
 * The stage-2 model of spec §2: the stage-1 network (weights copied, to be frozen by the
 * objective) plus new ISC heads.
 * @param seed seeds the new heads. @defaultValue 1
 */
export function toStage2Model(
  stage1: MultiExitModel,
  options: { detach?: boolean; links?: boolean; seed?: number } = {},
): MultiExitModel {
  if (!stage1.config.linearHeads || stage1.config.iscHeads) {
    throw new Error('toStage2Model: expected a stage-1 model (Linear heads only).');
  }
  const config: ModelConfig = {
    ...stage1.config,
    iscHeads: true,
    iscDetach: options.detach ?? false,
    iscLinks: options.links ?? true,
  };
  const model = MultiExitModel.create(config, options.seed ?? 1);
  copyMatchingWeights(stage1, model);
  return model;
}
