/**
 * @module test/training/backend/wasm-kernels
 * The WASM training kernels and the backward pass of every op the model uses, checked against
 * the CPU backend on the same inputs.
 */
import { describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import type { Tensor } from '../../../training/backend/tf.js';
import {
  REPLACED_STOCK_KERNELS,
  WASM_TRAINING_KERNELS,
  registerWasmTrainingKernels,
} from '../../../training/backend/wasm-kernels/register-wasm-training-kernels.js';
import { inputGradBySimd, inputGradByXnnpack } from '../../../training/backend/wasm-kernels/conv2d-backprop-input.js';
import { heapModule } from '../../../training/backend/wasm-kernels/simd/heap-module.js';
import * as CONV_INPUT_GRAD_WASM from '../../../training/backend/wasm-kernels/simd/conv-input-grad.wasm.js';
import { filterGradByXnnpack, planFilterGrad } from '../../../training/backend/wasm-kernels/conv2d-backprop-filter.js';
import { relativeMaxError, useBackend } from '../../helpers/backends.js';
import { randomData, sizeOf } from '../../helpers/random-data.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type Backend = 'cpu' | 'wasm';

/** Relative tolerance: max |wasm − cpu| over max |cpu|. Float32 sums of ~10³ terms differ by ~1e-6. */
const TOL = 1e-4;

/**
 * Runs `fn` on `backend` with tensors made from `inputs`, and returns every output's data.
 * Data is read outside tidy: tidy walks a returned typed array element by element.
 */
async function compute(
  backend: Backend,
  inputs: { data: Float32Array; shape: number[] }[],
  fn: (...xs: Tensor[]) => Tensor[],
): Promise<Float32Array[]> {
  await useBackend(backend);
  const outs = tf.tidy(() => fn(...inputs.map((i) => tf.tensor(i.data, i.shape))));
  const data = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(outs);
  return data;
}

/** Compares wasm against cpu output by output. */
async function expectWasmMatchesCpu(
  inputs: { data: Float32Array; shape: number[] }[],
  fn: (...xs: Tensor[]) => Tensor[],
): Promise<void> {
  const ref = await compute('cpu', inputs, fn);
  const got = await compute('wasm', inputs, fn);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    expect(got[i]!.length).toBe(r.length);
    expect(relativeMaxError(got[i]!, r), `output ${i}`).toBeLessThan(TOL);
  });
}

interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
}

