/**
 * The small-PNG fast path against sharp: for the bundled samples and for generated PNG, JPEG and
 * WebP images (grey, grey + alpha, RGB, RGBA; the input size and others; every PNG row filter),
 * decodeNodeImage gives the tensor sharp alone gives, the fast path answers exactly where it
 * should (plain 8-bit PNGs at the input size) and defers the rest, and a corrupt or oversized
 * image still fails with an InputError.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest, type Manifest } from '../../manifest/index.js';
import { decodeNodeImage, decodeSmallPng, decodeWithSharp, imagePreprocessing, InputError, writePixels } from '../../runtime/node/index.js';
import { DEFAULT_MODEL_DIR } from '../../server/default-model.js';

let manifest: Manifest;
let W = 0;
let H = 0;

beforeAll(async () => {
  manifest = await readManifest(DEFAULT_MODEL_DIR);
  ({ width: W, height: H } = imagePreprocessing(manifest).resize);
});

async function tensorOf(decode: typeof decodeNodeImage, bytes: Uint8Array): Promise<Float32Array> {
  const [, C] = manifest.input.dims;
  const out = new Float32Array(C! * W * H);
  writePixels(await decode(bytes, manifest, 'image'), manifest, out, 0);
  return out;
}

async function expectSameTensor(bytes: Uint8Array, fast: boolean, label: string): Promise<void> {
  expect(decodeSmallPng(bytes, W, H) !== undefined, `${label}: fast path taken`).toBe(fast);
  const [mine, reference] = await Promise.all([tensorOf(decodeNodeImage, bytes), tensorOf(decodeWithSharp, bytes)]);
  expect(Buffer.from(mine.buffer).equals(Buffer.from(reference.buffer)), `${label}: tensors differ`).toBe(true);
}

/** Pixels with structure (gradients, edges) and noise, so the encoders pick varied row filters. */
function picture(width: number, height: number, channels: 1 | 2 | 3 | 4, seed: number): Buffer {
  const data = Buffer.alloc(width * height * channels);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const base = y < height / 3 ? (x * 255) / width : y < (2 * height) / 3 ? ((x ^ y) & 8 ? 220 : 30) : (s >>> 24) & 0xff;
        data[(y * width + x) * channels + c] = (base + c * 40 + (s >>> 28)) & 0xff;
      }
    }
  }
  return data;
}

const raw = (width: number, height: number, channels: 1 | 2 | 3 | 4, seed = 1) => sharp(picture(width, height, channels, seed), { raw: { width, height, channels } });

/** A PNG whose rows use the given filters in turn (0 none, 1 sub, 2 up, 3 average, 4 Paeth), written here byte by byte. */
function pngWithFilters(width: number, height: number, channels: 1 | 2 | 3 | 4, filters: number[]): Uint8Array {
  const px = picture(width, height, channels, 7);
  const stride = width * channels;
  const rows = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length]!;
    rows[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const at = (yy: number, xx: number) => (yy < 0 || xx < 0 ? 0 : px[yy * stride + xx]!);
      const a = at(y, x - channels);
      const b = at(y - 1, x);
      const c = at(y - 1, x - channels);
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f]!;
      rows[y * (stride + 1) + 1 + x] = (px[y * stride + x]! - pred) & 0xff;
    }
  }
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const deflated = deflateSync(rows);
  // Two IDAT chunks: the decoder must join them.
  const half = deflated.length >> 1;
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflated.subarray(0, half)), chunk('IDAT', deflated.subarray(half)), chunk('IEND', Buffer.alloc(0))]));
}

