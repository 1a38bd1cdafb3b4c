/**
 * @module runtime/node/decode-image
 * Images for the Node runtime: encoded bytes (PNG, JPEG, WebP, … anything sharp reads), a file
 * path, or raw {@link Pixels}, decoded and resized with sharp as the manifest's preprocessing says;
 * a plain PNG already at the input size skips sharp (see ./small-png.ts: same pixels, a tenth of
 * the time).
 */
import sharp, { type Sharp } from 'sharp';
import type { Manifest } from '../../manifest/index.js';
import { imagePreprocessing, InputError, type Pixels } from '../core/index.js';
import { decodeSmallPng } from './small-png.js';

/** An image the Node runtime accepts. */
export type NodeImage = Uint8Array | string | Pixels;

/**
 * The most pixels an input image may have (50 megapixels). Why: a small compressed file can
 * describe a huge image, and decoding it before resizing would take gigabytes.
 */
export const MAX_INPUT_PIXELS = 50_000_000;

/** sharp's kernel for each manifest resize mode. */
const KERNELS = { nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic', lanczos3: 'lanczos3' } as const;

function isPixels(x: unknown): x is Pixels {
  return typeof x === 'object' && x !== null && 'width' in x && 'height' in x && 'channels' in x && 'data' in x;
}

/**
 * Decodes (EXIF-oriented) and resizes one image to the model's input size; keeps its channels
 * (grey stays grey), drops nothing else: the colour arithmetic is runtime/core's.
 * @throws InputError naming `what` for an input of another kind or bytes sharp cannot decode.
 */
export async function decodeNodeImage(image: NodeImage, manifest: Manifest, what: string): Promise<Pixels> {
  if (image instanceof Uint8Array) {
    const { width, height } = imagePreprocessing(manifest, what).resize;
    const small = decodeSmallPng(image, width, height);
    if (small) return small;
  }
  return decodeWithSharp(image, manifest, what);
}

/** {@link decodeNodeImage} always through sharp (the reference the fast path is tested against). */
export async function decodeWithSharp(image: NodeImage, manifest: Manifest, what: string): Promise<Pixels> {
  const { resize } = imagePreprocessing(manifest, what);
  let pipeline: Sharp;
  try {
    if (typeof image === 'string' || image instanceof Uint8Array) {
      if (typeof image !== 'string' && image.length === 0) throw new InputError(`${what}: empty image (0 bytes).`);
      pipeline = sharp(image, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS });
    } else if (isPixels(image)) {
      const { width, height, channels, data } = image;
      if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || ![1, 2, 3, 4].includes(channels) || data.length !== width * height * channels) {
        throw new InputError(`${what}: raw pixels need width × height × channels (1–4) bytes; got ${width}×${height}×${channels} and ${data?.length} bytes.`);
      }
      pipeline = sharp(data, { raw: { width, height, channels }, limitInputPixels: MAX_INPUT_PIXELS });
    } else {
      throw new InputError(`${what}: expected encoded image bytes (Uint8Array/Buffer), a file path, or raw pixels { data, width, height, channels }; got ${Object.prototype.toString.call(image)}.`);
    }
    const { data, info } = await pipeline
      .rotate()
      .resize(resize.width, resize.height, { fit: resize.fit, kernel: KERNELS[resize.mode], background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${what}: cannot decode the image: ${(e as Error).message}.`, { cause: e });
  }
}