const EXPLICIT_1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];
const CONV_CASES: ConvCase[] = [
  { name: '3x3 s1 same, batch 1', x: [1, 7, 7, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { name: '3x3 s2 same, batch 1', x: [1, 8, 8, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'same' },
  { name: '3x3 s2 valid, odd size', x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: '3x3 s2 valid, leftover row', x: [2, 10, 10, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: '3x3 s2 explicit pad 1 (PyTorch style)', x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: EXPLICIT_1 },
  { name: '3x3 s1 explicit asymmetric', x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [0, 2], [2, 0], [0, 0]] },
  { name: '3x3 s2 same, batch 64', x: [64, 6, 6, 4], filter: [3, 3, 4, 5], strides: 2, pad: 'same' },
  { name: '3x3 s1 valid, batch 64', x: [64, 5, 5, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
  { name: '1x1 s1 valid, batch 64, Ci < Co', x: [64, 4, 4, 5], filter: [1, 1, 5, 6], strides: 1, pad: 'valid' },
  { name: '1x1 s1 same, batch 64, Ci > Co', x: [64, 4, 4, 8], filter: [1, 1, 8, 3], strides: 1, pad: 'same' },
  { name: '1x1 s2 same', x: [3, 7, 7, 4], filter: [1, 1, 4, 5], strides: 2, pad: 'same' },
  { name: '3x5 strides [2, 3] same', x: [2, 11, 9, 3], filter: [3, 5, 3, 4], strides: [2, 3], pad: 'same' },
  { name: '4x4 s3 same', x: [1, 7, 7, 2], filter: [4, 4, 2, 3], strides: 3, pad: 'same' },
  { name: '5x5 s1 valid', x: [2, 5, 5, 3], filter: [5, 5, 3, 2], strides: 1, pad: 'valid' },
  // Channel counts over 64, not multiples of the SIMD kernels' blocks.
  { name: '3x3 s2 same, 72 output channels', x: [2, 6, 6, 8], filter: [3, 3, 8, 72], strides: 2, pad: 'same' },
  { name: '1x1 s1 valid, 80 -> 66 channels', x: [4, 4, 4, 80], filter: [1, 1, 80, 66], strides: 1, pad: 'valid' },
  { name: '1x1 s1 valid, 8 -> 70 channels', x: [4, 4, 4, 8], filter: [1, 1, 8, 70], strides: 1, pad: 'valid' },
  // The filter gradient splats the output channels and transposes at the end (planFilterGrad).
  { name: '3x3 s1 same, 48 -> 12 channels', x: [2, 5, 5, 48], filter: [3, 3, 48, 12], strides: 1, pad: 'same' },
  { name: '1x1 s1 valid, 20 -> 6 channels', x: [3, 4, 4, 20], filter: [1, 1, 20, 6], strides: 1, pad: 'valid' },
  // 2x2 outputs: both SIMD gradients take their pixel runs across images (imagesInner).
  { name: '3x3 s2 same, 4x4 -> 2x2, batch 16', x: [16, 4, 4, 8], filter: [3, 3, 8, 12], strides: 2, pad: 'same' },
  { name: '3x3 s2 valid, 5x5 -> 2x2, batch 9', x: [9, 5, 5, 3], filter: [3, 3, 3, 10], strides: 2, pad: 'valid' },
];

/** Shapes and data for one case: x, filter and an upstream gradient dy of the forward output's shape. */
function convInputs(c: ConvCase, seed: number) {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
  const dyShape = info.outShape;
  return {
    x: { data: randomData(sizeOf(c.x), seed), shape: [...c.x] },
    filter: { data: randomData(sizeOf(c.filter), seed + 1), shape: [...c.filter] },
    dy: { data: randomData(sizeOf(dyShape), seed + 2), shape: [...dyShape] },
  };
}

describe('registerWasmTrainingKernels', () => {
  it('registers each kernel once and replaces the stock ones it lists', async () => {
    await useBackend('wasm');
    expect(registerWasmTrainingKernels()).toEqual([]);
    for (const config of WASM_TRAINING_KERNELS) {
      expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    }
    expect([...REPLACED_STOCK_KERNELS].every((n) => WASM_TRAINING_KERNELS.some((k) => k.kernelName === n))).toBe(true);
  });
});

describe('planFilterGrad', () => {
  it('splats whichever side fills more of the 4 x 8 blocks', () => {
    // 12 output channels as vectors fill 12 of 16 lanes; splatted, 3 blocks of 4 exactly.
    expect(planFilterGrad(48, 12, 9, 64, 1).transposed).toBe(true);
    expect(planFilterGrad(236, 128, 9, 64, 1).transposed).toBe(false);
    // A tie keeps the usual layout.
    expect(planFilterGrad(6, 6, 9, 64, 1).transposed).toBe(false);
  });

  it('shares the work by channels, images or taps', () => {
    expect(planFilterGrad(236, 128, 9, 64, 1).split).toBe('channels'); // one thread
    expect(planFilterGrad(236, 128, 9, 64, 2).split).toBe('channels'); // large dW, 59 blocks
    expect(planFilterGrad(96, 24, 9, 64, 2).split).toBe('images'); // small dW
    expect(planFilterGrad(520, 128, 1, 64, 2).split).toBe('channels');
    expect(planFilterGrad(12, 600, 9, 64, 2).split).toBe('images'); // 3 blocks: uneven
    expect(planFilterGrad(12, 600, 9, 1, 2).split).toBe('taps'); // uneven, one image
  });
});

describe('Conv2DBackpropFilter (wasm) against cpu', () => {
  CONV_CASES.forEach((c, idx) => {
    it(c.name, async () => {
      const { x, dy } = convInputs(c, 100 + idx * 3);
      await expectWasmMatchesCpu([x, dy], (xt, dyt) => [
        tf.engine().runKernel('Conv2DBackpropFilter', { x: xt!, dy: dyt! }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: c.filter,
        } as never) as Tensor,
      ]);
    });
  });
});

describe('Conv2DBackpropFilter on wasm without SIMD (its XNNPACK path) against cpu', () => {
  CONV_CASES.forEach((c, idx) => {
    it(c.name, async () => {
      const { x, dy } = convInputs(c, 100 + idx * 3);
      await expectWasmMatchesCpu([x, dy], (xt, dyt) => {
        if (tf.getBackend() !== 'wasm') {
          const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter };
          return [tf.engine().runKernel('Conv2DBackpropFilter', { x: xt!, dy: dyt! }, attrs as never) as Tensor];
        }
        const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
        return [tf.engine().makeTensorFromTensorInfo(filterGradByXnnpack(tf.backend() as never, xt!, dyt!, info))];
      });
    });
  });
});

describe('Conv2DBackpropInput on wasm by each of its two paths (SIMD, XNNPACK) against cpu', () => {
  const paths = { simd: 'SIMD', xnnpack: 'XNNPACK' } as const;
  for (const path of Object.keys(paths) as Array<keyof typeof paths>) {
    CONV_CASES.forEach((c, idx) => {
      it(`${paths[path]}: ${c.name}`, async () => {
        const { filter, dy } = convInputs(c, 200 + idx * 3);
        await expectWasmMatchesCpu([dy, filter], (dyt, ft) => {
          if (tf.getBackend() !== 'wasm') {
            const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
            return [tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt!, filter: ft! }, attrs as never) as Tensor];
          }
          const backend = tf.backend() as never;
          const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
          const simd = heapModule(backend, CONV_INPUT_GRAD_WASM);
          const out = path === 'simd' ? inputGradBySimd(backend, simd as never, dyt!, ft!, info) : inputGradByXnnpack(backend, dyt!, ft!, info);
          return [tf.engine().makeTensorFromTensorInfo(out)];
        });
      });
    });
  }
});

describe('Conv2DBackpropInput (wasm) against cpu', () => {
  CONV_CASES.forEach((c, idx) => {
    it(c.name, async () => {
      const { filter, dy } = convInputs(c, 200 + idx * 3);
      await expectWasmMatchesCpu([dy, filter], (dyt, ft) => [
        tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt!, filter: ft! }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        } as never) as Tensor,
      ]);
    });
  });
});

