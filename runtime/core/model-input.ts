/**
 * @module runtime/core/model-input
 * The model input as the manifest declares it: an NCHW float32 image tensor or int64 token ids
 * `[batch, sequence]`. The engine, the fused graph and the API check and feed either through
 * these, so only the preprocessing of images knows about channels and pixels.
 */
import type { Manifest } from '../../manifest/index.js';
import { InputError } from './errors.js';
import type { InputData } from './tensor.js';

/** Per-sample dims of the model input: [C, H, W] for images, [sequence] for token ids. */
export function sampleDims(manifest: Pick<Manifest, 'input'>): number[] {
  return manifest.input.dims.slice(1) as number[];
}

/** What the engine takes for the model input: `Float32Array` (images) or `BigInt64Array` (token ids). */
export function inputArrayName(manifest: Pick<Manifest, 'input'>): 'Float32Array' | 'BigInt64Array' {
  return manifest.input.dtype === 'int64' ? 'BigInt64Array' : 'Float32Array';
}

/** True when `data` is a typed array of the model input's element type. */
export function fitsInputType(manifest: Pick<Manifest, 'input'>, data: unknown): data is InputData {
  return manifest.input.dtype === 'int64' ? data instanceof BigInt64Array : data instanceof Float32Array;
}

/**
 * Checks a batch of `n` samples for the model input: its element type and its length.
 * @throws InputError naming what was expected.
 */
export function checkInputBatch(manifest: Pick<Manifest, 'input'>, data: unknown, n: number): asserts data is InputData {
  const dims = sampleDims(manifest);
  const per = dims.reduce((a, b) => a * b, 1);
  if (!fitsInputType(manifest, data)) {
    throw new InputError(`input: expected a ${inputArrayName(manifest)} (the model input "${manifest.input.name}" is ${manifest.input.dtype}), got ${Object.prototype.toString.call(data)}.`);
  }
  if (!Number.isInteger(n) || n < 0) throw new InputError(`n: expected a non-negative integer sample count, got ${n}.`);
  if (data.length !== n * per) {
    throw new InputError(`input: expected ${n} × ${dims.join('×')} = ${n * per} ${manifest.input.dtype} values (${manifest.input.layout}, ${n} sample(s) of ${JSON.stringify(dims)}), got ${data.length}.`);
  }
}
