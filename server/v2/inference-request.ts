/**
 * @module server/v2/inference-request
 * An Open Inference Protocol request, whichever transport brought it (REST JSON, REST binary, gRPC),
 * checked against one model and turned into what the engine takes: the images or the input tensor,
 * one budget per request or per sample, and the outputs to return. Every problem is a 400 naming
 * the input, output or parameter at fault.
 */
import type { Manifest } from '../../manifest/index.js';
import { resolveBudget, sampleDims, type Budget, type InputData } from '../../runtime/node/index.js';
import { HttpError } from '../errors.js';
import type { ServedModel } from '../model-registry.js';
import { BUDGET_PARAMETERS, IMAGE_BYTES, OUTPUT_NAMES, modelInputs, tensorDatatype, type BudgetParameter, type OutputName } from './metadata.js';
import { decodeContents, type RawContents, type Tensor } from './tensor-codec.js';

/** A parameter value as the protocol allows it: a scalar. */
export type ParameterValue = string | number | boolean;

export interface RequestInput {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Record<string, unknown>;
  contents: RawContents;
}

export interface RequestedOutput {
  name: string;
  parameters: Record<string, unknown>;
}

/** A request as a transport decoded it, before it is checked against the model. */
export interface InferenceRequest {
  id?: string | undefined;
  parameters: Record<string, unknown>;
  inputs: RequestInput[];
  /** Absent or empty: every output. */
  outputs?: RequestedOutput[] | undefined;
}

export interface OutputPlan {
  name: OutputName;
  /** Top-k classes as "value:index:label" strings instead of the tensor (classification extension). */
  classification?: number | undefined;
  /** Whether the binary tensor data extension carries this output (REST only). */
  binary: boolean;
}

/** What the engine runs and what goes back. */
export interface InferencePlan {
  /** Encoded images, or the model's input tensor (preprocessed NCHW float32, or int64 token ids). */
  input: Uint8Array[] | { data: InputData; dims: number[] };
  n: number;
  /** One budget for every sample, one per sample, or none (the manifest's default policy). */
  budget: Budget | Budget[] | undefined;
  outputs: OutputPlan[];
}

/**
 * Parameters the protocol reserves or Triton's clients send, with no meaning here: accepted and
 * ignored. `binary_data_output` is read by the REST transport. Names starting `triton_` too.
 */
export const IGNORED_PARAMETERS = Object.freeze(['priority', 'timeout', 'sequence_id', 'sequence_start', 'sequence_end', 'headers', 'binary_data_output']);
/** Input parameters the transports read (binary extension). */
const INPUT_PARAMETERS = ['binary_data_size'];
/** Output parameters (binary and classification extensions). */
const OUTPUT_PARAMETERS = ['binary_data', 'classification'];

const bad = (message: string) => new HttpError(400, 'invalid_input', message);

const isBudgetParameter = (name: string): name is BudgetParameter => Object.hasOwn(BUDGET_PARAMETERS, name);

function checkScalars(where: string, parameters: Record<string, unknown>, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(parameters)) {
    if (value === null || (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')) {
      throw new HttpError(400, 'invalid_parameter', `${where}.${key}: a parameter must be a scalar (string, number or boolean), got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}.`);
    }
    if (!allowed.includes(key) && !key.startsWith('triton_')) {
      throw new HttpError(400, 'invalid_parameter', `${where}: unknown parameter "${key}"; known: ${allowed.join(', ')}.`);
    }
  }
}

/** A runtime budget with one parameter's value set (thresholds repeat `threshold` for every exit). */
function withBudgetValue(budget: Budget, name: BudgetParameter, value: number, K: number): Budget {
  const { field } = BUDGET_PARAMETERS[name];
  return field === 'threshold' ? { ...budget, thresholds: new Array<number>(K).fill(value) } : { ...budget, [field]: value };
}

/**
 * Checks a request against the model and plans its inference.
 * @throws HttpError 400 for unknown, duplicate, missing or mistyped inputs, outputs and parameters,
 *   and for budgets the model cannot apply.
 */
