/**
 * @module training/trainer/load-datasets
 * The train and test sets of a run, read into uint8 memory, with their normalisation.
 */
import { join } from 'node:path';
import {
  CIFAR10_NORMALIZATION,
  CIFAR100_NORMALIZATION,
  computeNormalization,
  DEFAULT_CIFAR10_DIR,
  FASHION_MNIST_DIR,
  FASHION_MNIST_NORMALIZATION,
  readCifar10,
  readCifar100,
  readFashionMnist,
  readImageFolder,
  type ChannelNormalization,
  type Uint8Dataset,
} from '../../datasets/index.js';
import type { TrainConfig } from './train-config.js';

export interface RunData {
  train: Uint8Dataset;
  test: Uint8Dataset;
  normalization: ChannelNormalization;
  /** Where the data was read from. */
  dir: string;
}

/** Reads a run's datasets (throws DataFormatError naming the file on bad data). */
export async function loadRunData(config: Pick<TrainConfig, 'dataset' | 'data' | 'model'>): Promise<RunData> {
  switch (config.dataset) {
    case 'cifar10': {
      const dir = config.data ?? DEFAULT_CIFAR10_DIR;
      const [train, test] = await Promise.all([readCifar10(dir, { split: 'train' }), readCifar10(dir, { split: 'test' })]);
      return { train, test, normalization: CIFAR10_NORMALIZATION, dir };
    }
    case 'cifar100': {
      const dir = config.data!;
      const [train, test] = await Promise.all([readCifar100(dir, { split: 'train' }), readCifar100(dir, { split: 'test' })]);
      return { train, test, normalization: CIFAR100_NORMALIZATION, dir };
    }
    case 'fashion-mnist': {
      const dir = config.data ?? FASHION_MNIST_DIR;
      const [train, test] = await Promise.all([readFashionMnist({ dir, split: 'train' }), readFashionMnist({ dir, split: 'test' })]);
      return { train, test, normalization: FASHION_MNIST_NORMALIZATION, dir };
    }
    case 'folder': {
      const dir = config.data!;
      const [height, width] = config.model.inputSize;
      const channels = config.model.inputChannels as 1 | 3;
      const [train, test] = await Promise.all([
        readImageFolder(join(dir, 'train'), { height, width, channels }),
        readImageFolder(join(dir, 'test'), { height, width, channels }),
      ]);
      // No published constants for a user's folder: measured on its training images.
      return { train, test, normalization: computeNormalization(train), dir };
    }
  }
}
