/**
 * @module datasets/dataset
 * The in-memory dataset every reader returns (uint8 pixels, NHWC) and helpers that check or join datasets.
 */

/** The two splits every built-in dataset has. */
export const DATA_SPLITS = ['train', 'test'] as const;
/** `train` or `test`. */
export type DataSplit = (typeof DATA_SPLITS)[number];

/**
 * A labelled image dataset held as bytes. Pixels stay uint8 in memory (a quarter of float32);
 * batches are converted to float one at a time by `epochBatches`.
 */
export interface Uint8Dataset {
  /** `count * height * width * channels` bytes, NHWC, row-major. */
  images: Uint8Array;
  /** One class index per image, each below `classNames.length`. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Class names in label order. */
  classNames: string[];
}

/** Bytes taken by one image of `dataset`. */
export function imageBytes(dataset: Pick<Uint8Dataset, 'height' | 'width' | 'channels'>): number {
  return dataset.height * dataset.width * dataset.channels;
}

/**
 * Checks that a dataset's arrays agree with its shape and that every label is a known class.
 * @throws RangeError naming the first inconsistency.
 */
export function assertDataset(dataset: Uint8Dataset, name = 'dataset'): void {
  const { count, height, width, channels, classNames } = dataset;
  for (const [key, v] of Object.entries({ count, height, width, channels })) {
    if (!Number.isSafeInteger(v) || v < (key === 'count' ? 0 : 1)) {
      throw new RangeError(`${name}.${key}: expected a whole number >= ${key === 'count' ? 0 : 1}, got ${v}.`);
    }
  }
  if (dataset.images.length !== count * imageBytes(dataset)) {
    throw new RangeError(`${name}.images: expected ${count * imageBytes(dataset)} bytes (${count}x${height}x${width}x${channels}), got ${dataset.images.length}.`);
  }
  if (dataset.labels.length !== count) {
    throw new RangeError(`${name}.labels: expected ${count} labels, got ${dataset.labels.length}.`);
  }
  for (let i = 0; i < count; i++) {
    if (dataset.labels[i]! >= classNames.length) {
      throw new RangeError(`${name}.labels[${i}]: expected a class index below ${classNames.length}, got ${dataset.labels[i]}.`);
    }
  }
}

/**
 * Joins datasets of the same image shape and classes (e.g. the five CIFAR-10 training batches).
 * @throws RangeError when shapes or class names differ.
 */
export function concatDatasets(parts: readonly Uint8Dataset[]): Uint8Dataset {
  const first = parts[0];
  if (!first) throw new RangeError('concatDatasets: expected at least one dataset, got none.');
  const shape = (d: Uint8Dataset): string => `${d.height}x${d.width}x${d.channels}`;
  for (const [i, p] of parts.entries()) {
    if (shape(p) !== shape(first)) throw new RangeError(`concatDatasets: part ${i}: expected images ${shape(first)}, got ${shape(p)}.`);
    if (p.classNames.join('\n') !== first.classNames.join('\n')) {
      throw new RangeError(`concatDatasets: part ${i}: expected the same ${first.classNames.length} class names as part 0.`);
    }
  }
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * imageBytes(first));
  const labels = new Uint8Array(count);
  let n = 0;
  for (const p of parts) {
    images.set(p.images, n * imageBytes(first));
    labels.set(p.labels, n);
    n += p.count;
  }
  return { images, labels, count, height: first.height, width: first.width, channels: first.channels, classNames: first.classNames.slice() };
}
