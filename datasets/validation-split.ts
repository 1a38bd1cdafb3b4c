/**
 * @module datasets/validation-split
 * The seeded held-out validation split of spec §4.3 (`--use-valid`): permute the training set,
 * hold out the last `valSize` images. Saved as JSON so a resumed run (and threshold calibration,
 * spec §6.2) uses the same images.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../io/atomic-write.js';
import { DataFormatError } from './errors.js';
import { SeededRng } from './rng.js';

/** CIFAR's held-out validation size (spec §4.3): 45 000 images are left for training. */
export const DEFAULT_CIFAR_VAL_SIZE = 5000;

const FORMAT = 'adaptive-exit/validation-split';
const FORMAT_VERSION = 1;

/**
 * A split of `count` training images into disjoint train and val index sets that cover them all.
 * Spec §4.3 quirk: IMTA builds its val loader on the train set, so val images get training
 * augmentation; batch `val` without augmentation unless replicating that exactly.
 */
export interface ValidationSplit {
  count: number;
  valSize: number;
  seed: number;
  /** Dataset indices to train on, in permutation order. */
  train: Int32Array;
  /** Held-out dataset indices, in permutation order. */
  val: Int32Array;
}

/**
 * Splits `count` images: a permutation drawn from `new SeededRng(seed)`, whose last `valSize`
 * entries are the validation set (as IMTA's `get_dataloaders` does with `torch.randperm`; the
 * permutation itself differs from PyTorch's, so the chosen images do too).
 * @throws RangeError unless 0 <= valSize <= count.
 * @example
 * const { train, val } = splitValidation(50000, DEFAULT_CIFAR_VAL_SIZE, 0); // 45000 / 5000
 */
export function splitValidation(count: number, valSize: number, seed: number): ValidationSplit {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count: expected a whole number >= 0, got ${count}.`);
  if (!Number.isSafeInteger(valSize) || valSize < 0 || valSize > count) throw new RangeError(`valSize: expected a whole number from 0 to ${count}, got ${valSize}.`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected a whole number, got ${seed}.`);
  const perm = new SeededRng(seed).shuffle(Int32Array.from({ length: count }, (_, i) => i));
  return { count, valSize, seed, train: perm.slice(0, count - valSize), val: perm.slice(count - valSize) };
}

const SplitFileSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.literal(FORMAT_VERSION),
  count: z.number().int().nonnegative(),
  valSize: z.number().int().nonnegative(),
  seed: z.number().int(),
  train: z.array(z.number().int().nonnegative()),
  val: z.array(z.number().int().nonnegative()),
});

/** The JSON form of a split (what {@link saveValidationSplit} writes). */
export function validationSplitToJson(split: ValidationSplit): string {
  const { count, valSize, seed } = split;
  return `${JSON.stringify({ format: FORMAT, formatVersion: FORMAT_VERSION, count, valSize, seed, train: Array.from(split.train), val: Array.from(split.val) })}\n`;
}

/**
 * Parses a split from its JSON form and checks it: sizes match, every index is below `count`,
 * and train and val are disjoint and cover all images.
 * @param source the file name, for error messages.
 * @throws DataFormatError naming the source and the first problem.
 */
export function validationSplitFromJson(text: string, source: string): ValidationSplit {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataFormatError(source, `not valid JSON (${(err as Error).message}).`, { cause: err });
  }
  const parsed = SplitFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DataFormatError(source, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  const { count, valSize, seed, train, val } = parsed.data;
  if (val.length !== valSize) throw new DataFormatError(source, `val: expected ${valSize} indices (valSize), got ${val.length}.`);
  if (train.length + val.length !== count) throw new DataFormatError(source, `train + val: expected ${count} indices (count), got ${train.length + val.length}.`);
  const seen = new Uint8Array(count);
  for (const [name, list] of [['train', train], ['val', val]] as const) {
    for (const [i, idx] of list.entries()) {
      if (idx >= count) throw new DataFormatError(source, `${name}[${i}]: expected an index below ${count}, got ${idx}.`);
      if (seen[idx]) throw new DataFormatError(source, `${name}[${i}]: index ${idx} appears twice (train and val must be disjoint).`);
      seen[idx] = 1;
    }
  }
  return { count, valSize, seed, train: Int32Array.from(train), val: Int32Array.from(val) };
}

/** Writes a split as JSON, atomically. */
export async function saveValidationSplit(path: string, split: ValidationSplit): Promise<void> {
  await writeFileAtomic(path, validationSplitToJson(split));
}

/**
 * Reads a split written by {@link saveValidationSplit}.
 * @param expectedCount when given, the split must be of this many images (the dataset's count).
 * @throws DataFormatError when the file is missing or invalid, or its count differs.
 */
export async function loadValidationSplit(path: string, expectedCount?: number): Promise<ValidationSplit> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataFormatError(path, code === 'ENOENT' ? 'file not found.' : `cannot read the file (${(err as Error).message}).`, { cause: err });
  }
  const split = validationSplitFromJson(text, path);
  if (expectedCount !== undefined && split.count !== expectedCount) {
    throw new DataFormatError(path, `count: expected ${expectedCount} images (the dataset's), got ${split.count}.`);
  }
  return split;
}
