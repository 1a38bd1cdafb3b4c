/**
 * @module calibration
 * The calibration math shared by training, export, import and the runtime (spec §6.2): exit
 * scores per criterion, the budgeted-batch threshold search, the default policy and its mapping to
 * a manifest. A leaf: it imports only `manifest/`, so the runtime can ship it without the trainer.
 */
export { argmaxRows, checkExitOutputs, EvalInputError, softmaxRows, type ExitOutputs } from './exit-outputs.js';
export { DEFAULT_CRITERION, EXIT_CRITERIA, exitScores, rowConfidences, type ExitCriterion, type ExitScores } from './confidence.js';
export {
  ALWAYS_EXIT,
  NEVER_EXIT,
  applyThresholds,
  confidenceOrders,
  defaultPGrid,
  exitDistribution,
  findThresholds,
  targetCount,
  type ThresholdOutcome,
} from './thresholds.js';
export { budgetedBatch, defaultPolicy, type BudgetedBatchOptions, type BudgetPoint, type DefaultPolicy } from './budgeted.js';
export { manifestPolicy, type LastExitFallback } from './policy.js';