interface PoolCase {
  name: string;
  x: Shape4;
  size: number;
  strides: number;
  pad: 'same' | 'valid' | number;
  /** Quantise inputs to a few levels (with many zeros) so windows hold tied maxima. */
  ties?: boolean;
}

const POOL_CASES: PoolCase[] = [
  { name: '3x3 s2 pad 1, mostly negative values', x: [2, 8, 8, 3], size: 3, strides: 2, pad: 1 },
  { name: '3x3 s2 pad 1, odd size, ties', x: [2, 9, 9, 3], size: 3, strides: 2, pad: 1, ties: true },
  { name: '2x2 s2 valid, batch 64', x: [64, 4, 4, 3], size: 2, strides: 2, pad: 'valid' },
  { name: '3x3 s1 same, ties', x: [2, 6, 6, 4], size: 3, strides: 1, pad: 'same', ties: true },
  { name: '3x3 s2 valid, leftover row', x: [1, 10, 10, 2], size: 3, strides: 2, pad: 'valid' },
  { name: '2x2 s3 valid, skipped rows', x: [1, 11, 11, 2], size: 2, strides: 3, pad: 'valid' },
];

describe('MaxPoolGrad (wasm) against cpu', () => {
  POOL_CASES.forEach((c, idx) => {
    it(c.name, async () => {
      let data = randomData(sizeOf(c.x), 300 + idx);
      // Shift down so that many windows hold only negative values (the stock kernel's failure).
      data = data.map((v) => (c.ties ? Math.max(0, Math.round(v * 2)) : v - 0.6));
      const outShape = tf.backend_util.computePool2DInfo(c.x, c.size, c.strides, 1, c.pad).outShape;
      const dy = { data: randomData(sizeOf(outShape), 400 + idx), shape: [...outShape] };
      await expectWasmMatchesCpu([{ data, shape: [...c.x] }, dy], (x, dyt) => {
        const y = tf.maxPool(x as never, c.size, c.strides, c.pad);
        return [
          tf.engine().runKernel('MaxPoolGrad', { dy: dyt!, input: x!, output: y }, {
            filterSize: c.size,
            strides: c.strides,
            pad: c.pad,
          } as never) as Tensor,
        ];
      });
    });
  });
});

