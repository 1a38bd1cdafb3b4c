/**
 * @module datasets/augment
 * CIFAR training augmentation (spec §4.3): RandomCrop(size, padding=4) then RandomHorizontalFlip,
 * fused with ToTensor + Normalize so one uint8 image is written straight into a float batch.
 */
import { hash32 } from './rng.js';

/** Options of the training augmentation. */
export interface AugmentOptions {
  /** Zero padding on each side before the random crop back to the original size; 0 disables cropping. @defaultValue 4 */
  pad?: number;
  /** Random horizontal flip with probability 1/2. @defaultValue true */
  flip?: boolean;
}

/** The spec's CIFAR augmentation: pad 4 and crop, flip. */
export const DEFAULT_AUGMENT: Readonly<Required<AugmentOptions>> = Object.freeze({ pad: 4, flip: true });

/**
 * Where one output image comes from: output pixel (y, x) reads source pixel
 * (y + offsetY, x' + offsetX) with x' = flip ? width - 1 - x : x; outside the source it reads 0.
 */
export interface SampleTransform {
  /** In [-pad, pad]: the crop's top-left corner in the padded image, minus pad. */
  offsetY: number;
  offsetX: number;
  flip: boolean;
}

/** The transform that leaves an image as it is (evaluation). */
export const IDENTITY_TRANSFORM: Readonly<SampleTransform> = Object.freeze({ offsetY: 0, offsetX: 0, flip: false });

/**
 * The random transform of the sample at `position` of an epoch whose augmentation seed is `seed`.
 * Hashing (seed, position) instead of drawing from a running generator makes batch k's
 * augmentation independent of whether batches 0..k-1 were produced, so a resumed epoch matches.
 */
export function sampleTransform(seed: number, position: number, options: Readonly<Required<AugmentOptions>>): SampleTransform {
  const span = 2 * options.pad + 1;
  // Each draw maps a 32-bit hash to [0, span); the bias is below span / 2^32, far under sampling noise.
  const draw = (k: number): number => Math.floor((hash32(seed, 3 * position + k) / 0x100000000) * span) - options.pad;
  return {
    offsetY: draw(0),
    offsetX: draw(1),
    flip: options.flip && (hash32(seed, 3 * position + 2) & 1) === 1,
  };
}

/**
 * Writes one HWC uint8 image, transformed, as normalised floats.
 * Padding is the byte 0 normalised, (0 - mean) / std, not 0.0: torchvision pads the PIL image
 * with black before ToTensor and Normalize.
 * @param tables per-channel byte-to-float tables from `normalizationTables`.
 * @internal
 */
export function writeImage(
  src: Uint8Array,
  srcOffset: number,
  height: number,
  width: number,
  channels: number,
  tables: readonly Float32Array[],
  out: Float32Array,
  outOffset: number,
  t: Readonly<SampleTransform>,
): void {
  let o = outOffset;
  for (let y = 0; y < height; y++) {
    const sy = y + t.offsetY;
    const rowInside = sy >= 0 && sy < height;
    for (let x = 0; x < width; x++) {
      const sx = (t.flip ? width - 1 - x : x) + t.offsetX;
      if (rowInside && sx >= 0 && sx < width) {
        const s = srcOffset + (sy * width + sx) * channels;
        for (let c = 0; c < channels; c++) out[o++] = tables[c]![src[s + c]!]!;
      } else {
        for (let c = 0; c < channels; c++) out[o++] = tables[c]![0]!;
      }
    }
  }
}
