/**
 * @module bench/test-set
 * The test set of the dataset a model was trained on (from its manifest), as the normalised NCHW
 * float32 tensor the stage graphs take: what the runtime benchmarks feed, read once.
 */
import { trainingProvenance, type Manifest } from '../manifest/index.js';
import { CIFAR10_NORMALIZATION, DEFAULT_CIFAR10_DIR, FASHION_MNIST_NORMALIZATION, readCifar10, readFashionMnist } from '../datasets/index.js';

export interface TestTensor {
  /** `n × C × H × W` values. */
  images: Float32Array;
  labels: Uint8Array;
  n: number;
  /** Values per image (C·H·W). */
  per: number;
  /** [C, H, W]. */
  chw: [number, number, number];
}

/**
 * Reads the first `count` test images of the manifest's dataset (`dataDir` overrides the default
 * location).
 * @throws Error for a dataset the benchmarks do not read (only cifar10 and fashion-mnist).
 */
export async function readTestTensor(manifest: Manifest, count: number, dataDir?: string): Promise<TestTensor> {
  const dataset = trainingProvenance(manifest.provenance)?.dataset;
  const chw = manifest.input.dims.slice(1) as [number, number, number];
  const [C, H, W] = chw;
  let test;
  if (dataset === 'cifar10') test = await readCifar10(dataDir ?? DEFAULT_CIFAR10_DIR, { split: 'test' });
  else if (dataset === 'fashion-mnist') test = await readFashionMnist({ dir: dataDir, split: 'test' });
  else throw new Error(`the model was trained on ${dataset}; the benchmarks read the cifar10 and fashion-mnist test sets.`);
  const norm = dataset === 'cifar10' ? CIFAR10_NORMALIZATION : FASHION_MNIST_NORMALIZATION;
  const n = Math.min(count, test.count);
  // NHWC uint8 to normalised NCHW float32, once.
  const images = new Float32Array(n * C * H * W);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < C; c++) images[((i * C + c) * H + y) * W + x] = (test.images[((i * H + y) * W + x) * C + c]! / 255 - norm.mean[c]!) / norm.std[c]!;
  return { images, labels: test.labels.subarray(0, n), n, per: C * H * W, chw };
}
