/**
 * @module training/trainer/evaluate-run
 * Evaluates a finished run: every exit's logits on the held-out validation split and the test
 * set, anytime accuracy, the budgeted-batch threshold table (spec §6.2), the default policy;
 * stored as `eval.json` (the exporter's calibration table) with an SVG plot beside it.
 */
import { join } from 'node:path';
import { loadValidationSplit } from '../../datasets/index.js';
import { evaluateExits, evalResultSeries, renderAccuracyPlot, writeEvalResult, type ExitCriterion, type EvalResult } from '../eval/index.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { exitCosts } from '../models/cost.js';
import { loadModel } from '../models/weights.js';
import { collectExitLogits } from './exit-outputs.js';
import { loadRunData } from './load-datasets.js';
import { readRunConfig, RUN_MODEL_DIR, SPLIT_FILE } from './train-run.js';

export const EVAL_PLOT_FILE = 'eval.svg';

export interface EvaluateRunOptions {
  criterion?: ExitCriterion;
  batchSize?: number;
  log?: (line: string) => void;
}

/** Evaluates the run in `runDir` and writes `eval.json` and `eval.svg` into it. */
export async function evaluateRun(runDir: string, options: EvaluateRunOptions = {}): Promise<EvalResult> {
  const log = options.log ?? (() => {});
  const config = await readRunConfig(runDir);
  const model = await loadModel(join(runDir, RUN_MODEL_DIR));
  try {
    const data = await loadRunData(config);
    const mflops = exitCosts(model).map((c) => c.mflops);
    const testIndices = config.limitTest > 0 ? Int32Array.from({ length: Math.min(config.limitTest, data.test.count) }, (_, i) => i) : undefined;
    log(`${runDir}: test set (${testIndices?.length ?? data.test.count} images)`);
    const test = await collectExitLogits(model, data.test, data.normalization, { indices: testIndices, batchSize: options.batchSize });
    let val;
    if (config.valSize > 0) {
      // The same held-out images as training saved; no augmentation (the reference's
      // augmented validation images are a quirk, spec §4.3).
      const split = await loadValidationSplit(join(runDir, SPLIT_FILE), data.train.count);
      log(`${runDir}: validation split (${split.val.length} images)`);
      val = await collectExitLogits(model, data.train, data.normalization, { indices: split.val, batchSize: options.batchSize });
    }
    const result = evaluateExits({ test, val, mflops, criterion: options.criterion, name: runDir });
    await writeEvalResult(runDir, result);
    await writeFileAtomic(join(runDir, EVAL_PLOT_FILE), renderAccuracyPlot({ title: `${config.dataset}: accuracy against MFLOPs`, series: evalResultSeries(result) }));
    return result;
  } finally {
    model.dispose();
  }
}
