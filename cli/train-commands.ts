/**
 * @module cli/train-commands
 * The `@adaptive-exit/train` package's commands (tfjs): what `adaptive-exit train|eval|export|
 * study|model` load when that package is installed.
 */
import type { TrainCommandName } from './load-train.js';
import type { Command } from 'commander';
import { selectTrainingBackend } from '../training/backend/index.js';
import { versionOf } from './version-of.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { modelCommand } from './commands/model.js';
import { studyCommand } from './commands/study.js';
import { trainCommand } from './commands/train.js';

export const trainCommands: Record<TrainCommandName, () => Command> = {
  train: trainCommand,
  eval: evalCommand,
  export: exportCommand,
  study: studyCommand,
  model: modelCommand,
};

/** The training backend `train` would use and the tfjs versions, for `adaptive-exit info`. */
export async function trainingBackendInfo(options: { backend?: string; threads?: number; log?: (line: string) => void }): Promise<Record<string, unknown>> {
  const info = await selectTrainingBackend(options);
  return {
    '@tensorflow/tfjs-core': versionOf('@tensorflow/tfjs-core'),
    '@tensorflow/tfjs-backend-wasm': versionOf('@tensorflow/tfjs-backend-wasm'),
    '@tensorflow/tfjs-backend-webgpu': versionOf('@tensorflow/tfjs-backend-webgpu'),
    trainingBackend: info.name,
    provider: info.provider,
    threads: info.threads,
    ...(info.adapter === undefined ? {} : { adapter: info.adapter }),
    chosenBy: info.source,
    skipped: info.skipped,
  };
}
