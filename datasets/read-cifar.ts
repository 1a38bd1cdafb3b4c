/**
 * @module datasets/read-cifar
 * Reads CIFAR-10 and CIFAR-100 from their binary distributions (a directory of `.bin` or `.bin.gz` files).
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CIFAR100_LAYOUT, CIFAR10_LAYOUT, decodeCifarRecords, type CifarLabelLayout } from './cifar-format.js';
import { CIFAR100_CLASSES, CIFAR10_CLASSES } from './class-names.js';
import { concatDatasets, DATA_SPLITS, type DataSplit, type Uint8Dataset } from './dataset.js';
import { DataFormatError } from './errors.js';
import { readFirstDataFile } from './read-bytes.js';

/** The files of each split of CIFAR-10's binary version, in the order their records are joined. */
/** Where `adaptive-exit data cifar10` writes CIFAR-10 by default (outside the repository: datasets are never committed). */
export const DEFAULT_CIFAR10_DIR = join(homedir(), '.cache', 'adaptive-exit', 'cifar-10-batches-bin');

export const CIFAR10_FILES: Readonly<Record<DataSplit, readonly string[]>> = Object.freeze({
  train: Object.freeze(['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin']),
  test: Object.freeze(['test_batch.bin']),
});

/** The files of each split of CIFAR-100's binary version. */
export const CIFAR100_FILES: Readonly<Record<DataSplit, readonly string[]>> = Object.freeze({
  train: Object.freeze(['train.bin']),
  test: Object.freeze(['test.bin']),
});

interface CifarVariant {
  files: Readonly<Record<DataSplit, readonly string[]>>;
  layout: CifarLabelLayout;
  /** The folder the official tarball extracts to, accepted as a child of the given directory. */
  tarballFolder: string;
  metaFile: string;
  classes: readonly string[];
}

const CIFAR10: CifarVariant = { files: CIFAR10_FILES, layout: CIFAR10_LAYOUT, tarballFolder: 'cifar-10-batches-bin', metaFile: 'batches.meta.txt', classes: CIFAR10_CLASSES };
const CIFAR100: CifarVariant = { files: CIFAR100_FILES, layout: CIFAR100_LAYOUT, tarballFolder: 'cifar-100-binary', metaFile: 'fine_label_names.txt', classes: CIFAR100_CLASSES };

/** Options of {@link readCifar10} and {@link readCifar100}. */
export interface ReadCifarOptions {
  /** Which split. @defaultValue 'train' */
  split?: DataSplit;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** Class names from the metadata file when the directory has one (it is the authority), else the built-in list. */
async function classNamesOf(dir: string, variant: CifarVariant): Promise<string[]> {
  const path = join(dir, variant.metaFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return variant.classes.slice();
  }
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length !== variant.classes.length) {
    throw new DataFormatError(path, `expected ${variant.classes.length} class names (one a line), got ${names.length}.`);
  }
  return names;
}

async function readCifar(dir: string, variant: CifarVariant, options: ReadCifarOptions): Promise<Uint8Dataset> {
  const split = options.split ?? 'train';
  if (!DATA_SPLITS.includes(split)) throw new RangeError(`split: expected one of ${DATA_SPLITS.join(', ')}, got "${String(split)}".`);
  // Accept the parent of the extracted official tarball as well as the folder itself.
  const nested = join(dir, variant.tarballFolder);
  const root = (await isDirectory(nested)) ? nested : dir;
  const classNames = await classNamesOf(root, variant);
  const parts: Uint8Dataset[] = [];
  for (const name of variant.files[split]) {
    // One file at a time: its bytes can be freed once decoded.
    const { bytes, path } = await readFirstDataFile(root, [name]);
    parts.push(decodeCifarRecords(bytes, path, variant.layout, classNames));
  }
  return parts.length === 1 ? parts[0]! : concatDatasets(parts);
}

/**
 * Reads a split of CIFAR-10 from its binary version: `data_batch_1.bin` … `data_batch_5.bin`
 * (train) or `test_batch.bin` (test), each optionally gzipped (`.bin.gz`).
 * @param dir the folder holding the files, or the folder holding `cifar-10-batches-bin/`.
 * @throws DataFormatError naming the file (and byte offset) of a missing or malformed file.
 * @example
 * const train = await readCifar10('/data/cifar-10-batches-bin'); // 50000 images, 32x32x3
 */
export function readCifar10(dir: string, options: ReadCifarOptions = {}): Promise<Uint8Dataset> {
  return readCifar(dir, CIFAR10, options);
}

/**
 * Reads a split of CIFAR-100 from its binary version (`train.bin` / `test.bin`, optionally
 * gzipped). Each record holds a coarse and a fine label; the fine label (100 classes) is used.
 * @param dir the folder holding the files, or the folder holding `cifar-100-binary/`.
 * @throws DataFormatError naming the file (and byte offset) of a missing or malformed file.
 */
export function readCifar100(dir: string, options: ReadCifarOptions = {}): Promise<Uint8Dataset> {
  return readCifar(dir, CIFAR100, options);
}
