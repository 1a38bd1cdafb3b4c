/**
 * @module server/v2/rest-codec
 * The REST body of an inference request and response: a JSON object, or (binary tensor data
 * extension) a JSON header of `Inference-Header-Content-Length` bytes followed by the tensors'
 * bytes in the order of the inputs (outputs) that carry `binary_data_size`.
 */
import { HttpError } from '../errors.js';
import type { InferenceRequest, RequestInput, RequestedOutput } from './inference-request.js';
import { toBinary, toJsonData, type Tensor } from './tensor-codec.js';

export const HEADER_LENGTH = 'inference-header-content-length';

const bad = (message: string) => new HttpError(400, 'invalid_input', message);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function parameters(where: string, p: unknown): Record<string, unknown> {
  if (p === undefined) return {};
  if (!isObject(p)) throw new HttpError(400, 'invalid_parameter', `${where}: "parameters" must be an object, got ${Array.isArray(p) ? 'an array' : JSON.stringify(p)}.`);
  return p;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'invalid_json', `the request is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Decodes an inference request body.
 * @param headerLength the `Inference-Header-Content-Length` header, when the binary extension is used.
 * @throws HttpError 400 for malformed JSON, a header length or `binary_data_size` beyond the body,
 *   or bytes left over after the last binary input.
 */
export function decodeRestRequest(body: Uint8Array, headerLength: string | undefined): InferenceRequest {
  let jsonEnd = body.byteLength;
  if (headerLength !== undefined) {
    const h = Number(headerLength);
    if (!/^\d+$/.test(headerLength.trim()) || !Number.isSafeInteger(h)) throw bad(`Inference-Header-Content-Length: expected a byte count, got "${headerLength}".`);
    if (h > body.byteLength) throw bad(`Inference-Header-Content-Length is ${h}, beyond the ${body.byteLength}-byte body.`);
    if (h === 0) throw bad('Inference-Header-Content-Length is 0 (a raw binary request without a JSON header); this model has several inputs, so send the JSON header.');
    jsonEnd = h;
  }
  const root = parseJson(Buffer.from(body.buffer, body.byteOffset, jsonEnd).toString('utf8'));
  if (!isObject(root)) throw bad('the request must be a JSON object { "inputs": [...], "outputs"?: [...], "parameters"?: {...}, "id"?: "..." }.');
  if (root.id !== undefined && typeof root.id !== 'string') throw bad(`id: expected a string, got ${JSON.stringify(root.id)}.`);
  if (!Array.isArray(root.inputs)) throw bad('inputs: expected an array of input tensors.');
  if (root.outputs !== undefined && !Array.isArray(root.outputs)) throw bad('outputs: expected an array of requested outputs.');

  let offset = jsonEnd;
  const inputs: RequestInput[] = root.inputs.map((x: unknown, i: number) => {
    if (!isObject(x) || typeof x.name !== 'string') throw bad(`inputs[${i}]: expected an object with "name", "datatype", "shape" and "data".`);
    const params = parameters(`inputs.${x.name}`, x.parameters);
    const size = params.binary_data_size;
    let contents: RequestInput['contents'];
    if (size !== undefined) {
      if (headerLength === undefined) throw bad(`inputs.${x.name}: binary_data_size needs the Inference-Header-Content-Length header.`);
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`inputs.${x.name}.parameters.binary_data_size: expected a byte count, got ${JSON.stringify(size)}.`);
      if (x.data !== undefined) throw bad(`inputs.${x.name}: give "data" or binary_data_size, not both.`);
      if (offset + size > body.byteLength) throw bad(`inputs.${x.name}: binary_data_size ${size} goes beyond the body (${body.byteLength - offset} bytes of binary data left).`);
      contents = { kind: 'binary', bytes: body.subarray(offset, offset + size) };
      offset += size;
    } else {
      contents = { kind: 'json', value: x.data };
    }
    return { name: x.name, datatype: x.datatype as string, shape: x.shape as number[], parameters: params, contents };
  });
  if (offset !== body.byteLength) throw bad(`the body has ${body.byteLength - offset} bytes after the last binary input's data.`);
  const outputs: RequestedOutput[] | undefined = (root.outputs as unknown[] | undefined)?.map((x, i) => {
    if (!isObject(x) || typeof x.name !== 'string') throw bad(`outputs[${i}]: expected an object with "name".`);
    return { name: x.name, parameters: parameters(`outputs.${x.name}`, x.parameters) };
  });
  return { id: root.id as string | undefined, parameters: parameters('request', root.parameters), inputs, outputs };
}

export interface ResponseHead {
  model_name: string;
  model_version: string;
  id?: string | undefined;
}

/** An encoded response: JSON, or a JSON header and binary tensor data. */
export interface EncodedResponse {
  contentType: string;
  /** The JSON header's length, when binary data follows it. */
  headerLength?: number;
  body: Buffer;
}

/** Encodes the outputs; those marked `binary` go after the JSON header as raw bytes. */
export function encodeRestResponse(head: ResponseHead, outputs: ReadonlyArray<{ tensor: Tensor; binary: boolean }>): EncodedResponse {
  const chunks: Uint8Array[] = [];
  const json = {
    ...head,
    outputs: outputs.map(({ tensor, binary }) => {
      const { name, datatype, shape } = tensor;
      if (!binary) return { name, datatype, shape, data: toJsonData(tensor) };
      const bytes = toBinary(tensor);
      chunks.push(bytes);
      return { name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } };
    }),
  };
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  if (chunks.length === 0) return { contentType: 'application/json', body: header };
  return { contentType: 'application/octet-stream', headerLength: header.byteLength, body: Buffer.concat([header, ...chunks]) };
}
