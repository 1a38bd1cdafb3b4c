/**
 * Every kernel a training step runs, forward and backward, on tfjs-backend-webgpu (Dawn; the
 * software adapter in CI) against tfjs's CPU backend, at the shapes of the CIFAR-10 MSDNet
 * (batch 4): each case returns an op's output and the gradients of a weighted sum of it.
 * tfjs-backend-webgpu 4.22 has every kernel the trainer uses and these tests found none wrong,
 * so unlike WASM (training/backend/wasm-kernels/) no kernel is replaced.
 */
import { describe, expect, it } from 'vitest';
import { tf, type Tensor } from '../../../training/backend/tf.js';
import { relativeMaxError } from '../../helpers/backends.js';
import { randomData, sizeOf } from '../../helpers/random-data.js';
import { useTestBackend } from '../../helpers/webgpu-backend.js';

/** Relative tolerance: max |webgpu − cpu| over max |cpu|. */
const TOL = 1e-4;

interface Input {
  data: Float32Array;
  shape: number[];
}
const input = (shape: number[], seed: number, map?: (v: number) => number): Input => {
  const data = randomData(sizeOf(shape), seed);
  return { data: map ? data.map(map) : data, shape };
};

/**
 * The op's output y and d(Σ y·r)/dx for every input, with r fixed random weights so that no
 * gradient is a constant.
 */
async function outputAndGrads(backend: 'cpu' | 'webgpu', inputs: Input[], op: (...xs: Tensor[]) => Tensor): Promise<Float32Array[]> {
  await useTestBackend(backend);
  const outs = tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
    const y = op(...xs);
    const r = tf.tensor(randomData(y.size, 999), y.shape);
    const grads = tf.grads((...args: Tensor[]) => tf.sum(tf.mul(op(...args), r)))(xs);
    return [y, ...grads];
  });
  const data = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(outs);
  return data;
}

async function expectWebGpuMatchesCpu(inputs: Input[], op: (...xs: Tensor[]) => Tensor): Promise<void> {
  const ref = await outputAndGrads('cpu', inputs, op);
  const got = await outputAndGrads('webgpu', inputs, op);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    expect(got[i]!.length, `output ${i}`).toBe(r.length);
    expect(relativeMaxError(got[i]!, r), i === 0 ? 'forward' : `gradient of input ${i - 1}`).toBeLessThan(TOL);
  });
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const PAD_1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];
const CONV_CASES: { name: string; x: number[]; filter: number[]; stride: number; pad: Pad }[] = [
  { name: 'stem 3x3 s1, 3 -> 16 at 32x32', x: [4, 32, 32, 3], filter: [3, 3, 3, 16], stride: 1, pad: 'same' },
  { name: '3x3 s1, 24 -> 6 at 32x32 (dense layer)', x: [2, 32, 32, 24], filter: [3, 3, 24, 6], stride: 1, pad: PAD_1 },
  { name: '3x3 s2 explicit pad 1, 16 -> 32 (scale change)', x: [4, 32, 32, 16], filter: [3, 3, 16, 32], stride: 2, pad: PAD_1 },
  { name: '1x1 bottleneck, 40 -> 24 at 16x16', x: [4, 16, 16, 40], filter: [1, 1, 40, 24], stride: 1, pad: 'valid' },
  { name: '3x3 s2 same, odd size 9x9', x: [2, 9, 9, 5], filter: [3, 3, 5, 7], stride: 2, pad: 'same' },
];

describe('convolutions (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter), webgpu against cpu', () => {
  CONV_CASES.forEach((c, idx) => {
    it(c.name, async () => {
      await expectWebGpuMatchesCpu([input(c.x, 10 + idx), input(c.filter, 20 + idx)], (x, f) =>
        tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad),
      );
    });
  });
});

describe('pooling and the classifier, webgpu against cpu', () => {
  it('max pool 3x3 s2 pad 1 (ImageNet stem) on mostly negative values, with MaxPoolGrad', async () => {
    await expectWebGpuMatchesCpu([input([2, 16, 16, 8], 30, (v) => v - 0.6)], (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 1));
  });

  it('global average pool (Mean over H, W)', async () => {
    await expectWebGpuMatchesCpu([input([4, 8, 8, 32], 31)], (x) => tf.mean(x, [1, 2]));
  });

  it('linear head (MatMul + bias) and log-softmax', async () => {
    await expectWebGpuMatchesCpu([input([4, 128], 32), input([128, 10], 33), input([10], 34)], (x, w, b) =>
      tf.logSoftmax(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b!)),
    );
  });

  it('cross-entropy against one-hot labels (OneHot, Exp, Log, Max, Neg)', async () => {
    // Labels made inside the op, on the backend under test: moving a tensor off webgpu needs a synchronous read.
    await expectWebGpuMatchesCpu([input([4, 10], 35, (v) => 4 * v)], (logits) =>
      tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([3, 0, 9, 5], 'int32'), 10), logits!),
    );
  });
});

describe('BatchNorm by primitive ops, ReLU, dense concatenation, webgpu against cpu', () => {
  it('batch statistics over 4x32x32 positions (Mean, Sub, Square, Rsqrt, Mul, Add)', async () => {
    await expectWebGpuMatchesCpu([input([4, 32, 32, 16], 40, (v) => 3 + 2 * v), input([16], 41), input([16], 42)], (x, g, b) => {
      const { mean, variance } = tf.moments(x!, [0, 1, 2]);
      return tf.relu(tf.add(tf.mul(tf.mul(tf.sub(x!, mean), tf.rsqrt(tf.add(variance, 1e-5))), g!), b!));
    });
  });

  it('concat along channels and its gradient (SplitV)', async () => {
    await expectWebGpuMatchesCpu([input([4, 16, 16, 12], 43), input([4, 16, 16, 6], 44), input([4, 16, 16, 6], 45)], (a, b, c) =>
      tf.concat([a!, b!, c!], -1),
    );
  });
});

describe('synchronous reads on webgpu in Node', () => {
  it('read CPU-side data (as tfjs does for small Concat inputs) and explain the GPU-side failure', async () => {
    await useTestBackend('webgpu');
    // Small tensors made from values stay CPU-side: a Concat of them runs on the CPU and reads
    // them synchronously (the BatchNorm running-statistic update does exactly this).
    const parts = [tf.tensor1d([1, 2]), tf.tensor1d([3])];
    const joined = tf.concat(parts);
    expect(Array.from(await joined.data())).toEqual([1, 2, 3]);
    // A GPU result cannot be read synchronously in Node: the error says what to do instead.
    const onGpu = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]));
    expect(() => onGpu.dataSync()).toThrow(/synchronous reads .* await data\(\)/);
    expect((await onGpu.data())[0]).toBe(64);
    tf.dispose([...parts, joined, onGpu]);
  });
});
