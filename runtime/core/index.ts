/**
 * @module runtime/core
 * The inference-library-agnostic early-exit runtime: the engine, budgets, confidence criteria and
 * the backend interface. Imports no onnxruntime package and no node built-in.
 */
export type { StageBackend, StageSession } from './backend.js';
export { BUDGET_FIELDS, budgetFromFields, resolveBudget, resolveBudgets, type Budget, type BudgetFields, type BudgetManifest, type ResolvedBudget } from './budget.js';
export { argmaxRow, rowConfidence, rowConfidences, softmaxRows } from '../../manifest/confidence.js';
export { EXIT_CRITERIA } from '../../manifest/schema.js';
export { ManifestError } from '../../manifest/errors.js';
export {
  EarlyExitEngine,
  sha256Hex,
  type ClassifyOptions,
  type ClassifyResult,
  type EngineLoadOptions,
  type EngineSource,
  type EngineStats,
  type Execution,
  type ExitPrediction,
  type StageEvent,
  type TopKEntry,
} from './engine.js';
export { AdaptiveModelBase, loadModelEngine, type CalibrateOptions, type CalibrationResult, type ImageDecoder, type LabelledSet, type ModelInput, type TensorInput } from './model.js';
export type { FusedForm } from './fuse-stages.js';
export { checkInputBatch, sampleDims } from './model-input.js';
export { imagePreprocessing, writePixels, type Pixels, type PreprocessManifest } from './preprocess.js';
export { BudgetError, InferenceError, InputError, ModelClosedError, ModelLoadError } from './errors.js';
export { elementCount, inputTensor, isDeviceTensor, selectRows, type InputData, type RowTensor, type CoreTensor, type DeviceCoreTensor, type Float32CoreTensor, type Float64CoreTensor, type Int64CoreTensor } from './tensor.js';
export { copyGraph, DEVICE_GRAPH_IO, rowGatherGraph } from './device-graphs.js';
export { DeviceTensors, deviceOutputLocations, deviceStageSession, type HelperSession, type OrtTensorConstructor, type OrtTensorLike } from './device-tensors.js';
export { loadStageGraphs, readManifestWith, urlFileReader, type LoadedStages, type ModelFileReader } from './model-files.js';
