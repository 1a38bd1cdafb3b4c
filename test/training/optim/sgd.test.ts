import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import { Sgd } from '../../../training/optim/sgd.js';
import { sgdInJs, SGD_UPDATE } from '../../../training/backend/wasm-kernels/sgd-update.js';
import { heapModule } from '../../../training/backend/wasm-kernels/simd/heap-module.js';
import * as SGD_UPDATE_WASM from '../../../training/backend/wasm-kernels/simd/sgd-update.wasm.js';
import { useBackend } from '../../helpers/backends.js';
import { randomData } from '../../helpers/random-data.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** PyTorch's SGD on one scalar parameter, by hand. */
function reference(p0: number, grads: number[], lr: number, mu: number, wd: number, nesterov: boolean): number {
  let p = p0;
  let v = 0;
  grads.forEach((g0, t) => {
    const g = g0 + wd * p;
    v = t === 0 ? g : mu * v + g;
    p -= lr * (nesterov ? g + mu * v : v);
  });
  return p;
}

describe('SGD', () => {
  for (const nesterov of [false, true]) {
    it(`follows PyTorch's update rule${nesterov ? ' with Nesterov' : ''} on wasm (one fused kernel per parameter)`, async () => {
      await useBackend('wasm');
      const tensorsBefore = tf.memory().numTensors;
      try {
        const init = tf.tensor1d([1.5, -0.5, 2]);
        const variable = tf.variable(init);
        init.dispose();
        const sgd = new Sgd([{ name: 'w', variable }], { momentum: 0.9, weightDecay: 1e-2, nesterov });
        const grads = [0.3, -0.2, 0.5, 0.1];
        const profile = await tf.profile(() => {
          for (const g of grads) {
            const grad = tf.tensor1d([g, 2 * g, -g]);
            sgd.step({ [variable.name]: grad }, 0.1);
            grad.dispose();
          }
        });
        expect(profile.kernels.filter((k) => k.name === 'AdaptiveExitSgdUpdate')).toHaveLength(grads.length);
        const got = variable.dataSync();
        [1.5, -0.5, 2].forEach((p0, i) => {
          const scale = [1, 2, -1][i]!;
          expect(got[i]!).toBeCloseTo(reference(p0, grads.map((g) => g * scale), 0.1, 0.9, 1e-2, nesterov), 5);
        });
        sgd.dispose();
        variable.dispose();
        expect(tf.memory().numTensors).toBe(tensorsBefore); // no tensor left behind
      } finally {
        await useBackend('cpu');
      }
    });

    it(`runs the same float32 arithmetic in its SIMD and JavaScript paths${nesterov ? ' with Nesterov' : ''}`, async () => {
      await useBackend('wasm');
      try {
        // 11 floats: two SIMD vectors and a scalar tail of 3.
        const n = 11;
        const [p, g, v] = [1, 2, 3].map((seed) => randomData(n, seed));
        const attrs = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov };
        // The kernel below takes its SIMD path (the module binds on this runtime).
        expect(heapModule(tf.backend() as never, SGD_UPDATE_WASM)).toBeDefined();
        const inputs = { param: tf.tensor1d(p!), grad: tf.tensor1d(g!), velocity: tf.tensor1d(v!) };
        const [newP, newV] = tf.engine().runKernel(SGD_UPDATE, inputs, attrs as never) as tf.Tensor[];
        const heap = new Float32Array(5 * n);
        [p!, g!, v!].forEach((values, i) => heap.set(values, i * n));
        sgdInJs(heap, [0, n, 2 * n, 3 * n, 4 * n], n, attrs);
        expect(Array.from(newP!.dataSync())).toEqual(Array.from(heap.subarray(3 * n, 4 * n)));
        expect(Array.from(newV!.dataSync())).toEqual(Array.from(heap.subarray(4 * n)));
        tf.dispose([newP!, newV!, ...Object.values(inputs)]);
      } finally {
        await useBackend('cpu');
      }
    });

    it(`follows PyTorch's update rule${nesterov ? ' with Nesterov' : ''}`, () => {
      const variable = tf.variable(tf.scalar(1.5));
      const sgd = new Sgd([{ name: 'w', variable }], { momentum: 0.9, weightDecay: 1e-2, nesterov });
      const grads = [0.3, -0.2, 0.5, 0.1];
      for (const g of grads) sgd.step({ [variable.name]: tf.scalar(g) }, 0.1);
      expect(variable.dataSync()[0]!).toBeCloseTo(reference(1.5, grads, 0.1, 0.9, 1e-2, nesterov), 5);
      sgd.dispose();
    });
  }

  it('restores its momentum so a resumed run continues exactly', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([1, 2]));
    const sgdA = new Sgd([{ name: 'w', variable: a }]);
    const g = () => ({ [a.name]: tf.tensor1d([0.5, -0.5]), [b.name]: tf.tensor1d([0.5, -0.5]) });
    sgdA.step(g(), 0.1);
    b.assign(a);
    const sgdB = new Sgd([{ name: 'w', variable: b }]);
    sgdB.loadState(sgdA.stateTensors().map(({ name, tensor }) => ({ name, values: tensor.dataSync() as Float32Array, shape: tensor.shape })));
    sgdA.step(g(), 0.1);
    sgdB.step(g(), 0.1);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => sgdB.loadState([{ name: 'other', values: new Float32Array(2), shape: [2] }])).toThrow(/unknown parameter "other"/);
    expect(() => sgdB.loadState([{ name: 'w', values: new Float32Array(3), shape: [3] }])).toThrow(/expected shape \[2\], got \[3\]/);
  });
});
