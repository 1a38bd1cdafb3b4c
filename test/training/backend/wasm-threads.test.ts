/**
 * @module test/training/backend/wasm-threads
 * The multi-threaded WASM build in Node: it initialises with the requested threads and computes
 * the same results as the CPU backend, training kernels included. (Own file: it replaces the
 * process-wide `wasm` backend registration.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../training/backend/tf.js';
import type { Tensor } from '../../../training/backend/tf.js';
import { enableWasmThreads } from '../../../training/backend/wasm-threads.js';
import { heapWorkers, runHeapTasks, type HeapTask } from '../../../training/backend/wasm-kernels/simd/heap-workers.js';
import * as CONV_FILTER_GRAD_WASM from '../../../training/backend/wasm-kernels/simd/conv-filter-grad.wasm.js';
import { heapModule } from '../../../training/backend/wasm-kernels/simd/heap-module.js';
import * as BATCH_NORM_RELU_WASM from '../../../training/backend/wasm-kernels/simd/batch-norm-relu.wasm.js';
import { batchNormReluTraining } from '../../../training/models/batch-norm-training.js';
import { relativeMaxError, useBackend } from '../../helpers/backends.js';

function data(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5);
}

/** Runs `fn` on a backend with fresh copies of the inputs; reads the results outside tidy. */
async function run(backend: 'cpu' | 'wasm', fn: (x: Tensor, w: Tensor) => Tensor[]): Promise<Float32Array[]> {
  await useBackend(backend);
  const outs = tf.tidy(() => fn(tf.tensor(data(8 * 12 * 12 * 16, 1), [8, 12, 12, 16]), tf.tensor(data(3 * 3 * 16 * 24, 2), [3, 3, 16, 24])));
  const values = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(outs);
  return values;
}

describe('enableWasmThreads', () => {
  it('declines fewer than 2 threads', async () => {
    expect(await enableWasmThreads(1)).toBe(false);
  });

  it('runs the threaded build on 2 threads with the same results as the CPU backend', async () => {
    expect(await enableWasmThreads(2)).toBe(true);
    await useBackend('wasm');
    expect(getThreadsCount()).toBe(2);
    // The SIMD kernels bind to the threaded build's shared memory too (else they fall back to JS).
    expect(heapModule(tf.backend() as never, BATCH_NORM_RELU_WASM)).toBeDefined();
    // And their helper thread is up, so the kernels below really run split across 2 threads.
    const helpers = heapWorkers(tf.backend() as never)!;
    await helpers.started;
    expect(helpers.threads).toBe(2);
    const step = (x: Tensor, w: Tensor): Tensor[] => {
      const conv = (a: Tensor, b: Tensor) => tf.conv2d(a as never, b as never, 2, 'same');
      const [dx, dw] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.square(tf.relu(conv(a, b)))))([x, w]);
      // The fused BatchNorm + ReLU's SIMD module on the threaded build's shared memory.
      const bnRelu = (a: Tensor) => batchNormReluTraining(a, tf.onesLike(a).mean([0, 1, 2]), tf.zeros([16]), 1e-5).y;
      const [dBn] = tf.grads((a: Tensor) => tf.sum(tf.mul(bnRelu(a), a)))([x]);
      // Filter gradients split across the threads each way planFilterGrad chooses: by images
      // (small dW; 12 output channels, splatted: 3 blocks), by channels (dW over 64K floats),
      // by taps (one image, one block); stride 1 and 2, 1x1 and 3x3, 12x12 and 4x4 -> 2x2.
      const filterGrad = (a: Tensor, k: number, s: number, co: number) => {
        const filterShape = [k, k, a.shape[3]!, co];
        const dy = tf.conv2d(a as never, tf.ones(filterShape) as never, s, 'same');
        return tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy }, { strides: s, pad: 'same', dataFormat: 'NHWC', filterShape } as never) as Tensor;
      };
      const x3 = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, 3]);
      const small = tf.slice(x, [0, 0, 0, 0], [-1, 4, 4, -1]);
      // The strided input gradient on 2x2 maps (runs across images), split by images.
      const inputGrad = tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.slice(x, [0, 0, 0, 0], [-1, 2, 2, 16]), filter: tf.slice(w, [0, 0, 0, 0], [-1, -1, -1, 16]) }, {
        strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [8, 4, 4, 16],
      } as never) as Tensor;
      return [
        conv(x, w), dx!, dw!, tf.concat([x, x], 3), bnRelu(x), dBn!,
        filterGrad(x, 1, 1, 6), filterGrad(x, 3, 1, 12), filterGrad(small, 3, 1, 512), filterGrad(x3, 3, 2, 7), filterGrad(small, 3, 2, 12), inputGrad,
      ];
    };
    const wasm = await run('wasm', step);
    const cpu = await run('cpu', step);
    cpu.forEach((c, i) => expect(relativeMaxError(wasm[i]!, c), `output ${i}`).toBeLessThan(1e-4));
  });

  it('shares kernel tasks with the helper, and reports a task that fails on either thread', async () => {
    await useBackend('wasm');
    const pool = heapWorkers(tf.backend() as never)!;
    const simd = heapModule(tf.backend() as never, CONV_FILTER_GRAD_WASM)!;
    // Every task reads and writes past the end of the memory: the traps surface as one error,
    // whichever threads ran them, and only after all tasks have finished.
    const end = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const bad: HeapTask = [{ fn: 'accumulate', args: [end - 4, 4, 0, end - 4, 8, 0, 64, 1, 1, 0, 0, 4, 8, end - 4, 8] }];
    expect(() => runHeapTasks(pool, CONV_FILTER_GRAD_WASM, Array.from({ length: 8 }, () => bad), simd)).toThrow();
    // The pool still works afterwards: a real filter gradient on both threads matches the CPU.
    const grad = (x: Tensor) => {
      const dy = tf.conv2d(x as never, tf.ones([3, 3, 16, 12]) as never, 1, 'same');
      return [tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 12] } as never) as Tensor];
    };
    const wasm = await run('wasm', grad);
    const cpu = await run('cpu', grad);
    expect(relativeMaxError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-4);
  });

  it.skipIf(process.platform !== 'linux')("runs XNNPACK's pool threads at the lowest priority", () => {
    // Field 19 of /proc/<pid>/task/<tid>/stat is the nice value; the pool's workers (8 in the
    // threaded build) lower their own, the main thread keeps its.
    const nice = readdirSync('/proc/self/task').map((t) => Number(readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
    expect(nice.filter((n) => n === 19).length).toBeGreaterThanOrEqual(2);
    expect(Number(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16])).toBe(0);
  });

  it('declines once the wasm backend is initialised', async () => {
    expect(await enableWasmThreads(2)).toBe(false);
  });
});
