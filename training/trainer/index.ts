/**
 * @module training/trainer
 * Training runs: configuration, datasets, the epoch loop with checkpoints and resume, recipes.
 */
export * from './train-config.js';
export { learningRate, type ScheduleInput } from './lr-schedule.js';
export { collectExitLogits, exitAccuracies, type ExitLogits } from './exit-outputs.js';
export { loadRunData, type RunData } from './load-datasets.js';
export { findCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
export { runStage, stageDone, STAGE_FINAL, STAGE_LOG, type EpochRecord, type StageSpec } from './run-stage.js';
export { readRunConfig, RESULT_FILE, RUN_FILE, RUN_MODEL_DIR, SPLIT_FILE, trainRun, type TrainRunOptions, type TrainRunResult } from './train-run.js';
export { readTrainingTime, type StageTime } from './training-time.js';
export { EVAL_PLOT_FILE, evaluateRun, type EvaluateRunOptions } from './evaluate-run.js';