describe('Slice, Concat and SplitV (wasm) against cpu', () => {
  const x5 = { data: randomData(3 * 4 * 5 * 6 * 2, 500), shape: [3, 4, 5, 6, 2] };
  const x4 = { data: randomData(4 * 5 * 6 * 7, 501), shape: [4, 5, 6, 7] };
  const sliceCases: [string, { data: Float32Array; shape: number[] }, number[], number[]][] = [
    ['channels of NHWC', x4, [0, 0, 0, 2], [4, 5, 6, 3]],
    ['channels of NHWC, runs of whole vectors (4 and 8 floats)', { data: randomData(2 * 3 * 3 * 12, 503), shape: [2, 3, 3, 12] }, [0, 0, 0, 4], [2, 3, 3, 8]],
    ['spatial crop', x4, [0, 1, 2, 0], [4, 3, 3, 7]],
    ['batch block', x4, [1, 0, 0, 0], [2, 5, 6, 7]],
    ['everything, size -1', x4, [1, 2, 3, 4], [-1, -1, -1, -1]],
    ['whole tensor', x4, [0, 0, 0, 0], [4, 5, 6, 7]],
    ['rank 5', x5, [1, 0, 2, 1, 0], [2, 4, 2, 4, 1]],
    ['rank 1', { data: randomData(10, 502), shape: [10] }, [3], [5]],
    ['empty', x4, [0, 0, 0, 0], [4, 0, 6, 7]],
  ];
  for (const [name, input, begin, size] of sliceCases) {
    it(`slice: ${name}`, async () => {
      await expectWasmMatchesCpu([input], (x) => [tf.slice(x!, begin, size)]);
    });
  }

  it('slice and concat of int32 and bool tensors', async () => {
    const ints = { data: Float32Array.from({ length: 60 }, (_, i) => i), shape: [3, 4, 5] };
    await expectWasmMatchesCpu([ints], (x) => {
      const i32 = tf.cast(x!, 'int32');
      const b = tf.greater(x!, 20);
      return [
        tf.cast(tf.slice(i32, [1, 1, 2], [2, 2, 3]), 'float32'),
        tf.cast(tf.slice(b, [0, 2, 0], [3, 2, 5]), 'float32'),
        tf.cast(tf.concat([i32, i32], 2), 'float32'),
        tf.cast(tf.concat([b, tf.logicalNot(b)], 1), 'float32'),
      ];
    });
  });

  const a = { data: randomData(2 * 6 * 6 * 5, 510), shape: [2, 6, 6, 5] };
  const b = { data: randomData(2 * 6 * 6 * 3, 511), shape: [2, 6, 6, 3] };
  const c = { data: randomData(2 * 6 * 6 * 1, 512), shape: [2, 6, 6, 1] };
  it('concat on channels, runs of whole vectors', async () => {
    const p = { data: randomData(2 * 3 * 3 * 4, 504), shape: [2, 3, 3, 4] };
    const q = { data: randomData(2 * 3 * 3 * 8, 505), shape: [2, 3, 3, 8] };
    await expectWasmMatchesCpu([p, q], (x, y) => [tf.concat([x!, y!], 3), tf.concat([y!, x!, y!], 3)]);
  });
  it('concat on channels, three inputs', async () => {
    await expectWasmMatchesCpu([a, b, c], (x, y, z) => [tf.concat([x!, y!, z!], 3)]);
  });
  it('concat on batch and on rows', async () => {
    await expectWasmMatchesCpu([a], (x) => [tf.concat([x!, x!], 0), tf.concat([x!, tf.slice(x!, [0, 0, 0, 0], [2, 2, 6, 5])], 1)]);
  });
  it('concat with an empty input', async () => {
    await expectWasmMatchesCpu([a], (x) => [tf.concat([x!, tf.zeros([2, 6, 6, 0])], 3)]);
  });
  it('split on channels and on batch', async () => {
    await expectWasmMatchesCpu([a], (x) => [...tf.split(x!, [2, 3], 3), ...tf.split(x!, 2, 0)]);
  });
});

describe('argument checks', () => {
  it('rejects dilations other than 1 with a clear error', async () => {
    await useBackend('wasm');
    const x = tf.zeros([1, 5, 5, 2]);
    const dy = tf.zeros([1, 5, 5, 3]);
    const w = tf.zeros([3, 3, 2, 3]);
    const common = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2 };
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: [3, 3, 2, 3] } as never),
    ).toThrow('Conv2DBackpropFilter (wasm): expected dilations 1, got 2.');
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...common, inputShape: [1, 5, 5, 2] } as never),
    ).toThrow('Conv2DBackpropInput (wasm): expected dilations 1, got 2.');
    tf.dispose([x, dy, w]);
  });

  it('frees every intermediate', async () => {
    await useBackend('wasm');
    const c = CONV_CASES[4]!;
    const x = tf.tensor(randomData(sizeOf(c.x), 1), c.x);
    const w = tf.tensor(randomData(sizeOf(c.filter), 2), c.filter);
    const before = tf.memory().numBytes;
    const dataIdsBefore = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const [gx, gw] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.conv2d(a as never, b as never, 2, c.pad as never)))([x, w]);
    tf.dispose([gx!, gw!]);
    expect(tf.memory().numBytes).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIdsBefore);
    tf.dispose([x, w]);
  });
});