describe('small-PNG fast path against sharp', () => {
  it('gives the same tensors for the bundled samples', async () => {
    const dir = join(DEFAULT_MODEL_DIR, 'samples');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.png'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) await expectSameTensor(new Uint8Array(await readFile(join(dir, f))), true, f);
  });

  it('gives the same tensors for grey, grey + alpha, RGB and RGBA PNGs at the input size, every filter and compression level', async () => {
    for (const channels of [1, 2, 3, 4] as const) {
      for (const compressionLevel of [0, 6, 9]) {
        const png = new Uint8Array(await raw(W, H, channels, channels * 10 + compressionLevel).png({ compressionLevel, adaptiveFiltering: true }).toBuffer());
        await expectSameTensor(png, true, `${channels}-channel PNG, level ${compressionLevel}`);
      }
      for (const filter of [0, 1, 2, 3, 4]) await expectSameTensor(pngWithFilters(W, H, channels, [filter]), true, `${channels}-channel PNG, filter ${filter}`);
      await expectSameTensor(pngWithFilters(W, H, channels, [4, 3, 2, 1, 0, 4, 1]), true, `${channels}-channel PNG, mixed filters`);
    }
  });

  it('defers to sharp, with the same tensors, for other sizes, JPEG, WebP, palette, interlaced and 16-bit PNGs', async () => {
    for (const channels of [1, 2, 3, 4] as const) {
      for (const [w, h] of [
        [W + 1, H],
        [17, 23],
        [3 * W, 2 * H],
        [300, 200],
      ] as const) {
        await expectSameTensor(new Uint8Array(await raw(w, h, channels).png().toBuffer()), false, `${channels}-channel PNG ${w}×${h}`);
        await expectSameTensor(new Uint8Array(await raw(w, h, channels).webp({ quality: 90 }).toBuffer()), false, `${channels}-channel WebP ${w}×${h}`);
        await expectSameTensor(new Uint8Array(await raw(w, h, channels).jpeg({ quality: 90 }).toBuffer()), false, `${channels}-channel JPEG ${w}×${h}`);
      }
      await expectSameTensor(new Uint8Array(await raw(W, H, channels).jpeg().toBuffer()), false, `${channels}-channel JPEG at the input size`);
      await expectSameTensor(new Uint8Array(await raw(W, H, channels).webp({ lossless: true }).toBuffer()), false, `${channels}-channel WebP at the input size`);
      await expectSameTensor(new Uint8Array(await raw(W, H, channels).png({ progressive: true }).toBuffer()), false, `${channels}-channel interlaced PNG`);
      await expectSameTensor(new Uint8Array(await raw(W, H, channels).png({ palette: true }).toBuffer()), false, `${channels}-channel palette PNG`);
    }
    await expectSameTensor(new Uint8Array(await raw(W, H, 3).toColourspace('rgb16').png().toBuffer()), false, '16-bit PNG');
    // An EXIF orientation is sharp's to apply, even on a PNG at the input size.
    await expectSameTensor(new Uint8Array(await raw(W, H, 3).png().withMetadata({ orientation: 6 }).toBuffer()), false, 'PNG with an EXIF orientation');
  });

  it('still rejects corrupt and oversized images with an InputError', async () => {
    const good = new Uint8Array(await raw(W, H, 3).png({ compressionLevel: 9 }).toBuffer());
    const truncated = good.subarray(0, good.length - 30);
    const flipped = good.slice();
    flipped[60] = flipped[60]! ^ 0xff; // inside the IDAT data: its CRC no longer matches
    const noData = pngWithFilters(W, H, 3, [0]).slice(0, 33);
    for (const [label, bytes] of [
      ['truncated', truncated],
      ['a flipped byte', flipped],
      ['no image data', noData],
      ['not an image', new Uint8Array([1, 2, 3])],
    ] as const) {
      expect(decodeSmallPng(bytes, W, H), label).toBeUndefined();
      await expect(decodeNodeImage(bytes, manifest, 'image'), label).rejects.toThrow(InputError);
    }
    // A header claiming 8000 × 8000 = 64 megapixels, over MAX_INPUT_PIXELS: refused before decoding.
    const huge = Buffer.from(pngWithFilters(W, H, 1, [0]));
    huge.writeUInt32BE(8000, 16);
    huge.writeUInt32BE(8000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    expect(decodeSmallPng(huge, W, H)).toBeUndefined();
    await expect(decodeNodeImage(new Uint8Array(huge), manifest, 'image')).rejects.toThrow(/pixel|limit/i);
  });
});
