/**
 * @module test/training/backend/batch-norm-relu
 * The fused BatchNorm + ReLU kernels of the WASM backend (SIMD passes with JS for leftover rows)
 * against tfjs's composed ops on the CPU backend: outputs, batch statistics and all three
 * gradients; the no-copy `Identity`; and the committed kernel binaries against their text.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import type { Tensor } from '../../../training/backend/tf.js';
import { BATCH_NORM_RELU, BATCH_NORM_RELU_GRAD } from '../../../training/backend/wasm-kernels/batch-norm-relu.js';
import { heapModule } from '../../../training/backend/wasm-kernels/simd/heap-module.js';
import * as BATCH_NORM_RELU_WASM from '../../../training/backend/wasm-kernels/simd/batch-norm-relu.wasm.js';
import { batchNormReluTraining } from '../../../training/models/batch-norm-training.js';
import { assembleKernel, kernelModuleSource } from '../../../scripts/assemble-wat.js';
import { relativeMaxError, useBackend } from '../../helpers/backends.js';
import { randomData, sizeOf } from '../../helpers/random-data.js';

/** y, mean, variance, and the gradients of Σ y·w (w fixed, so every dy differs) for x, γ, β. */
async function fusedOutputs(backend: 'cpu' | 'wasm', shape: number[], seed: number): Promise<Float32Array[]> {
  await useBackend(backend);
  const C = shape[shape.length - 1]!;
  // An offset mean and a spread scale, so the statistics are not trivially 0 and 1.
  const x = tf.tensor(randomData(sizeOf(shape), seed).map((v) => 3 + 2 * v), shape);
  const gamma = tf.tensor(randomData(C, seed + 1).map((v) => 1 + 0.5 * v), [C]);
  const beta = tf.tensor(randomData(C, seed + 2).map((v) => 0.3 * v), [C]);
  const w = tf.tensor(randomData(sizeOf(shape), seed + 3), shape);
  const outs = tf.tidy(() => {
    const { y, mean, variance } = batchNormReluTraining(x, gamma, beta, 1e-5);
    const grads = tf.grads((a: Tensor, g: Tensor, b: Tensor) => tf.sum(tf.mul(batchNormReluTraining(a, g, b, 1e-5).y, w)))([x, gamma, beta]);
    return [y, mean, variance, ...grads];
  });
  const data = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([...outs, x, gamma, beta, w]);
  return data;
}

describe('fused BatchNorm + ReLU on wasm against composed ops on cpu', () => {
  const cases: Array<[string, number[]]> = [
    ['C multiple of 4 (SIMD only)', [4, 6, 6, 16]],
    ['C = 6, an odd row count (SIMD, then a leftover row in JS)', [1, 3, 3, 6]],
    ['C = 3, rows not a multiple of 4 (SIMD rows of 12 floats, JS tail)', [2, 3, 3, 3]],
    ['too few rows for one SIMD row (all JS)', [1, 1, 3, 5]],
    ['2-D input (ISC link)', [10, 12]],
    ['MSDNet-sized: 64 x 8 x 8 x 24', [64, 8, 8, 24]],
  ];
  it.each(cases)('%s %j', async (_, shape) => {
    const ref = await fusedOutputs('cpu', shape, 11);
    const got = await fusedOutputs('wasm', shape, 11);
    const names = ['y', 'mean', 'variance', 'dx', 'dGamma', 'dBeta'];
    expect(got.length).toBe(names.length);
    names.forEach((name, i) => expect(relativeMaxError(got[i]!, ref[i]!), name).toBeLessThan(1e-4));
  });

  it('runs as the two fused kernels on wasm (one forward, one backward), not the composed ops', async () => {
    await useBackend('wasm');
    const x = tf.tensor(randomData(2 * 4 * 4 * 8, 5), [2, 4, 4, 8]);
    const gamma = tf.ones([8]);
    const beta = tf.zeros([8]);
    const profile = await tf.profile(() => {
      const grads = tf.grads((a: Tensor) => tf.sum(batchNormReluTraining(a, gamma, beta, 1e-5).y))([x]);
      tf.dispose(grads);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === BATCH_NORM_RELU)).toHaveLength(1);
    expect(names.filter((n) => n === BATCH_NORM_RELU_GRAD)).toHaveLength(1);
    expect(names).not.toContain('Relu');
    expect(names).not.toContain('Mean');
    tf.dispose([x, gamma, beta]);
  });

  it('binds its SIMD module to the wasm heap (else every row would take the JS path)', async () => {
    await useBackend('wasm');
    const simd = heapModule(tf.backend() as never, BATCH_NORM_RELU_WASM);
    expect(simd).toBeDefined();
    expect(Object.keys(simd!).sort()).toEqual(['apply', 'gradApply', 'gradStats', 'stats']);
  });

  it('names the problem for a gamma of the wrong length', async () => {
    await useBackend('wasm');
    const x = tf.zeros([2, 3, 3, 4]);
    const gamma = tf.ones([3]);
    const beta = tf.zeros([4]);
    expect(() => batchNormReluTraining(x, gamma, beta, 1e-5)).toThrow(/expected gamma of shape \[4\], got \[3\]/);
    tf.dispose([x, gamma, beta]);
  });
});

describe('Identity on wasm', () => {
  it('shares the data of its input, which stays valid after the input is disposed', async () => {
    await useBackend('wasm');
    const buffers = () => tf.backend().numDataIds();
    const before = buffers();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const clone = tf.clone(x);
    expect(buffers() - before).toBe(1);
    x.dispose();
    expect(Array.from(await clone.data())).toEqual([1, 2, 3, 4]);
    clone.dispose();
    expect(buffers()).toBe(before);
  });
});

describe('committed SIMD kernel binaries', () => {
  it.each(['batch-norm-relu', 'conv-filter-grad', 'conv-input-grad', 'copy-runs'])('%s.wasm.ts is what %s.wat assembles to (npm run build:wasm-kernels)', async (name) => {
    const dir = new URL('../../../training/backend/wasm-kernels/simd/', import.meta.url);
    const text = await readFile(new URL(`${name}.wat`, dir), 'utf8');
    const committed = await readFile(new URL(`${name}.wasm.ts`, dir), 'utf8');
    expect(committed).toBe(kernelModuleSource(`${name}.wat`, await assembleKernel(`${name}.wat`, text)));
  });
});
