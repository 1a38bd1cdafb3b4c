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
  readDatasetSplit,
  type ChannelNormalization,
  type DatasetName,
  type DataSplit,
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

/** Published per-channel statistics; a user's folder has none and is measured instead. */
const NORMALIZATION: Record<Exclude<DatasetName, 'folder'>, ChannelNormalization> = {
  cifar10: CIFAR10_NORMALIZATION,
  cifar100: CIFAR100_NORMALIZATION,
  'fashion-mnist': FASHION_MNIST_NORMALIZATION,
};

const DEFAULT_DIR: Partial<Record<DatasetName, string>> = { cifar10: DEFAULT_CIFAR10_DIR, 'fashion-mnist': FASHION_MNIST_DIR };

/** Reads a run's datasets (throws DataFormatError naming the file on bad data). */
export async function loadRunData(config: Pick<TrainConfig, 'dataset' | 'data' | 'model'>): Promise<RunData> {
  const { dataset } = config;
  const dir = config.data ?? DEFAULT_DIR[dataset];
  const [height, width] = config.model.inputSize;
  const image = { height, width, channels: config.model.inputChannels as 1 | 3 };
  // A run needs both splits, so a folder holds DIR/train and DIR/test (one subfolder per class
  // in each); `calibrate` reads a folder as it is.
  const read = (split: DataSplit) => readDatasetSplit(dataset, { split, dir: dataset === 'folder' && dir ? join(dir, split) : dir, image });
  const [train, test] = await Promise.all([read('train'), read('test')]);
  const normalization = dataset === 'folder' ? computeNormalization(train) : NORMALIZATION[dataset];
  return { train, test, normalization, dir: dir! };
}
