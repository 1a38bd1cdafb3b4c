/**
 * @module datasets/batches
 * Epochs of float batches built from uint8 storage one batch at a time: seeded shuffling,
 * optional augmentation, per-channel normalisation.
 */
import { DEFAULT_AUGMENT, IDENTITY_TRANSFORM, sampleTransform, writeImage, type AugmentOptions } from './augment.js';
import { imageBytes, type Uint8Dataset } from './dataset.js';
import { assertNormalization, normalizationTables, type ChannelNormalization } from './normalization.js';
import type { SeededRng } from './rng.js';

/** Options of {@link epochBatches}. */
export interface EpochBatchOptions {
  /** Images per batch (the last one may be smaller unless `dropLast`). */
  batchSize: number;
  /** Per-channel mean/std applied after scaling bytes to [0, 1]. */
  normalization: ChannelNormalization;
  /** The images of this epoch (e.g. the train part of a validation split). @defaultValue all */
  indices?: ArrayLike<number>;
  /** Shuffle the order with `rng`. @defaultValue false */
  shuffle?: boolean;
  /** Random crop and flip (true means {@link DEFAULT_AUGMENT}). @defaultValue false */
  augment?: boolean | AugmentOptions;
  /** Source of randomness; required when shuffling or augmenting. */
  rng?: SeededRng;
  /** Drop a last batch smaller than `batchSize`. @defaultValue false (as PyTorch's DataLoader) */
  dropLast?: boolean;
  /** Batch to start from, to resume an epoch: batches before it are skipped, not built. @defaultValue 0 */
  startBatch?: number;
}

/** One batch, ready for `tf.tensor4d(images, shape)`. */
export interface Batch {
  /** `size * height * width * channels` normalised floats, NHWC. */
  images: Float32Array;
  labels: Int32Array;
  size: number;
  /** `[size, height, width, channels]`. */
  shape: [number, number, number, number];
  /** Dataset index of each image (for logging per-sample results). */
  indices: Int32Array;
}

/** The batches of one epoch: iterable (more than once, with identical results) and sized. */
export interface EpochBatches extends Iterable<Batch> {
  /** Batches this iteration yields (after `startBatch`). */
  readonly batchCount: number;
  /** The epoch's sample order (dataset indices), including skipped batches. */
  readonly order: Int32Array;
}

/** Number of batches for `n` samples. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

function checkIndices(indices: ArrayLike<number>, count: number): Int32Array {
  const order = Int32Array.from(indices);
  for (let i = 0; i < order.length; i++) {
    if (order[i]! < 0 || order[i]! >= count || order[i] !== indices[i]) {
      throw new RangeError(`indices[${i}]: expected a whole number from 0 to ${count - 1}, got ${indices[i]}.`);
    }
  }
  return order;
}

/**
 * Plans one epoch over `dataset`. Every random draw happens here, eagerly: the shuffle, then one
 * 32-bit augmentation seed (per-sample crops and flips are hashed from it). So the generator's
 * state after this call is the state for the next epoch, whether or not the batches are consumed,
 * and an epoch resumed from the state saved before this call with `startBatch: k` yields exactly
 * the batches k.. of the original.
 * @throws RangeError on a bad batch size, index, normalisation or start batch; TypeError when
 *   shuffling or augmenting without `rng`.
 * @example
 * const rng = new SeededRng(0);
 * for (let epoch = 0; epoch < epochs; epoch++) {
 *   for (const b of epochBatches(train, { batchSize: 64, normalization: CIFAR10_NORMALIZATION, shuffle: true, augment: true, rng })) {
 *     const x = tf.tensor4d(b.images, b.shape);
 *   }
 * }
 */
export function epochBatches(dataset: Uint8Dataset, options: EpochBatchOptions): EpochBatches {
  const { batchSize, normalization, shuffle = false, dropLast = false, startBatch = 0 } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize: expected a whole number >= 1, got ${batchSize}.`);
  assertNormalization(normalization, dataset.channels);
  const augment = options.augment === true ? DEFAULT_AUGMENT : options.augment ? { ...DEFAULT_AUGMENT, ...options.augment } : undefined;
  if (augment && (!Number.isSafeInteger(augment.pad) || augment.pad < 0)) throw new RangeError(`augment.pad: expected a whole number >= 0, got ${augment.pad}.`);
  if ((shuffle || augment) && !options.rng) throw new TypeError(`rng: expected a SeededRng when ${shuffle ? 'shuffle' : 'augment'} is on, got ${String(options.rng)}.`);

  const order = options.indices ? checkIndices(options.indices, dataset.count) : Int32Array.from({ length: dataset.count }, (_, i) => i);
  const total = batchCount(order.length, batchSize, dropLast);
  if (!Number.isSafeInteger(startBatch) || startBatch < 0 || startBatch > total) {
    throw new RangeError(`startBatch: expected a whole number from 0 to ${total}, got ${startBatch}.`);
  }
  if (shuffle) options.rng!.shuffle(order);
  const augmentSeed = augment ? options.rng!.nextUint32() : 0;

  const tables = normalizationTables(normalization);
  const { height, width, channels } = dataset;
  const size = imageBytes(dataset);
  function* generate(): Generator<Batch> {
    for (let b = startBatch; b < total; b++) {
      const start = b * batchSize;
      const n = Math.min(batchSize, order.length - start);
      // Fresh arrays per batch: callers may keep a batch (e.g. a prefetch queue) while the next is built.
      const images = new Float32Array(n * size);
      const labels = new Int32Array(n);
      const indices = order.slice(start, start + n);
      for (let i = 0; i < n; i++) {
        const idx = indices[i]!;
        const t = augment ? sampleTransform(augmentSeed, start + i, augment) : IDENTITY_TRANSFORM;
        writeImage(dataset.images, idx * size, height, width, channels, tables, images, i * size, t);
        labels[i] = dataset.labels[idx]!;
      }
      yield { images, labels, size: n, shape: [n, height, width, channels], indices };
    }
  }
  return { batchCount: total - startBatch, order, [Symbol.iterator]: generate };
}
