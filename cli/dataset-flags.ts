/**
 * @module cli/dataset-flags
 * `--dataset NAME` and `--data DIR`, as `train` and `calibrate` take them.
 */
import type { Command } from 'commander';
import { DATASET_NAMES } from '../datasets/dataset-names.js';
import { choiceFlag } from './parse-flags.js';

/** Adds `--dataset` (one of {@link DATASET_NAMES}) and `--data DIR` to `cmd`. */
export function addDatasetFlags(cmd: Command, dataHelp: string): Command {
  return cmd.option('--dataset <name>', DATASET_NAMES.join(' | '), choiceFlag('--dataset', DATASET_NAMES)).option('--data <dir>', dataHelp);
}
