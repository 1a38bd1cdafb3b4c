/**
 * @module server/v2/metadata
 * What the Open Inference Protocol says about this server and its models: the server metadata,
 * each model's versions, inputs and outputs (the tensor input, `image_bytes`, the per-sample
 * budget inputs; logits, exit, mflops, confidence, label), and the lookup of a model and version
 * named in a path (404 otherwise).
 */
import type { Manifest } from '../../manifest/index.js';
import { sampleDims } from '../../runtime/node/index.js';
import { packageVersion } from '../../runtime/node/package-files.js';
import { HttpError } from '../errors.js';
import type { ModelRegistry, ServedModel } from '../model-registry.js';
import type { Datatype } from './tensor-codec.js';

/** The extensions this server implements, as `GET /v2` lists them. */
export const EXTENSIONS = Object.freeze(['binary_tensor_data', 'classification', 'early_exit']);

/** Name of the input that carries encoded images (PNG, JPEG, WebP). */
export const IMAGE_BYTES = 'image_bytes';

/** Budget parameters (request-wide scalars, or inputs of shape [n] per sample) and the runtime's budget field each sets. */
export const BUDGET_PARAMETERS = Object.freeze({
  avg_mflops: { field: 'avgMflops', datatype: 'FP32' },
  max_mflops: { field: 'maxMflops', datatype: 'FP32' },
  max_exit: { field: 'maxExit', datatype: 'INT32' },
  deadline_ms: { field: 'deadlineMs', datatype: 'FP32' },
  threshold: { field: 'threshold', datatype: 'FP32' },
} as const satisfies Record<string, { field: string; datatype: Datatype }>);

export type BudgetParameter = keyof typeof BUDGET_PARAMETERS;

/** The outputs every inference can return, in the order they are returned when none is named. */
export const OUTPUT_NAMES = Object.freeze(['logits', 'exit', 'mflops', 'confidence', 'label'] as const);
export type OutputName = (typeof OUTPUT_NAMES)[number];

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export function serverMetadata() {
  return { name: 'adaptive-exit', version: packageVersion, extensions: [...EXTENSIONS] };
}

/** The versions a model answers to: the manifest's version, or "1". */
export function modelVersions(m: ServedModel): string[] {
  return [m.model.manifest.model.version || '1'];
}

/** The protocol datatype of the model's tensor input: INT64 for token ids, FP32 for images. */
export function tensorDatatype(manifest: Pick<Manifest, 'input'>): 'FP32' | 'INT64' {
  return manifest.input.dtype === 'int64' ? 'INT64' : 'FP32';
}

/** Whether the model decodes encoded images itself: a float input with the manifest's image preprocessing. */
export function takesImages(manifest: Pick<Manifest, 'input' | 'preprocessing'>): boolean {
  return manifest.input.dtype !== 'int64' && manifest.preprocessing !== undefined && manifest.preprocessing !== null;
}

/**
 * The model's inputs: its tensor input (any batch; NCHW float32 for images, int64 `[n, sequence]`
 * for token ids), encoded images (only for models with image preprocessing), and one per budget parameter.
 */
export function modelInputs(m: ServedModel): TensorMetadata[] {
  const { manifest } = m.model;
  return [
    { name: manifest.input.name, datatype: tensorDatatype(manifest), shape: [-1, ...sampleDims(manifest)] },
    ...(takesImages(manifest) ? [{ name: IMAGE_BYTES, datatype: 'BYTES' as const, shape: [-1] }] : []),
    ...Object.entries(BUDGET_PARAMETERS).map(([p, { datatype }]) => ({ name: p, datatype, shape: [-1] })),
  ];
}

export function modelOutputs(m: ServedModel): TensorMetadata[] {
  const N = m.model.manifest.classNames.length;
  const datatypes: Record<OutputName, Datatype> = { logits: 'FP32', exit: 'INT32', mflops: 'FP32', confidence: 'FP32', label: 'BYTES' };
  return OUTPUT_NAMES.map((name) => ({ name, datatype: datatypes[name], shape: name === 'logits' ? [-1, N] : [-1] }));
}

export function modelMetadata(m: ServedModel) {
  return { name: m.id, versions: modelVersions(m), platform: 'adaptive-exit', inputs: modelInputs(m), outputs: modelOutputs(m) };
}

/**
 * The model named `name` (and `version`, when given and not empty).
 * @throws HttpError 404 naming what is served.
 */
export function findModel(registry: ModelRegistry, name: string, version?: string): ServedModel {
  const m = registry.get(name);
  if (!m) throw new HttpError(404, 'unknown_model', `no model "${name}"; served: ${registry.all.map((x) => x.id).join(', ')}.`);
  if (version !== undefined && version !== '' && !modelVersions(m).includes(version)) {
    throw new HttpError(404, 'unknown_version', `model "${name}" has no version "${version}"; versions: ${modelVersions(m).join(', ')}.`);
  }
  return m;
}