describe('gradients through conv2d (wasm) against cpu', () => {
  it('tf.grad of sum(conv2d(x, w)) with respect to w', async () => {
    const c: ConvCase = { name: '', x: [4, 8, 8, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same' };
    const { x, filter } = convInputs(c, 7);
    await expectWasmMatchesCpu([x, filter], (xt, wt) => [
      tf.grad((w: Tensor) => tf.sum(tf.conv2d(xt as never, w as never, 1, 'same')))(wt!),
    ]);
  });

  for (const [name, strides, pad] of [
    ['3x3 s1 same', 1, 'same'],
    ['3x3 s2 same', 2, 'same'],
    ['3x3 s2 valid', 2, 'valid'],
    ['3x3 s2 explicit 1', 2, EXPLICIT_1],
  ] as const) {
    it(`dx and dw of a weighted sum, ${name}`, async () => {
      const c: ConvCase = { name, x: [4, 9, 9, 3], filter: [3, 3, 3, 5], strides, pad };
      const { x, filter, dy } = convInputs(c, 11);
      await expectWasmMatchesCpu([x, filter, dy], (xt, wt, r) =>
        tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.conv2d(a as never, b as never, strides, pad), r!)))([
          xt!,
          wt!,
        ]),
      );
    });
  }
});

describe('backward of the other ops the model uses (wasm against cpu)', () => {
  const x4 = { data: randomData(8 * 8 * 8 * 6, 31), shape: [8, 8, 8, 6] };
  /** Weighted sum, so every output element gets a distinct upstream gradient. */
  const weighted = (y: Tensor, seed: number): Tensor => tf.sum(tf.mul(y, tf.tensor(randomData(y.size, seed), y.shape)));

  const cases: [string, { data: Float32Array; shape: number[] }[], (...xs: Tensor[]) => Tensor][] = [
    ['avgPool 2x2 s2', [x4], (x) => weighted(tf.avgPool(x as never, 2, 2, 'valid'), 1)],
    ['avgPool 3x3 s1 same', [x4], (x) => weighted(tf.avgPool(x as never, 3, 1, 'same'), 2)],
    ['maxPool 3x3 s2 pad 1', [x4], (x) => weighted(tf.maxPool(x as never, 3, 2, 1), 3)],
    ['relu then maxPool 3x3 s2 pad 1 (ImageNet stem)', [x4], (x) => weighted(tf.maxPool(tf.relu(x!) as never, 3, 2, 1), 16)],
    ['relu', [x4], (x) => weighted(tf.relu(x!), 4)],
    [
      'batch norm by moments, sub, mul, rsqrt',
      [x4, { data: randomData(6, 5), shape: [6] }, { data: randomData(6, 6), shape: [6] }],
      (x, gamma, beta) => {
        const { mean, variance } = tf.moments(x!, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.mul(tf.sub(x!, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma!), beta!);
        return weighted(y, 7);
      },
    ],
    [
      'concat on channels',
      [x4, { data: randomData(8 * 8 * 8 * 4, 8), shape: [8, 8, 8, 4] }],
      (a, b) => weighted(tf.concat([a!, b!], 3), 9),
    ],
    [
      'matMul',
      [{ data: randomData(16 * 24, 10), shape: [16, 24] }, { data: randomData(24 * 10, 11), shape: [24, 10] }],
      (a, b) => weighted(tf.matMul(a as never, b as never), 12),
    ],
    [
      'logSoftmax and mean (cross-entropy)',
      [{ data: randomData(16 * 10, 13), shape: [16, 10] }],
      (logits) => {
        const labels = tf.oneHot(tf.tensor1d([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3], 'int32'), 10);
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits!), labels), 1)));
      },
    ],
    ['sum and mean over axes', [x4], (x) => tf.add(weighted(tf.sum(x!, [1, 2]), 14), weighted(tf.mean(x!, 3), 15))],
  ];

  for (const [name, inputs, loss] of cases) {
    it(name, async () => {
      await expectWasmMatchesCpu(inputs, (...xs) => tf.grads((...args: Tensor[]) => loss(...args))(xs));
    });
  }
});
