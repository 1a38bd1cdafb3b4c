/**
 * @module datasets/dataset-names
 * The datasets the command line names (`--dataset` of `train` and `calibrate`). Its own module,
 * without imports, so that defining the flags does not load the readers (and sharp).
 */

/** `--dataset` values: the built-in datasets and a folder of images (one subfolder per class). */
export const DATASET_NAMES = Object.freeze(['cifar10', 'cifar100', 'fashion-mnist', 'folder'] as const);
export type DatasetName = (typeof DATASET_NAMES)[number];
