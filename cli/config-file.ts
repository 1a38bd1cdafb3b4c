/**
 * @module cli/config-file
 * A training configuration from a JSON file (any subset of the fields) over the dataset's
 * defaults: what `train --config` and `study --config` start from.
 */
import { readFile } from 'node:fs/promises';
import { DATASETS, datasetModelDefaults, defaultTrainConfig, type DatasetName, type TrainConfig } from '../training/index.js';

async function readConfigFile(path: string): Promise<Partial<TrainConfig>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Partial<TrainConfig>;
  } catch (err) {
    throw new Error(`--config: cannot read "${path}" as JSON (${(err as Error).message}).`);
  }
}

/**
 * The defaults of the dataset (from `dataset`, else the file's), overlaid with the file's fields.
 * @throws Error naming the command when no dataset is given anywhere.
 */
export async function configWithDefaults(path: string | undefined, dataset: DatasetName | undefined, command: string): Promise<Record<string, unknown>> {
  const file = path ? await readConfigFile(path) : {};
  const name = (dataset ?? file.dataset) as DatasetName | undefined;
  if (!name) throw new Error(`${command}: expected --dataset (${DATASETS.join(', ')}), got none.`);
  const base = defaultTrainConfig(name);
  return { ...base, ...file, dataset: name, model: { ...base.model, ...datasetModelDefaults(name), ...(file.model ?? {}) } };
}
