/**
 * @module datasets/read-fashion-mnist
 * Reads Fashion-MNIST from its IDX files (gzipped or raw), by default from Debian's `dataset-fashion-mnist`.
 */
import { FASHION_MNIST_CLASSES } from './class-names.js';
import { DATA_SPLITS, type DataSplit, type Uint8Dataset } from './dataset.js';
import { DataFormatError } from './errors.js';
import { decodeIdx } from './idx-format.js';
import { readFirstDataFile } from './read-bytes.js';

/** Where Debian's `dataset-fashion-mnist` package installs the files (`apt-get install dataset-fashion-mnist`). */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * File names of each split, first choice first. The `.gz` suffix is tried automatically; the
 * dotted names are how some mirrors spell them.
 */
export const FASHION_MNIST_FILES: Readonly<Record<DataSplit, { images: readonly string[]; labels: readonly string[] }>> = Object.freeze({
  train: { images: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'], labels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'] },
  test: { images: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'], labels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'] },
});

/** Options of {@link readFashionMnist}. */
export interface ReadFashionMnistOptions {
  /** Folder holding the IDX files. @defaultValue {@link FASHION_MNIST_DIR} */
  dir?: string;
  /** Which split. @defaultValue 'train' */
  split?: DataSplit;
}

/**
 * Reads a split of Fashion-MNIST: 28x28x1 images, 10 classes (60000 train, 10000 test).
 * @throws DataFormatError naming the file (and byte offset) when a file is missing or malformed,
 *   when the label count differs from the image count, or when a label is out of range.
 * @example
 * const test = await readFashionMnist({ split: 'test' }); // test.count === 10000
 */
export async function readFashionMnist(options: ReadFashionMnistOptions = {}): Promise<Uint8Dataset> {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const split = options.split ?? 'train';
  if (!DATA_SPLITS.includes(split)) throw new RangeError(`split: expected one of ${DATA_SPLITS.join(', ')}, got "${String(split)}".`);
  const names = FASHION_MNIST_FILES[split];
  const imageFile = await readFirstDataFile(dir, names.images);
  const images = decodeIdx(imageFile.bytes, imageFile.path, 3);
  const labelFile = await readFirstDataFile(dir, names.labels);
  const labels = decodeIdx(labelFile.bytes, labelFile.path, 1);
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataFormatError(labelFile.path, `expected ${count} labels to match ${imageFile.path}, got ${labels.dims[0]}.`, { offset: 4 });
  }
  const classes = FASHION_MNIST_CLASSES.length;
  for (let i = 0; i < count; i++) {
    if (labels.data[i]! >= classes) {
      const where = labelFile.path.endsWith('.gz') ? ' of the uncompressed data' : '';
      throw new DataFormatError(labelFile.path, `label out of range at byte ${8 + i}${where} (image ${i}): expected a value below ${classes}, got ${labels.data[i]}.`, { offset: 8 + i });
    }
  }
  // Copy out of the file buffers so the dataset owns tightly sized arrays.
  return { images: images.data.slice(), labels: labels.data.slice(), count, height, width, channels: 1, classNames: FASHION_MNIST_CLASSES.slice() };
}
