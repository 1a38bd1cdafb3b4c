/**
 * @module training/eval/evaluate
 * One call from exit outputs to a storable {@link EvalResult}: anytime rows, the budgeted-batch
 * table and the default policy.
 */
import { anytimeAccuracy } from './anytime.js';
import { budgetedBatch, defaultPolicy } from '../../calibration/budgeted.js';
import { DEFAULT_CRITERION, exitScores, type ExitCriterion } from '../../calibration/confidence.js';
import { EvalInputError, type ExitOutputs } from '../../calibration/exit-outputs.js';
import { EVAL_RESULT_FORMAT, EVAL_RESULT_VERSION, type EvalResult } from './result.js';

/** Inputs of {@link evaluateExits}. */
export interface EvaluateOptions {
  /** Test-set outputs: anytime rows and the scored side of the budgeted table. */
  test: ExitOutputs;
  /** Held-out outputs for the thresholds; without them only anytime rows are produced. */
  val?: ExitOutputs | undefined;
  /** Cumulative cost of each exit, millions of mult-adds. */
  mflops: readonly number[];
  /** @defaultValue 'max-softmax' */
  criterion?: ExitCriterion;
  /** @defaultValue 0.05 … 2.00 */
  ps?: readonly number[];
  /** Accuracy points below the last exit's the default policy may give up. @defaultValue 0.5 */
  tolerance?: number;
  /** Run name stored with the result. */
  name?: string;
}

/** Evaluates a multi-exit model's outputs (spec §6.1 and §6.2). */
export function evaluateExits(opts: EvaluateOptions): EvalResult {
  const { test, val } = opts;
  const criterion = opts.criterion ?? DEFAULT_CRITERION;
  const exits = anytimeAccuracy(test, opts.mflops);
  let valExits: EvalResult['valExits'] = null;
  let budgeted: EvalResult['budgeted'] = [];
  let policy: EvalResult['defaultPolicy'] = null;
  if (val) {
    if (val.numExits !== test.numExits || val.numClasses !== test.numClasses) {
      throw new EvalInputError(`val has ${val.numExits} exits × ${val.numClasses} classes, test has ${test.numExits} × ${test.numClasses}.`);
    }
    valExits = anytimeAccuracy(val, opts.mflops);
    budgeted = budgetedBatch({ val: exitScores(val, criterion), test: exitScores(test, criterion), mflops: opts.mflops, ...(opts.ps ? { ps: opts.ps } : {}) });
    policy = defaultPolicy(budgeted, valExits[valExits.length - 1]!.top1, opts.tolerance);
  }
  return {
    format: EVAL_RESULT_FORMAT,
    formatVersion: EVAL_RESULT_VERSION,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    criterion,
    numExits: test.numExits,
    numClasses: test.numClasses,
    mflops: [...opts.mflops],
    testCount: test.count,
    valCount: val ? val.count : null,
    exits,
    valExits,
    budgeted,
    defaultPolicy: policy,
  };
}
