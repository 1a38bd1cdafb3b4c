/**
 * @module runtime/web/decode-image
 * Images in the browser: a Blob/File (any format the browser decodes), an ImageBitmap, an
 * HTMLImageElement or canvas, ImageData, or raw {@link Pixels}; drawn onto a canvas at the
 * model's input size as the manifest's `resize.fit` says. Raw pixels already at the input size
 * need no canvas, so they also work in Node.
 */
import type { Manifest } from '../../manifest/index.js';
import { imagePreprocessing, InputError, type Pixels } from '../core/index.js';

/** An image the web runtime accepts. */
export type WebImage = Blob | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | Pixels;

function isPixels(x: unknown): x is Pixels {
  return typeof x === 'object' && x !== null && 'channels' in x && 'width' in x && 'height' in x && 'data' in x;
}

function canvas(width: number, height: number): OffscreenCanvas | HTMLCanvasElement {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  if (typeof document !== 'undefined') return Object.assign(document.createElement('canvas'), { width, height });
  throw new InputError('decoding images needs a canvas (a browser or worker); in Node pass raw pixels at the input size or a tensor, or use runtime/node.');
}

/** Source rectangle (cover) or destination rectangle (contain) for `fit`. */
function placement(sw: number, sh: number, W: number, H: number, fit: NonNullable<Manifest['preprocessing']>['resize']['fit']) {
  if (fit === 'fill') return { sx: 0, sy: 0, sw, sh, dx: 0, dy: 0, dw: W, dh: H };
  const scale = fit === 'cover' ? Math.max(W / sw, H / sh) : Math.min(W / sw, H / sh);
  if (fit === 'cover') {
    const cw = W / scale;
    const ch = H / scale;
    return { sx: (sw - cw) / 2, sy: (sh - ch) / 2, sw: cw, sh: ch, dx: 0, dy: 0, dw: W, dh: H };
  }
  const dw = sw * scale;
  const dh = sh * scale;
  return { sx: 0, sy: 0, sw, sh, dx: (W - dw) / 2, dy: (H - dh) / 2, dw, dh };
}

/** Decodes and resizes one image to the model's input size (RGBA pixels, or the raw pixels as given). */
export async function decodeWebImage(image: WebImage, manifest: Manifest, what: string): Promise<Pixels> {
  const { width: W, height: H, fit, mode } = imagePreprocessing(manifest, what).resize;
  if (isPixels(image) && image.width === W && image.height === H) return image;
  let source: CanvasImageSource;
  let sw: number;
  let sh: number;
  try {
    if (typeof Blob !== 'undefined' && image instanceof Blob) {
      if (image.size === 0) throw new InputError(`${what}: empty image (0 bytes).`);
      const bitmap = await createImageBitmap(image);
      source = bitmap;
      [sw, sh] = [bitmap.width, bitmap.height];
    } else if (isPixels(image) || (typeof ImageData !== 'undefined' && image instanceof ImageData)) {
      const rgba = isPixels(image) ? toRgba(image) : image;
      const c = canvas(rgba.width, rgba.height);
      (c.getContext('2d') as CanvasRenderingContext2D).putImageData(rgba as ImageData, 0, 0);
      source = c;
      [sw, sh] = [rgba.width, rgba.height];
    } else if (typeof image === 'object' && image !== null && 'width' in image && 'height' in image) {
      source = image as CanvasImageSource;
      const el = image as HTMLImageElement;
      [sw, sh] = [el.naturalWidth || el.width, el.naturalHeight || el.height];
    } else {
      throw new InputError(`${what}: expected a Blob, ImageBitmap, ImageData, image or canvas element, or raw pixels; got ${Object.prototype.toString.call(image)}.`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${what}: cannot decode the image: ${(e as Error).message}.`, { cause: e });
  }
  const out = canvas(W, H);
  const ctx = out.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, W, H);
  ctx.imageSmoothingEnabled = mode !== 'nearest';
  ctx.imageSmoothingQuality = 'high';
  const p = placement(sw, sh, W, H, fit);
  ctx.drawImage(source, p.sx, p.sy, p.sw, p.sh, p.dx, p.dy, p.dw, p.dh);
  const { data } = ctx.getImageData(0, 0, W, H);
  return { data, width: W, height: H, channels: 4 };
}

/** Raw pixels of any channel count as RGBA ImageData-like pixels. */
function toRgba(p: Pixels): { data: Uint8ClampedArray; width: number; height: number } {
  const n = p.width * p.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const s = i * p.channels;
    const colour = p.channels >= 3;
    data[i * 4] = p.data[s]!;
    data[i * 4 + 1] = colour ? p.data[s + 1]! : p.data[s]!;
    data[i * 4 + 2] = colour ? p.data[s + 2]! : p.data[s]!;
    data[i * 4 + 3] = 255;
  }
  return { data, width: p.width, height: p.height };
}
