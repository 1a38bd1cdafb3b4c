/**
 * @module training/trainer/warm-start
 * A run that starts from another run's stage-1 weights (`initFrom`): a warm restart that adds
 * epochs to a finished run without rewriting it, with its own learning-rate schedule.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic-write.js';
import type { ModelConfig } from '../models/config.js';
import type { MultiExitModel } from '../models/multi-exit-model.js';
import { loadModel } from '../models/weights.js';
import { STAGE_FINAL, stageDone } from './run-stage.js';
import { readTrainingTime, WARM_START_FILE } from './training-time.js';

/** The stage whose final weights a warm start reads. */
export const WARM_START_STAGE = 'stage1';

/** The init run's model directory that a warm start loads. */
export function warmStartModelDir(initFrom: string): string {
  return join(initFrom, WARM_START_STAGE, STAGE_FINAL);
}

/** @throws Error unless `initFrom` is a run with a finished stage 1. */
export async function checkWarmStartSource(initFrom: string): Promise<void> {
  if (!(await stageDone(join(initFrom, WARM_START_STAGE)))) {
    throw new Error(`initFrom ${initFrom}: expected a run with a finished ${WARM_START_STAGE} (${warmStartModelDir(initFrom)}/model.json), found none.`);
  }
}

/**
 * Loads the init run's finished stage-1 model, checks that it has this run's architecture, and
 * records in `runDir` the training those weights had (so the run's training time includes it).
 * @throws Error naming the directory and, on a mismatch, the first differing field.
 */
export async function loadWarmStart(runDir: string, initFrom: string, expected: ModelConfig): Promise<MultiExitModel> {
  await checkWarmStartSource(initFrom);
  const model = await loadModel(warmStartModelDir(initFrom));
  const difference = firstDifference(model.config, expected, 'model');
  if (difference) {
    model.dispose();
    throw new Error(`initFrom ${initFrom}: its stage-1 model differs from this run's (${difference}); a warm start needs the same architecture.`);
  }
  // Only what produced the loaded weights: the init run's own warm start and its stage 1.
  const training = (await readTrainingTime(initFrom))
    .filter((t) => t.stage === WARM_START_STAGE || t.stage.includes('/'))
    .map((t) => ({ ...t, stage: `${initFrom}/${t.stage}` }));
  await writeFileAtomic(join(runDir, WARM_START_FILE), `${JSON.stringify({ initFrom, training }, null, 2)}\n`);
  return model;
}

/** The path and both values of the first field where two JSON-like values differ, if any. */
function firstDifference(actual: unknown, expected: unknown, path: string): string | undefined {
  if (typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected !== null) {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    for (const key of keys) {
      const d = firstDifference((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${path}: ${JSON.stringify(actual)} there, ${JSON.stringify(expected)} here`;
}
