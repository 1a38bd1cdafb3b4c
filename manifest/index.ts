/**
 * @module manifest
 * The manifest contract between training, export and runtime: schema, version, parsing and the
 * JSON Schema. The public surface of the folder. manifest/ depends on zod and node built-ins
 * only and must never import from training/, export/ or runtime/.
 */
export {
  BATCH_DIM,
  CHANNEL_ORDERS,
  EXIT_CRITERIA,
  MANIFEST_MAJOR_VERSION,
  MANIFEST_SCHEMA_VERSION,
  ManifestSchema,
  RESIZE_FITS,
  RESIZE_MODES,
  StageSchema,
  TENSOR_DTYPES,
  checkSchemaVersion,
  semverMajor,
  trainingProvenance,
  type CalibrationPoint,
  type ImportProvenance,
  type Preprocessing,
  type Provenance,
  type TrainingProvenance,
  type CarriedInputRole,
  type CarriedOutputRole,
  type Dim,
  type ExitCriterion,
  type ExitPolicy,
  type ImageRole,
  type LogitsRole,
  type Manifest,
  type ManifestInput,
  type PreviousLogitsRole,
  type RowIndicesRole,
  type Stage,
  type StageInputRole,
  type StageInputTensor,
  type StageOutputRole,
  type StageOutputTensor,
  type StageTensor,
  type TensorDtype,
  type TensorRole,
  type ThresholdPolicy,
} from './schema.js';
export { MANIFEST_FILE, parseManifest } from './parse.js';
export { readManifest } from './read-manifest.js';
export { ManifestError, formatJsonPath, type ManifestErrorOptions, type ManifestIssue } from './errors.js';
export { MANIFEST_JSON_SCHEMA_FILE, manifestJsonSchema } from './json-schema.js';
export { argmaxRow, rowConfidence, rowConfidences, softmaxRows } from './confidence.js';
