import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageFolder } from '../../datasets/index.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs('images');

/** A solid-colour image in the given format. */
function solid(width: number, height: number, rgb: [number, number, number], format: 'png' | 'jpeg' | 'webp'): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  return (format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg({ quality: 95 }) : img.webp({ lossless: true })).toBuffer();
}

/** cats/a.png (red 8x6), cats/b.jpg (green 5x5), dogs/c.webp (blue 3x9), plus files to skip. */
async function makeFolder(): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'cats'));
  await mkdir(join(dir, 'dogs'));
  await writeFile(join(dir, 'cats', 'a.png'), await solid(8, 6, [200, 10, 20], 'png'));
  await writeFile(join(dir, 'cats', 'b.JPG'), await solid(5, 5, [20, 200, 30], 'jpeg'));
  await writeFile(join(dir, 'dogs', 'c.webp'), await solid(3, 9, [0, 0, 255], 'webp'));
  await writeFile(join(dir, 'dogs', 'notes.txt'), 'not an image');
  await writeFile(join(dir, 'README.md'), 'skipped');
  return dir;
}

describe('readImageFolder', () => {
  it('decodes PNG, JPEG and WebP, resized, one class per subfolder', async () => {
    const dir = await makeFolder();
    const ds = await readImageFolder(dir, { height: 4, width: 6 });
    expect(ds.classNames).toEqual(['cats', 'dogs']);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1]);
    expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([3, 4, 6, 3]);
    expect(ds.images).toHaveLength(3 * 4 * 6 * 3);
    const pixel = (i: number, y: number, x: number) => Array.from(ds.images.subarray(((i * 4 + y) * 6 + x) * 3, ((i * 4 + y) * 6 + x) * 3 + 3));
    expect(pixel(0, 0, 0)).toEqual([200, 10, 20]); // lossless PNG keeps exact values
    expect(pixel(0, 3, 5)).toEqual([200, 10, 20]);
    const jpeg = pixel(1, 2, 3);
    [20, 200, 30].forEach((v, c) => expect(Math.abs(jpeg[c]! - v)).toBeLessThanOrEqual(4));
    expect(pixel(2, 1, 1)).toEqual([0, 0, 255]);
  });

  it('converts to one greyscale channel', async () => {
    const dir = await makeFolder();
    const ds = await readImageFolder(dir, { height: 2, width: 2, channels: 1 });
    expect(ds.channels).toBe(1);
    expect(ds.images).toHaveLength(3 * 4);
    // Pure blue is dark, green bright.
    expect(ds.images[2 * 4]!).toBeLessThan(ds.images[1 * 4]!);
  });

  it('expands a one-channel source to three equal channels', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'grey'));
    const png = await sharp(Buffer.from([0, 80, 160, 240]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(png).metadata()).channels).toBe(1);
    await writeFile(join(dir, 'grey', 'g.png'), png);
    const ds = await readImageFolder(dir, { height: 2, width: 2 });
    expect(Array.from(ds.images)).toEqual([0, 0, 0, 80, 80, 80, 160, 160, 160, 240, 240, 240]);
  });

  it('names the path of an unreadable image', async () => {
    const dir = await makeFolder();
    await writeFile(join(dir, 'dogs', 'broken.png'), 'this is not a png');
    await expect(readImageFolder(dir, { height: 4, width: 4 })).rejects.toThrow(/dogs\/broken\.png: cannot read the image \(.+\)\./);
  });

  it('rejects a missing folder, no class folders, an empty class and images outside class folders', async () => {
    const dir = await tempDir();
    await expect(readImageFolder(join(dir, 'nope'), { height: 4, width: 4 })).rejects.toThrow(/nope: directory not found\./);
    await expect(readImageFolder(dir, { height: 4, width: 4 })).rejects.toThrow(/: expected one subfolder per class, got none\./);
    await mkdir(join(dir, 'empty'));
    await expect(readImageFolder(dir, { height: 4, width: 4 })).rejects.toThrow(/empty: expected at least one \.png\/\.jpg\/\.jpeg\/\.webp image in class folder "empty", got none\./);
    await writeFile(join(dir, 'stray.png'), await solid(2, 2, [1, 2, 3], 'png'));
    await expect(readImageFolder(dir, { height: 4, width: 4 })).rejects.toThrow(/stray\.png: expected images inside one subfolder per class, got an image at the top level\./);
  });

  it('checks its options', async () => {
    const dir = await tempDir();
    await expect(readImageFolder(dir, { height: 0, width: 4 })).rejects.toThrow(/^height: expected a whole number >= 1, got 0\.$/);
    await expect(readImageFolder(dir, { height: 4, width: 4, channels: 2 as 3 })).rejects.toThrow(/^channels: expected 1 or 3, got 2\.$/);
  });
});
