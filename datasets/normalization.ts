/**
 * @module datasets/normalization
 * Per-channel mean/std normalisation constants (pixel values scaled to [0, 1] first, as
 * torchvision's ToTensor does) and a helper that measures them on a dataset.
 */
import { imageBytes, type Uint8Dataset } from './dataset.js';

/** Per-channel mean and standard deviation of pixel values in [0, 1]. */
export interface ChannelNormalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** CIFAR-10 (spec §4.3, from MSDNet/IMTA `dataloader.py`). */
export const CIFAR10_NORMALIZATION: ChannelNormalization = Object.freeze({
  mean: Object.freeze([0.4914, 0.4824, 0.4467]),
  std: Object.freeze([0.2471, 0.2435, 0.2616]),
});

/** CIFAR-100 (spec §4.3). */
export const CIFAR100_NORMALIZATION: ChannelNormalization = Object.freeze({
  mean: Object.freeze([0.5071, 0.4867, 0.4408]),
  std: Object.freeze([0.2675, 0.2565, 0.2761]),
});

/** Fashion-MNIST, measured on its 60 000 training images (see the data tests). */
export const FASHION_MNIST_NORMALIZATION: ChannelNormalization = Object.freeze({
  mean: Object.freeze([0.286]),
  std: Object.freeze([0.353]),
});

/**
 * Measures the per-channel mean and (population) standard deviation of a dataset's pixels in [0, 1].
 * @param indices the images to include. @defaultValue all
 * @throws RangeError when no image is selected.
 */
export function computeNormalization(dataset: Uint8Dataset, indices?: ArrayLike<number>): ChannelNormalization {
  const { channels } = dataset;
  const n = indices ? indices.length : dataset.count;
  if (n === 0) throw new RangeError('computeNormalization: expected at least one image, got 0.');
  const size = imageBytes(dataset);
  // Histograms per channel keep the sums exact integers, whatever the dataset size.
  const hist = Array.from({ length: channels }, () => new Float64Array(256));
  for (let k = 0; k < n; k++) {
    const base = (indices ? indices[k]! : k) * size;
    for (let p = 0; p < size; p++) hist[p % channels]![dataset.images[base + p]!]! += 1;
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (const h of hist) {
    let count = 0;
    let sum = 0;
    let sumSq = 0;
    for (let v = 0; v < 256; v++) {
      count += h[v]!;
      sum += h[v]! * v;
      sumSq += h[v]! * v * v;
    }
    const m = sum / count;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(0, sumSq / count - m * m)) / 255);
  }
  return { mean, std };
}

/**
 * Checks that a normalisation fits `channels` and has positive, finite std.
 * @throws RangeError naming the bad entry.
 */
export function assertNormalization(norm: ChannelNormalization, channels: number): void {
  if (norm.mean.length !== channels || norm.std.length !== channels) {
    throw new RangeError(`normalization: expected ${channels} mean and std values, got ${norm.mean.length} and ${norm.std.length}.`);
  }
  norm.mean.forEach((m, c) => {
    if (!Number.isFinite(m)) throw new RangeError(`normalization.mean[${c}]: expected a finite number, got ${m}.`);
  });
  norm.std.forEach((s, c) => {
    if (!Number.isFinite(s) || s <= 0) throw new RangeError(`normalization.std[${c}]: expected a number > 0, got ${s}.`);
  });
}

/**
 * One 256-entry table per channel mapping a byte to its normalised float, so converting a
 * batch is a table lookup per value.
 * @internal
 */
export function normalizationTables(norm: ChannelNormalization): Float32Array[] {
  return norm.mean.map((m, c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - m) / norm.std[c]!));
}
