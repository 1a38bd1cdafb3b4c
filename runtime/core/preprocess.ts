/**
 * @module runtime/core/preprocess
 * Decoded pixels to the model's input tensor, as the manifest's `preprocessing` says:
 * x = (pixel · pixelScale − mean[c]) / std[c], in the manifest's channel order, NCHW.
 * Decoding and resizing belong to the platform (sharp in Node, a canvas in the browser); the
 * arithmetic after them is here once, so both runtimes feed the graphs the same numbers.
 */
import type { Manifest } from '../../manifest/index.js';
import { InputError } from './errors.js';

/** Decoded 8-bit pixels, row-major, interleaved: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels. */
export interface Pixels {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

/** The manifest fields preprocessing reads. */
export type PreprocessManifest = Pick<Manifest, 'preprocessing' | 'input'>;

/**
 * The manifest's image preprocessing.
 * @throws InputError for a model imported without `--image`, which takes tensors only.
 */
export function imagePreprocessing(manifest: Pick<Manifest, 'preprocessing'>, what = 'image'): NonNullable<Manifest['preprocessing']> {
  if (!manifest.preprocessing) {
    throw new InputError(`${what}: this model takes preprocessed tensors only (its manifest has no image preprocessing; import it with --image HxW to accept images).`);
  }
  return manifest.preprocessing;
}

/** ITU-R BT.601 luma, the usual RGB-to-grey weights. */
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Writes one sample (C×H×W values) at `out[offset…]` from pixels already resized to the input size.
 * Alpha is ignored (images are taken as opaque).
 * @throws InputError when the pixels' size differs from the input size or the buffer is short.
 */
export function writePixels(pixels: Pixels, manifest: PreprocessManifest, out: Float32Array, offset: number, what = 'image'): void {
  const [, C, H, W] = manifest.input.dims;
  const { width, height, channels, data } = pixels;
  if (width !== W || height !== H) throw new InputError(`${what}: expected ${W}×${H} pixels after resizing, got ${width}×${height}.`);
  if (![1, 2, 3, 4].includes(channels) || data.length < width * height * channels) {
    throw new InputError(`${what}: expected ${width}×${height}×${channels} pixel bytes, got ${data.length}.`);
  }
  const { pixelScale, mean, std, channelOrder } = imagePreprocessing(manifest, what);
  const plane = H * W;
  const colour = channels >= 3;
  if (channelOrder === 'GRAY') {
    for (let i = 0; i < plane; i++) {
      const p = i * channels;
      const r = data[p]!;
      const y = colour ? LUMA[0] * r + LUMA[1] * data[p + 1]! + LUMA[2] * data[p + 2]! : r;
      for (let c = 0; c < C; c++) out[offset + c * plane + i] = (y * pixelScale - mean[c]!) / std[c]!;
    }
    return;
  }
  // RGB/BGR: each output value depends on one 8-bit pixel value, so it comes from a table of 256
  // per channel computed with the same arithmetic (identical floats): C × 256 operations instead
  // of C × H × W, and no per-pixel allocation.
  const lut = tableOf(imagePreprocessing(manifest, what), C);
  for (let c = 0; c < C; c++) {
    // Which pixel byte feeds output channel c: R, G, B (or B, G, R); grey feeds all three.
    const source = colour ? (channelOrder === 'RGB' ? c : 2 - c) : 0;
    const table = lut.subarray(c * 256, c * 256 + 256);
    const o = offset + c * plane;
    for (let i = 0, p = source; i < plane; i++, p += channels) out[o + i] = table[data[p]!]!;
  }
}

/** Tables already built, per preprocessing object (a manifest's, so a model's life long). */
const TABLES = new WeakMap<object, Float32Array>();

/**
 * Per output channel c < C, the model input for each pixel value 0–255: (v · pixelScale − mean[c]) / std[c].
 * Built once per preprocessing (and channel count), not once per image.
 */
function tableOf(pre: Pick<NonNullable<Manifest['preprocessing']>, 'pixelScale' | 'mean' | 'std'>, C: number): Float32Array {
  const cached = TABLES.get(pre);
  if (cached && cached.length === C * 256) return cached;
  const { pixelScale, mean, std } = pre;
  const t = new Float32Array(C * 256);
  for (let c = 0; c < C; c++) for (let v = 0; v < 256; v++) t[c * 256 + v] = (v * pixelScale - mean[c]!) / std[c]!;
  TABLES.set(pre, t);
  return t;
}
