/**
 * @module server/v2/grpc-messages
 * The gRPC service's messages as @grpc/proto-loader gives them (snake_case fields, int64 as
 * numbers, oneofs named) to and from the protocol-neutral request and output tensors.
 */
import { fileURLToPath } from 'node:url';
import type { InferenceRequest, RequestInput } from './inference-request.js';
import { toBinary, type RawContents, type Tensor } from './tensor-codec.js';
import { HttpError } from '../errors.js';

/** The .proto file, beside this module. */
export const PROTO_PATH = fileURLToPath(new URL('./grpc_predict_v2.proto', import.meta.url));

/** How proto-loader should shape messages; the client in the tests uses the same. */
export const LOADER_OPTIONS = Object.freeze({ keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });

export interface InferParameterMessage {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

interface ContentsMessage {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  fp32_contents?: number[];
  bytes_contents?: Uint8Array[];
}

export interface ModelInferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameterMessage>;
  inputs: Array<{ name: string; datatype: string; shape: number[]; parameters: Record<string, InferParameterMessage>; contents?: ContentsMessage | null }>;
  outputs: Array<{ name: string; parameters: Record<string, InferParameterMessage> }>;
  raw_input_contents: Uint8Array[];
}

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameterMessage>;
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
  raw_output_contents: Uint8Array[];
}

/** The scalar an InferParameter holds. */
export function parameterValue(p: InferParameterMessage): string | number | boolean | undefined {
  return p.parameter_choice === undefined ? undefined : p[p.parameter_choice];
}

/** An InferParameter holding `v` (whole numbers as int64_param, others as double_param). */
export function parameterMessage(v: string | number | boolean): InferParameterMessage {
  if (typeof v === 'boolean') return { parameter_choice: 'bool_param', bool_param: v };
  if (typeof v === 'string') return { parameter_choice: 'string_param', string_param: v };
  return Number.isInteger(v) ? { parameter_choice: 'int64_param', int64_param: v } : { parameter_choice: 'double_param', double_param: v };
}

function parameters(map: Record<string, InferParameterMessage> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([k, p]) => [k, parameterValue(p)]));
}

/** The typed list of `contents` that holds a tensor of `datatype`. */
function typedContents(datatype: string, c: ContentsMessage | null | undefined): RawContents {
  const values = datatype === 'FP32' ? c?.fp32_contents : datatype === 'INT32' ? c?.int_contents : datatype === 'INT64' ? c?.int64_contents : datatype === 'BYTES' ? c?.bytes_contents : datatype === 'BOOL' ? c?.bool_contents : undefined;
  return { kind: 'list', values: values ?? [] };
}

/**
 * A ModelInferRequest as the protocol-neutral request.
 * @throws HttpError 400 when raw_input_contents does not give one entry per input.
 */
export function requestFromMessage(msg: ModelInferRequestMessage): InferenceRequest {
  const raw = msg.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== msg.inputs.length) throw new HttpError(400, 'invalid_input', `raw_input_contents has ${raw.length} entries for ${msg.inputs.length} inputs; give one per input, in order.`);
  const inputs: RequestInput[] = msg.inputs.map((x, i) => ({
    name: x.name,
    datatype: x.datatype,
    shape: x.shape,
    parameters: parameters(x.parameters),
    contents: raw.length > 0 ? { kind: 'binary', bytes: raw[i]! } : typedContents(x.datatype, x.contents),
  }));
  return {
    ...(msg.id ? { id: msg.id } : {}),
    parameters: parameters(msg.parameters),
    inputs,
    outputs: msg.outputs.map((o) => ({ name: o.name, parameters: parameters(o.parameters) })),
  };
}

/** A ModelInferResponse carrying `tensors` as raw output contents. */
export function responseMessage(head: { model_name: string; model_version: string; id?: string | undefined }, tensors: readonly Tensor[], params: Record<string, string | number | boolean> = {}): ModelInferResponseMessage {
  return {
    model_name: head.model_name,
    model_version: head.model_version,
    id: head.id ?? '',
    parameters: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, parameterMessage(v)])),
    outputs: tensors.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    raw_output_contents: tensors.map((t) => toBinary(t)),
  };
}
