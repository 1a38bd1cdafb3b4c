/** Test helper: a real training run small enough for a test's setup (a few steps on Fashion-MNIST). */
import { defaultTrainConfig, type TrainConfig } from '../../training/trainer/index.js';

/** The full IMTA recipe on a 3-exit MSDNet, one epoch of `limitTrain` images per stage. */
export function tinyFashionRun(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const base = defaultTrainConfig('fashion-mnist');
  return {
    ...base,
    model: { ...base.model, nBlocks: 3, base: 2, step: 1, nChannels: 8, growthRate: 4 },
    epochs: 1,
    stage2Epochs: 1,
    limitTrain: 128,
    limitTest: 64,
    valSize: 200,
    batchSize: 32,
    evalEveryEpoch: false,
    ...overrides,
  };
}
