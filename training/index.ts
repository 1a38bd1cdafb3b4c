/**
 * @module training
 * Training multi-exit MSDNets with TensorFlow.js: backend, models, the IMTA techniques,
 * objectives, optimiser and training steps. The public surface of the folder.
 */
export * from './backend/index.js';
export * from './models/index.js';
export { loadModel, saveModel, readWeightsAsync, assignWeights, copyMatchingWeights, toStage2Model, ModelFileError, MODEL_FILE, WEIGHTS_FILE } from './models/weights.js';
export { gradientEquilibriumScales } from './techniques/gradient-equilibrium.js';
export { scaleGradient, stopGradient } from './techniques/gradient-scale.js';
export { buildIscHeads, applyIscExit, type IscHeads, type IscLink } from './techniques/isc.js';
export { crossEntropy, sumOfExitCrossEntropies } from './techniques/losses.js';
export { DEFAULT_OFA_KD, KD_REDUCTIONS, distillationKl, ofaKdLoss, type KdReduction, type OfaKdOptions } from './techniques/ofa-kd.js';
export { FROZEN_BN_MODES, OBJECTIVES, objectiveLoss, planObjective, type FrozenBnMode, type Objective, type ObjectiveOptions, type ObjectivePlan } from './objective.js';
export { DEFAULT_SGD, Sgd, type SgdOptions } from './optim/sgd.js';
export { applyGradients, computeGradients, discardGradients, NonFiniteLossError, trainStep, type PendingStep, type TrainStepResult } from './train-step.js';
export { benchTrainStep, type TrainStepBenchOptions, type TrainStepBenchResult } from './bench-train-step.js';
export * from './eval/index.js';
export * from '../datasets/index.js';
export * from './trainer/index.js';