export function planInference(m: ServedModel, request: InferenceRequest): InferencePlan {
  const manifest: Manifest = m.model.manifest;
  const K = manifest.stages.length;
  const N = manifest.classNames.length;
  checkScalars('parameters', request.parameters, [...Object.keys(BUDGET_PARAMETERS), ...IGNORED_PARAMETERS]);

  const specs = new Map(modelInputs(m).map((s) => [s.name, s]));
  const tensors = new Map<string, Tensor>();
  if (!Array.isArray(request.inputs) || request.inputs.length === 0) throw bad(`inputs: expected at least one input (${manifest.input.name} or ${IMAGE_BYTES}).`);
  for (const input of request.inputs) {
    const spec = specs.get(input.name);
    if (!spec && input.name === IMAGE_BYTES) {
      const what = manifest.input.dtype === 'int64' ? 'token ids' : 'preprocessed tensors';
      throw bad(`${IMAGE_BYTES}: this model takes ${what} only (${tensorDatatype(manifest)} ${manifest.input.name}), not encoded images.`);
    }
    if (!spec) throw bad(`inputs: unknown input "${input.name}"; the model takes ${[...specs.keys()].join(', ')}.`);
    if (tensors.has(input.name)) throw bad(`inputs: "${input.name}" is given twice.`);
    checkScalars(`inputs.${input.name}.parameters`, input.parameters, INPUT_PARAMETERS);
    if (input.datatype !== spec.datatype) throw bad(`${input.name}: datatype must be ${spec.datatype}, got ${JSON.stringify(input.datatype)}.`);
    const shape = input.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`${input.name}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}.`);
    if (shape.length !== spec.shape.length || spec.shape.some((d, i) => d !== -1 && d !== shape[i])) {
      throw bad(`${input.name}: shape must be ${JSON.stringify(spec.shape).replace('-1', 'n')}, got ${JSON.stringify(shape)}.`);
    }
    tensors.set(input.name, decodeContents(input.name, spec.datatype, shape, input.contents));
  }

  const tensor = tensors.get(manifest.input.name);
  const images = tensors.get(IMAGE_BYTES);
  if (tensor && images) throw bad(`inputs: give ${manifest.input.name} or ${IMAGE_BYTES}, not both.`);
  if (!tensor && !images) {
    const tensorSpec = `${manifest.input.name} (${tensorDatatype(manifest)} [n, ${sampleDims(manifest).join(', ')}])`;
    throw bad(`inputs: expected ${specs.has(IMAGE_BYTES) ? `${tensorSpec} or ${IMAGE_BYTES} (BYTES [n])` : tensorSpec}.`);
  }
  let input: InferencePlan['input'];
  let n: number;
  if (tensor) {
    n = tensor.shape[0]!;
    input = { data: tensor.data as InputData, dims: tensor.shape };
  } else {
    n = images!.shape[0]!;
    input = images!.data as Uint8Array[];
  }
  if (n === 0) throw bad('inputs: no sample to classify (the batch dimension is 0).');

  // Request-wide budget from parameters, then per-sample values from inputs of the same names.
  let shared: Budget = {};
  for (const [key, value] of Object.entries(request.parameters)) {
    if (!isBudgetParameter(key)) continue;
    if (typeof value !== 'number') throw new HttpError(400, 'invalid_budget', `parameters.${key}: expected a number, got ${JSON.stringify(value)}.`);
    shared = withBudgetValue(shared, key, value, K);
  }
  const perSample = [...tensors.values()].filter((t) => isBudgetParameter(t.name));
  for (const t of perSample) {
    if (request.parameters[t.name] !== undefined) throw bad(`${t.name}: given both as a request parameter and as an input; give one.`);
    if (t.shape[0] !== n) throw bad(`${t.name}: shape must be [${n}] (one value per sample), got ${JSON.stringify(t.shape)}.`);
  }
  let budget: InferencePlan['budget'];
  if (perSample.length === 0) {
    budget = Object.keys(shared).length > 0 ? shared : undefined;
    // Resolving checks the values against the model now, so a bad budget fails its own request only.
    if (budget) resolveBudget(budget, manifest, 'parameters');
  } else {
    budget = Array.from({ length: n }, (_, i) => {
      let b = shared;
      for (const t of perSample) b = withBudgetValue(b, t.name as BudgetParameter, Number((t.data as Float32Array | Int32Array)[i]), K);
      resolveBudget(b, manifest, `sample ${i}`);
      return b;
    });
  }

  const outputs: OutputPlan[] = [];
  const requested = request.outputs && request.outputs.length > 0 ? request.outputs : OUTPUT_NAMES.map((name): RequestedOutput => ({ name, parameters: {} }));
  const allBinary = request.parameters.binary_data_output === true;
  for (const o of requested) {
    if (!(OUTPUT_NAMES as readonly string[]).includes(o.name)) throw bad(`outputs: unknown output "${o.name}"; the model returns ${OUTPUT_NAMES.join(', ')}.`);
    if (outputs.some((x) => x.name === o.name)) throw bad(`outputs: "${o.name}" is requested twice.`);
    checkScalars(`outputs.${o.name}.parameters`, o.parameters, OUTPUT_PARAMETERS);
    const k = o.parameters.classification;
    if (k !== undefined) {
      if (o.name !== 'logits') throw bad(`outputs.${o.name}: classification applies to the logits output only.`);
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > N) throw bad(`outputs.logits.parameters.classification: expected an integer in 1..${N}, got ${JSON.stringify(k)}.`);
    }
    const binary = o.parameters.binary_data;
    if (binary !== undefined && typeof binary !== 'boolean') throw bad(`outputs.${o.name}.parameters.binary_data: expected true or false, got ${JSON.stringify(binary)}.`);
    outputs.push({ name: o.name as OutputName, classification: k as number | undefined, binary: binary ?? allBinary });
  }
  return { input, n, budget, outputs };
}
