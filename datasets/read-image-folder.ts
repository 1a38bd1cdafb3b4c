/**
 * @module datasets/read-image-folder
 * Reads an image-folder dataset (one subfolder per class, PNG/JPEG/WebP files), decoded and resized with sharp.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import type { Uint8Dataset } from './dataset.js';
import { DataFormatError } from './errors.js';

/** File extensions read as images (compared lower-case); other files are skipped, as torchvision's ImageFolder does. */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp']);

/** How an image is fitted to the target size (sharp's names). */
export const IMAGE_FITS = ['fill', 'cover', 'contain'] as const;
/** `fill` stretches, `cover` crops the centre, `contain` letterboxes with black. */
export type ImageFit = (typeof IMAGE_FITS)[number];

/** Options of {@link readImageFolder}. */
export interface ReadImageFolderOptions {
  /** Output image size in pixels. */
  height: number;
  width: number;
  /** 3 (RGB) or 1 (greyscale); alpha is dropped either way. @defaultValue 3 */
  channels?: 1 | 3;
  /** How images of another aspect ratio are fitted. @defaultValue 'fill' */
  fit?: ImageFit;
  /** Images decoded at once (sharp decodes on libuv's thread pool). @defaultValue 4 */
  concurrency?: number;
}

/** Labels are stored as bytes. */
const MAX_CLASSES = 256;

async function listDir(dir: string): Promise<Array<{ name: string; isDir: boolean; isFile: boolean }>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // Hidden entries (.DS_Store, .git) are never classes or images.
    return entries
      .filter((e) => !e.name.startsWith('.'))
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), isFile: e.isFile() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataFormatError(dir, code === 'ENOENT' ? 'directory not found.' : `cannot list the directory (${(err as Error).message}).`, { cause: err });
  }
}

const isImage = (name: string): boolean => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

function checkOptions(options: ReadImageFolderOptions): Required<ReadImageFolderOptions> {
  const { height, width, channels = 3, fit = 'fill', concurrency = 4 } = options;
  for (const [key, v] of Object.entries({ height, width, concurrency })) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${key}: expected a whole number >= 1, got ${v}.`);
  }
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels: expected 1 or 3, got ${String(channels)}.`);
  if (!IMAGE_FITS.includes(fit)) throw new RangeError(`fit: expected one of ${IMAGE_FITS.join(', ')}, got "${String(fit)}".`);
  return { height, width, channels, fit, concurrency };
}

/**
 * Reads every image under `dir/<class>/`, resized to `height`x`width`. Classes are the
 * subfolder names in sorted order (label 0 is the first), images are sorted by name within a class.
 * @throws DataFormatError naming the folder or image path when the directory is missing, has no
 *   class folders, has images outside a class folder, has an empty class folder, or an image
 *   cannot be decoded.
 * @example
 * const ds = await readImageFolder('photos/', { height: 32, width: 32 });
 */
export async function readImageFolder(dir: string, options: ReadImageFolderOptions): Promise<Uint8Dataset> {
  const { height, width, channels, fit, concurrency } = checkOptions(options);
  const top = await listDir(dir);
  const stray = top.find((e) => e.isFile && isImage(e.name));
  if (stray) throw new DataFormatError(join(dir, stray.name), 'expected images inside one subfolder per class, got an image at the top level.');
  const classNames = top.filter((e) => e.isDir).map((e) => e.name);
  if (classNames.length === 0) throw new DataFormatError(dir, 'expected one subfolder per class, got none.');
  if (classNames.length > MAX_CLASSES) throw new DataFormatError(dir, `expected at most ${MAX_CLASSES} class folders, got ${classNames.length}.`);

  const files: Array<{ path: string; label: number }> = [];
  for (const [label, name] of classNames.entries()) {
    const classDir = join(dir, name);
    const images = (await listDir(classDir)).filter((e) => e.isFile && isImage(e.name));
    if (images.length === 0) throw new DataFormatError(classDir, `expected at least one ${IMAGE_EXTENSIONS.join('/')} image in class folder "${name}", got none.`);
    for (const e of images) files.push({ path: join(classDir, e.name), label });
  }

  const bytesPerImage = height * width * channels;
  const data = new Uint8Array(files.length * bytesPerImage);
  const labels = Uint8Array.from(files, (f) => f.label);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < files.length; i = next++) {
      data.set(await decodeImage(files[i]!.path, height, width, channels, fit), i * bytesPerImage);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return { images: data, labels, count: files.length, height, width, channels, classNames };
}

async function decodeImage(path: string, height: number, width: number, channels: 1 | 3, fit: ImageFit): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(path)
      .resize(width, height, { fit, background: { r: 0, g: 0, b: 0 } })
      .removeAlpha()
      // Forces the channel count: greyscale sources become 3 equal channels, colour ones luminance.
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== channels || info.width !== width || info.height !== height) {
      throw new Error(`decoded to ${info.height}x${info.width}x${info.channels}, expected ${height}x${width}x${channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (err) {
    throw new DataFormatError(path, `cannot read the image (${(err as Error).message}).`, { cause: err });
  }
}
