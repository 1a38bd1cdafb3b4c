/**
 * Shared by the Open Inference Protocol tests: the bundled model's sample images (PNG bytes and
 * the same images preprocessed as the model's NCHW input), and little-endian encoders written
 * independently of the server's codec so the tests check its bytes rather than reuse them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdaptiveModel } from '../../runtime/node/index.js';
import { DEFAULT_MODEL_DIR } from '../../server/index.js';

export const MODEL_ID = 'msdnet-cifar10';

/** [name, datatype, shape] of every output for `n` samples, in the order the server returns them. */
export const allOutputs = (n: number) => [
  ['logits', 'FP32', [n, 10]],
  ['exit', 'INT32', [n]],
  ['mflops', 'FP32', [n]],
  ['confidence', 'FP32', [n]],
  ['label', 'BYTES', [n]],
];

export interface Samples {
  pngs: Buffer[];
  /** The PNGs preprocessed: [n, 3, 32, 32] values. */
  tensor: { data: Float32Array; dims: number[] };
  classNames: string[];
  /** Cumulative MFLOPs at each exit. */
  mflops: number[];
}

export async function loadSamples(): Promise<Samples> {
  const dir = join(DEFAULT_MODEL_DIR, 'samples');
  const pngs = readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
  const model = await AdaptiveModel.load(DEFAULT_MODEL_DIR);
  try {
    const { data, n } = await model.preprocess(pngs.map((p) => new Uint8Array(p)));
    const [, C, H, W] = model.manifest.input.dims;
    return { pngs, tensor: { data, dims: [n, Number(C), Number(H), Number(W)] }, classNames: model.manifest.classNames, mflops: model.manifest.stages.map((s) => s.cumulativeMflops) };
  } finally {
    await model.close();
  }
}

export function f32le(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i]!, i * 4);
  return b;
}

export function i32le(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeInt32LE(values[i]!, i * 4);
  return b;
}

/** BYTES elements as the binary extension lays them out: a 4-byte little-endian length, then the bytes. */
export function bytesLe(elements: ReadonlyArray<Uint8Array | string>): Buffer {
  return Buffer.concat(
    elements.flatMap((e) => {
      const body = typeof e === 'string' ? Buffer.from(e, 'utf8') : Buffer.from(e);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(body.length, 0);
      return [len, body];
    }),
  );
}
