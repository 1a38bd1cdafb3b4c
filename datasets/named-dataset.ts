/**
 * @module datasets/named-dataset
 * Reading one split of a dataset the command line names (`--dataset` of `train` and
 * `calibrate`). tfjs-free, so the runtime package's `calibrate` reads data as training does.
 */
import type { DatasetName } from './dataset-names.js';
import type { DataSplit, Uint8Dataset } from './dataset.js';
import { DataFormatError } from './errors.js';
import { DEFAULT_CIFAR10_DIR, readCifar10, readCifar100 } from './read-cifar.js';
import { FASHION_MNIST_DIR, readFashionMnist } from './read-fashion-mnist.js';
import { readImageFolder, type ImageFit } from './read-image-folder.js';


export interface ReadDatasetSplitOptions {
  split: DataSplit;
  /** Where the data is (default: CIFAR-10 from `adaptive-exit data cifar10`, Fashion-MNIST from Debian); required for cifar100 and folder. */
  dir?: string;
  /** Size images of a folder are decoded to. */
  image?: { height: number; width: number; channels: 1 | 3; fit?: ImageFit };
}

/**
 * One split of a named dataset. A folder is read as it is (one subfolder per class); `split`
 * applies to the built-in datasets.
 * @throws DataFormatError naming the missing or malformed file; Error when a required dir or image size is missing.
 */
export async function readDatasetSplit(name: DatasetName, options: ReadDatasetSplitOptions): Promise<Uint8Dataset> {
  const { split, dir } = options;
  switch (name) {
    case 'cifar10':
      return readCifar10(dir ?? DEFAULT_CIFAR10_DIR, { split });
    case 'cifar100':
      if (!dir) throw new Error('--dataset cifar100: expected --data DIR (the cifar-100-binary folder).');
      return readCifar100(dir, { split });
    case 'fashion-mnist':
      return readFashionMnist({ dir: dir ?? FASHION_MNIST_DIR, split });
    case 'folder':
      if (!dir) throw new Error('--dataset folder: expected --data DIR (one subfolder of images per class).');
      if (!options.image) throw new DataFormatError(dir, 'a folder needs the image size to decode to.');
      return readImageFolder(dir, options.image);
  }
}
