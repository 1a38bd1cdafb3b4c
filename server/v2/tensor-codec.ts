/**
 * @module server/v2/tensor-codec
 * Tensor contents of the Open Inference Protocol in and out of the three forms clients send:
 * JSON arrays (nested or flat, row-major), the binary tensor data extension's bytes (little-endian,
 * row-major; BYTES elements as a 4-byte little-endian length then the bytes) and gRPC's typed
 * lists. Only the datatypes this server reads or writes are handled: FP32, INT32, INT64 (token ids),
 * BOOL and BYTES.
 */
import { HttpError } from '../errors.js';

/** A tensor with its decoded contents, row-major. */
export type Tensor =
  | { name: string; datatype: 'FP32'; shape: number[]; data: Float32Array }
  | { name: string; datatype: 'INT32'; shape: number[]; data: Int32Array }
  | { name: string; datatype: 'INT64'; shape: number[]; data: BigInt64Array }
  | { name: string; datatype: 'BOOL'; shape: number[]; data: Uint8Array }
  | { name: string; datatype: 'BYTES'; shape: number[]; data: Uint8Array[] };

export type Datatype = Tensor['datatype'];

/** The contents of a request input before they are checked against the tensor's declared datatype and shape. */
export type RawContents =
  /** A JSON `data` array (nested or flat); BYTES elements are base64 strings. */
  | { kind: 'json'; value: unknown }
  /** The binary tensor data extension's bytes, or gRPC's `raw_input_contents`. */
  | { kind: 'binary'; bytes: Uint8Array }
  /** gRPC's typed `contents` list for the declared datatype. */
  | { kind: 'list'; values: ArrayLike<number | boolean> | readonly Uint8Array[] };

const bad = (message: string) => new HttpError(400, 'invalid_input', message);

/** The number of elements of a shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** Flattens nested JSON arrays, row-major. */
function flatten(value: unknown, out: unknown[]): void {
  if (Array.isArray(value)) for (const v of value) flatten(v, out);
  else out.push(value);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64: Buffer.from alone skips characters outside the alphabet, which would hide a client's mistake. */
function fromBase64(s: unknown, where: string): Uint8Array {
  if (typeof s !== 'string') throw bad(`${where}: expected a base64 string, got ${JSON.stringify(s)?.slice(0, 40)}.`);
  if (!BASE64.test(s)) throw bad(`${where}: not valid base64 (standard alphabet, padded to a multiple of 4 characters).`);
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Splits BYTES binary data into its elements (each a 4-byte little-endian length, then the bytes). */
function splitBytes(bytes: Uint8Array, count: number, name: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.byteLength) {
    if (o + 4 > bytes.byteLength) throw bad(`${name}: BYTES data ends inside the 4-byte length of element ${out.length}.`);
    const len = view.getUint32(o, true);
    o += 4;
    if (o + len > bytes.byteLength) throw bad(`${name}: BYTES element ${out.length} declares ${len} bytes; only ${bytes.byteLength - o} remain.`);
    out.push(bytes.subarray(o, o + len));
    o += len;
  }
  if (out.length !== count) throw bad(`${name}: the shape holds ${count} BYTES elements; the binary data holds ${out.length}.`);
  return out;
}

/**
 * Decodes an input's contents as `datatype` with `shape`.
 * @throws HttpError 400 when the element count, byte size or element values do not fit.
 */
export function decodeContents(name: string, datatype: Datatype, shape: number[], raw: RawContents): Tensor {
  const count = elementCount(shape);
  if (raw.kind === 'binary') {
    const { bytes } = raw;
    if (datatype === 'BYTES') return { name, datatype, shape, data: splitBytes(bytes, count, name) };
    const size = datatype === 'BOOL' ? 1 : datatype === 'INT64' ? 8 : 4;
    if (bytes.byteLength !== count * size) throw bad(`${name}: shape ${JSON.stringify(shape)} of ${datatype} needs ${count * size} bytes; the binary data has ${bytes.byteLength}.`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (datatype === 'FP32') return { name, datatype, shape, data: Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true)) };
    if (datatype === 'INT32') return { name, datatype, shape, data: Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true)) };
    if (datatype === 'INT64') return { name, datatype, shape, data: BigInt64Array.from({ length: count }, (_, i) => view.getBigInt64(i * 8, true)) };
    return { name, datatype, shape, data: bytes.slice() };
  }
  let values: ArrayLike<unknown>;
  if (raw.kind === 'json') {
    if (!Array.isArray(raw.value)) throw bad(`${name}: "data" must be an array (nested or flat), got ${raw.value === undefined ? 'nothing' : typeof raw.value}.`);
    const flat: unknown[] = [];
    flatten(raw.value, flat);
    values = flat;
  } else {
    values = raw.values;
  }
  if (values.length !== count) throw bad(`${name}: shape ${JSON.stringify(shape)} holds ${count} elements; the data has ${values.length}.`);
  const at = (i: number) => `${name}[${i}]`;
  switch (datatype) {
    case 'FP32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${at(i)}: expected a finite number, got ${JSON.stringify(v)}.`);
        data[i] = v;
      }
      return { name, datatype, shape, data };
    }
    case 'INT32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw bad(`${at(i)}: expected a 32-bit integer, got ${JSON.stringify(v)}.`);
        data[i] = v;
      }
      return { name, datatype, shape, data };
    }
    case 'INT64': {
      // JSON numbers (and gRPC's int64 lists, read as numbers) are exact up to 2^53: beyond, a value may already have been rounded.
      const data = new BigInt64Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (!Number.isSafeInteger(v)) throw bad(`${at(i)}: expected an integer within ±(2^53 - 1), got ${JSON.stringify(v)}.`);
        data[i] = BigInt(v as number);
      }
      return { name, datatype, shape, data };
    }
    case 'BOOL':
      return { name, datatype, shape, data: Uint8Array.from({ length: count }, (_, i) => (values[i] === true || values[i] === 1 ? 1 : 0)) };
    case 'BYTES':
      return { name, datatype, shape, data: Array.from({ length: count }, (_, i) => (raw.kind === 'json' ? fromBase64(values[i], at(i)) : (values[i] as Uint8Array))) };
  }
}

/** The tensor's contents as the binary extension (and gRPC's raw contents) lay them out. */
export function toBinary(t: Tensor): Uint8Array {
  if (t.datatype === 'BYTES') {
    const out = new Uint8Array(t.data.reduce((a, b) => a + 4 + b.byteLength, 0));
    const view = new DataView(out.buffer);
    let o = 0;
    for (const b of t.data) {
      view.setUint32(o, b.byteLength, true);
      out.set(b, o + 4);
      o += 4 + b.byteLength;
    }
    return out;
  }
  if (t.datatype === 'BOOL') return t.data.slice();
  if (t.datatype === 'INT64') {
    const out = new Uint8Array(t.data.length * 8);
    const view = new DataView(out.buffer);
    t.data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
    return out;
  }
  const out = new Uint8Array(t.data.length * 4);
  const view = new DataView(out.buffer);
  if (t.datatype === 'FP32') t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else t.data.forEach((v, i) => view.setInt32(i * 4, v, true));
  return out;
}

/** The tensor's contents as a flat JSON array (BYTES as UTF-8 strings, BOOL as booleans). */
export function toJsonData(t: Tensor): Array<number | string | boolean> {
  if (t.datatype === 'BYTES') return t.data.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
  if (t.datatype === 'BOOL') return Array.from(t.data, (v) => v === 1);
  if (t.datatype === 'INT64') return Array.from(t.data, Number);
  return Array.from(t.data);
}
