/**
 * @module datasets
 * Datasets for training: readers (CIFAR-10/100 binary, Fashion-MNIST IDX, image folders) into
 * uint8 memory, seeded batching with augmentation and normalisation, and validation splits.
 */
export { assertDataset, concatDatasets, imageBytes, DATA_SPLITS, type DataSplit, type Uint8Dataset } from './dataset.js';
export { DataFormatError } from './errors.js';
export { readDataFile, readFirstDataFile } from './read-bytes.js';
export { CIFAR10_CLASSES, CIFAR100_CLASSES, FASHION_MNIST_CLASSES } from './class-names.js';
export {
  CIFAR_IMAGE_SIZE, CIFAR10_LAYOUT, CIFAR100_LAYOUT, cifarRecordBytes, decodeCifarRecords, encodeCifarRecords, type CifarLabelLayout,
} from './cifar-format.js';
export { CIFAR10_FILES, CIFAR100_FILES, DEFAULT_CIFAR10_DIR, readCifar10, readCifar100, type ReadCifarOptions } from './read-cifar.js';
export { decodeIdx, encodeIdx, type IdxArray } from './idx-format.js';
export { FASHION_MNIST_DIR, FASHION_MNIST_FILES, readFashionMnist, type ReadFashionMnistOptions } from './read-fashion-mnist.js';
export { IMAGE_EXTENSIONS, IMAGE_FITS, readImageFolder, type ImageFit, type ReadImageFolderOptions } from './read-image-folder.js';
export { hash32, SeededRng, type RngState } from './rng.js';
export {
  CIFAR10_NORMALIZATION, CIFAR100_NORMALIZATION, FASHION_MNIST_NORMALIZATION, assertNormalization, computeNormalization, type ChannelNormalization,
} from './normalization.js';
export { DEFAULT_AUGMENT, IDENTITY_TRANSFORM, sampleTransform, type AugmentOptions, type SampleTransform } from './augment.js';
export { batchCount, epochBatches, type Batch, type EpochBatches, type EpochBatchOptions } from './batches.js';
export {
  DEFAULT_CIFAR_VAL_SIZE, loadValidationSplit, saveValidationSplit, splitValidation, validationSplitFromJson, validationSplitToJson, type ValidationSplit,
} from './validation-split.js';
export { readTarFiles } from './untar.js';
export { DATASET_NAMES, type DatasetName } from './dataset-names.js';
export { readDatasetSplit, type ReadDatasetSplitOptions } from './named-dataset.js';
export { CIFAR10_NPM_PACKAGE, CIFAR10_SHA256, buildCifar10FromNpm, type BuildCifar10Options, type BuildCifar10Result } from './cifar10-npm.js';
