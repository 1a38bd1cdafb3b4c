import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  computeNormalization,
  decodeIdx,
  encodeIdx,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  FASHION_MNIST_NORMALIZATION,
  readFashionMnist,
} from '../../datasets/index.js';
import { patternBytes, useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs('idx');

/** Writes a 5-image 28x28 test split (gzipped or raw) and returns its bytes. */
async function writeSplit(dir: string, gzip: boolean, count = 5): Promise<{ images: Uint8Array; labels: Uint8Array }> {
  const images = patternBytes(count * 28 * 28, 9);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 3) % 10);
  const put = (name: string, bytes: Uint8Array) => writeFile(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  await put('t10k-images-idx3-ubyte', encodeIdx([count, 28, 28], images));
  await put('t10k-labels-idx1-ubyte', encodeIdx([count], labels));
  return { images, labels };
}

describe('IDX format', () => {
  it('round-trips the header and data', () => {
    const data = patternBytes(2 * 3 * 4);
    const bytes = encodeIdx([2, 3, 4], data);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
    const { dims, data: back } = decodeIdx(bytes, 'x', 3);
    expect(dims).toEqual([2, 3, 4]);
    expect(back).toEqual(data);
  });

  it('names the byte offset of each kind of bad header or size', () => {
    const good = encodeIdx([2, 3], new Uint8Array(6));
    expect(() => decodeIdx(good.subarray(0, 3), 'a.idx', 2)).toThrow(/^a\.idx: truncated header at byte 0: expected at least 4 bytes, got 3\.$/);
    expect(() => decodeIdx(Uint8Array.from([1, 0, 8, 2]), 'a.idx', 2)).toThrow(/a\.idx: bad IDX magic at byte 0: expected 00 00, got 01 00\./);
    expect(() => decodeIdx(Uint8Array.from([0, 0, 0x0d, 2]), 'a.idx', 2)).toThrow(/a\.idx: unsupported IDX type at byte 2: expected 0x08 \(unsigned byte\), got 0x0d\./);
    expect(() => decodeIdx(good, 'a.idx', 3)).toThrow(/a\.idx: wrong IDX rank at byte 3: expected 3 dimensions, got 2\./);
    expect(() => decodeIdx(good.subarray(0, 9), 'a.idx', 2)).toThrow(/a\.idx: truncated header at byte 9: expected 12 header bytes, got 9\./);
    expect(() => decodeIdx(good.subarray(0, 15), 'a.idx', 2)).toThrow(/a\.idx: truncated data at byte 15: expected 6 data bytes for dimensions 2x3, got 3\./);
    expect(() => decodeIdx(Uint8Array.from([...good, 1]), 'a.idx', 2)).toThrow(/a\.idx: trailing bytes at byte 18: expected 6 data bytes for dimensions 2x3, got 7\./);
  });
});

describe('readFashionMnist', () => {
  for (const gzip of [false, true]) {
    it(`round-trips ${gzip ? 'gzipped' : 'raw'} IDX files`, async () => {
      const dir = await tempDir();
      const { images, labels } = await writeSplit(dir, gzip);
      const ds = await readFashionMnist({ dir, split: 'test' });
      expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([5, 28, 28, 1]);
      expect(ds.images).toEqual(images);
      expect(ds.labels).toEqual(labels);
      expect(ds.classNames).toEqual(FASHION_MNIST_CLASSES);
    });
  }

  it('rejects missing files, a label count mismatch and out-of-range labels', async () => {
    const dir = await tempDir();
    await expect(readFashionMnist({ dir })).rejects.toThrow(/train-images-idx3-ubyte: file not found \(looked in .* for train-images-idx3-ubyte, train-images-idx3-ubyte\.gz, train-images\.idx3-ubyte, train-images\.idx3-ubyte\.gz\)\./);
    await writeSplit(dir, true);
    await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([4], new Uint8Array(4))));
    await expect(readFashionMnist({ dir, split: 'test' })).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: expected 5 labels to match .*t10k-images-idx3-ubyte\.gz, got 4\./);
    await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([5], Uint8Array.from([0, 1, 2, 10, 4]))));
    await expect(readFashionMnist({ dir, split: 'test' })).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: label out of range at byte 11 of the uncompressed data \(image 3\): expected a value below 10, got 10\./);
    await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx([5, 28, 28], new Uint8Array(5 * 784)).subarray(0, 1000)));
    await expect(readFashionMnist({ dir, split: 'test' })).rejects.toThrow(/t10k-images-idx3-ubyte\.gz: truncated data at byte 1000 of the uncompressed data: expected 3920 data bytes for dimensions 5x28x28, got 984\./);
  });

  const installed = existsSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  if (!installed) console.warn(`Fashion-MNIST not found in ${FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist): skipping the real-data test.`);
  it.skipIf(!installed)('reads the real Fashion-MNIST test set from the Debian package', async () => {
    const ds = await readFashionMnist({ split: 'test' });
    expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([10000, 28, 28, 1]);
    expect(Math.max(...ds.labels)).toBe(9);
    expect(Math.min(...ds.labels)).toBe(0);
    // Each class has 1000 test images.
    const perClass = new Array<number>(10).fill(0);
    for (const l of ds.labels) perClass[l]! += 1;
    expect(perClass).toEqual(new Array<number>(10).fill(1000));
    // The constants were measured on the train set; the test set is close to them.
    const { mean, std } = computeNormalization(ds);
    expect(mean[0]).toBeCloseTo(FASHION_MNIST_NORMALIZATION.mean[0]!, 2);
    expect(std[0]).toBeCloseTo(FASHION_MNIST_NORMALIZATION.std[0]!, 2);
  });

  it.skipIf(!installed)('the normalisation constants are those of the real training set', async () => {
    const ds = await readFashionMnist();
    expect(ds.count).toBe(60000);
    const { mean, std } = computeNormalization(ds);
    expect(Math.abs(mean[0]! - FASHION_MNIST_NORMALIZATION.mean[0]!)).toBeLessThan(1e-4);
    expect(Math.abs(std[0]! - FASHION_MNIST_NORMALIZATION.std[0]!)).toBeLessThan(1e-4);
  });
});
