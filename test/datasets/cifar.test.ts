import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CIFAR10_CLASSES,
  CIFAR10_LAYOUT,
  DataFormatError,
  decodeCifarRecords,
  encodeCifarRecords,
  readCifar10,
  readCifar100,
  type Uint8Dataset,
} from '../../datasets/index.js';
import { patternBytes, useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs('cifar');

function tinyCifar(count: number, seed: number, classes = 10): Uint8Dataset {
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7 + seed) % classes);
  return { images: patternBytes(count * 3072, seed), labels, count, height: 32, width: 32, channels: 3, classNames: CIFAR10_CLASSES.slice() };
}

/** Writes the six CIFAR-10 files (2 records each, or `sizes`), returning the datasets written. */
async function writeCifar10(dir: string, gzip = false): Promise<{ train: Uint8Dataset[]; test: Uint8Dataset }> {
  const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  const sets = names.map((_, i) => tinyCifar(2 + (i % 2), i + 1));
  for (const [i, name] of names.entries()) {
    const bytes = encodeCifarRecords(sets[i]!);
    await writeFile(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  }
  return { train: sets.slice(0, 5), test: sets[5]! };
}

describe('CIFAR record format', () => {
  it('decodes planar CHW records to NHWC', () => {
    const rec = new Uint8Array(3073);
    rec[0] = 7;
    rec[1 + 5] = 10; // R of pixel 5 (row 0, column 5)
    rec[1 + 1024 + 5] = 20; // G
    rec[1 + 2048 + 5] = 30; // B
    rec[1 + 1023] = 99; // R of the last pixel
    const ds = decodeCifarRecords(rec, 'x.bin', CIFAR10_LAYOUT, CIFAR10_CLASSES.slice());
    expect(ds.count).toBe(1);
    expect(ds.labels[0]).toBe(7);
    expect(Array.from(ds.images.subarray(15, 18))).toEqual([10, 20, 30]);
    expect(ds.images[1023 * 3]).toBe(99);
    expect(encodeCifarRecords(ds)).toEqual(rec);
  });
});

describe('readCifar10', () => {
  it('round-trips the train and test splits', async () => {
    const dir = await tempDir();
    const { train, test } = await writeCifar10(dir);
    const ds = await readCifar10(dir);
    expect(ds.count).toBe(train.reduce((n, d) => n + d.count, 0));
    expect([ds.height, ds.width, ds.channels]).toEqual([32, 32, 3]);
    expect(ds.classNames).toEqual(CIFAR10_CLASSES);
    expect(Array.from(ds.labels)).toEqual(train.flatMap((d) => Array.from(d.labels)));
    expect(ds.images).toEqual(Uint8Array.from(train.flatMap((d) => Array.from(d.images))));
    const t = await readCifar10(dir, { split: 'test' });
    expect(t.images).toEqual(test.images);
    expect(t.labels).toEqual(test.labels);
  });

  it('reads gzipped files and the folder of the official tarball, with class names from batches.meta.txt', async () => {
    const root = await tempDir();
    const dir = join(root, 'cifar-10-batches-bin');
    await mkdir(dir);
    const { test } = await writeCifar10(dir, true);
    const names = CIFAR10_CLASSES.map((c) => c.toUpperCase());
    await writeFile(join(dir, 'batches.meta.txt'), `${names.join('\n')}\n\n`);
    const t = await readCifar10(root, { split: 'test' });
    expect(t.images).toEqual(test.images);
    expect(t.classNames).toEqual(names);
  });

  it('names the file and byte offset of a truncated record', async () => {
    const dir = await tempDir();
    await writeCifar10(dir);
    const bytes = encodeCifarRecords(tinyCifar(2, 3));
    await writeFile(join(dir, 'data_batch_3.bin'), bytes.subarray(0, 3073 + 1000));
    await expect(readCifar10(dir)).rejects.toThrow(/data_batch_3\.bin: truncated record at byte 3073: expected 3073 bytes per record, got 1000 remaining\./);
  });

  it('names the uncompressed offset in a truncated gzipped file', async () => {
    const dir = await tempDir();
    await writeCifar10(dir, true);
    await writeFile(join(dir, 'test_batch.bin.gz'), gzipSync(new Uint8Array(3073 * 2 + 5)));
    await expect(readCifar10(dir, { split: 'test' })).rejects.toThrow(/test_batch\.bin\.gz: truncated record at byte 6146 of the uncompressed data: expected 3073 bytes per record, got 5 remaining\./);
  });

  it('rejects an out-of-range label with its byte offset', async () => {
    const dir = await tempDir();
    await writeCifar10(dir);
    const bytes = encodeCifarRecords(tinyCifar(3, 1));
    bytes[2 * 3073] = 12;
    await writeFile(join(dir, 'test_batch.bin'), bytes);
    const err = await readCifar10(dir, { split: 'test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as DataFormatError).offset).toBe(6146);
    expect((err as Error).message).toMatch(/test_batch\.bin: label out of range at byte 6146 \(record 2\): expected a value below 10, got 12\./);
  });

  it('rejects a missing file, an empty file, corrupt gzip and a bad meta file', async () => {
    const dir = await tempDir();
    await writeCifar10(dir);
    await expect(readCifar10(join(dir, 'nope'))).rejects.toThrow(/nope\/data_batch_1\.bin: file not found \(looked in .* for data_batch_1\.bin, data_batch_1\.bin\.gz\)\./);
    await writeFile(join(dir, 'test_batch.bin'), new Uint8Array(0));
    await expect(readCifar10(dir, { split: 'test' })).rejects.toThrow(/test_batch\.bin: no records: expected a multiple of 3073 bytes, got 0\./);
    await writeFile(join(dir, 'test_batch.bin'), Uint8Array.from([0x1f, 0x8b, 1, 2, 3]));
    await expect(readCifar10(dir, { split: 'test' })).rejects.toThrow(/test_batch\.bin: not valid gzip data/);
    await writeFile(join(dir, 'batches.meta.txt'), 'cat\ndog\n');
    await expect(readCifar10(dir)).rejects.toThrow(/batches\.meta\.txt: expected 10 class names \(one a line\), got 2\./);
  });
});

describe('readCifar100', () => {
  it('uses the fine label and checks both label bytes', async () => {
    const dir = await tempDir();
    const ds = tinyCifar(4, 5, 100);
    const coarse = Uint8Array.from([0, 19, 3, 4]);
    await writeFile(join(dir, 'train.bin'), encodeCifarRecords(ds, coarse));
    const read = await readCifar100(dir);
    expect(read.count).toBe(4);
    expect(read.labels).toEqual(ds.labels);
    expect(read.images).toEqual(ds.images);
    expect(read.classNames).toHaveLength(100);
    expect(read.classNames[0]).toBe('apple');
    const bad = encodeCifarRecords(ds, Uint8Array.from([0, 20, 3, 4]));
    await writeFile(join(dir, 'test.bin.gz'), gzipSync(bad));
    await expect(readCifar100(dir, { split: 'test' })).rejects.toThrow(/test\.bin\.gz: label out of range at byte 3074 of the uncompressed data \(record 1\): expected a value below 20, got 20\./);
    // A CIFAR-10 file read as CIFAR-100 has the wrong record size.
    await writeFile(join(dir, 'test.bin'), encodeCifarRecords(tinyCifar(3, 1)));
    await expect(readCifar100(dir, { split: 'test' })).rejects.toThrow(/test\.bin: truncated record at byte 6148: expected 3074 bytes per record, got 3071 remaining\./);
  });
});
