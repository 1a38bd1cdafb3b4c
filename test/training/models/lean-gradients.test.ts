/**
 * @module test/training/models/lean-gradients
 * The re-registered Conv2D and Concat gradients: the same values as finite differences (Conv2D)
 * and as the CPU backend's slices (Concat), and a lower peak memory in a backward pass than the
 * same formulas keeping dy to the end of the pass.
 */
import { describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import type { Tensor } from '../../../training/backend/tf.js';
import '../../../training/models/lean-gradients.js';
import { useBackend } from '../../helpers/backends.js';
import { randomData, sizeOf } from '../../helpers/random-data.js';

const X = [2, 5, 5, 3];
const W = [3, 3, 3, 4];

function loss(x: Tensor, w: Tensor, r: Tensor): Tensor {
  return tf.sum(tf.mul(tf.conv2d(x as never, w as never, 2, 'same'), r));
}

describe('Concat gradient (re-registered)', () => {
  it('gives each input its slice of dy, along any axis, with repeated inputs summed', async () => {
    await useBackend('cpu');
    const a = tf.tensor(randomData(2 * 3 * 4, 5), [2, 3, 4]);
    const b = tf.tensor(randomData(2 * 3 * 2, 6), [2, 3, 2]);
    const r = tf.tensor(randomData(2 * 3 * 10, 7), [2, 3, 10]);
    const [da, db] = tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.mul(tf.concat([p, q, p], 2), r)))([a, b]);
    const rv = (await r.data()) as Float32Array;
    const expectA = Array.from({ length: 24 }, (_, i) => rv[Math.floor(i / 4) * 10 + (i % 4)]! + rv[Math.floor(i / 4) * 10 + 6 + (i % 4)]!);
    const expectB = Array.from({ length: 12 }, (_, i) => rv[Math.floor(i / 2) * 10 + 4 + (i % 2)]!);
    Array.from(await da!.data()).forEach((v, i) => expect(v).toBeCloseTo(expectA[i]!, 5));
    Array.from(await db!.data()).forEach((v, i) => expect(v).toBeCloseTo(expectB[i]!, 5));
    tf.dispose([a, b, r, da!, db!]);
  });

  it('frees each dy during the backward pass: a lower peak than keeping it to the end (wasm)', async () => {
    await useBackend('wasm');
    const v = tf.variable(tf.tensor(randomData(4 * 8 * 8 * 4, 8), [4, 8, 8, 4]));
    // Dense-style growth: each concatenation's output feeds the next (as MSDNet's layers do).
    const chain = () => tf.sum([0, 1, 2, 3].reduce<Tensor>((h) => tf.concat([h, tf.mul(v, 2)], 3), v)) as tf.Scalar;
    const peak = async () => (await tf.profile(() => tf.dispose(tf.variableGrads(chain, [v]).grads))).peakBytes;
    const early = await peak();
    const ours = tf.getGradient('Concat')!;
    tf.registerGradient({
      kernelName: 'Concat',
      saveAllInputs: true,
      gradFunc: (dy, saved, attrs) => {
        const axis = tf.util.parseAxisParam((attrs as unknown as tf.ConcatAttrs).axis, saved[0]!.shape)[0]!;
        const pieces = tf.split(dy as Tensor, saved.map((t) => t.shape[axis]!), axis);
        return Object.fromEntries(pieces.map((piece, i) => [String(i), () => piece]));
      },
    });
    try {
      expect(early).toBeLessThan(await peak());
    } finally {
      tf.registerGradient(ours);
      v.dispose();
    }
  });
});

describe('Conv2D gradient (re-registered)', () => {
  it('matches central finite differences for x and the filter (cpu, float64 steps)', async () => {
    await useBackend('cpu');
    const xv = randomData(sizeOf(X), 1);
    const wv = randomData(sizeOf(W), 2);
    const r = tf.tensor(randomData(2 * 3 * 3 * 4, 3), [2, 3, 3, 4]);
    const [dx, dw] = tf.grads((x: Tensor, w: Tensor) => loss(x, w, r))([tf.tensor(xv, X), tf.tensor(wv, W)]);
    const gx = (await dx!.data()) as Float32Array;
    const gw = (await dw!.data()) as Float32Array;
    const at = (x: Float32Array, w: Float32Array) => tf.tidy(() => loss(tf.tensor(x, X), tf.tensor(w, W), r).dataSync()[0]!);
    const h = 1e-2; // the loss is linear in each input, so the central difference is exact up to rounding
    for (const i of [0, 7, 31, 149]) {
      const up = xv.slice(); up[i]! += h;
      const down = xv.slice(); down[i]! -= h;
      expect(gx[i]!).toBeCloseTo((at(up, wv) - at(down, wv)) / (2 * h), 2);
    }
    for (const i of [0, 13, 55, 107]) {
      const up = wv.slice(); up[i]! += h;
      const down = wv.slice(); down[i]! -= h;
      expect(gw[i]!).toBeCloseTo((at(xv, up) - at(xv, down)) / (2 * h), 2);
    }
    tf.dispose([r, dx!, dw!]);
  });

  it('frees each dy during the backward pass: a lower peak than keeping it to the end (wasm)', async () => {
    await useBackend('wasm');
    const x = tf.tensor(randomData(sizeOf([4, 16, 16, 8]), 4), [4, 16, 16, 8]);
    const ws = [0, 1, 2, 3].map((i) => tf.variable(tf.tensor(randomData(9 * 8 * 8, 10 + i), [3, 3, 8, 8])));
    const chain = () => ws.reduce<Tensor>((h, w) => tf.relu(tf.conv2d(h as never, w as never, 1, 'same')), x).sum() as tf.Scalar;
    const peak = async () => (await tf.profile(() => tf.dispose(tf.variableGrads(chain, ws).grads))).peakBytes;
    const early = await peak();
    const ours = tf.getGradient('Conv2D')!;
    // The same formulas, keeping dy (tfjs's own gradient does this).
    tf.registerGradient({
      kernelName: 'Conv2D',
      inputsToSave: ['x', 'filter'],
      gradFunc: (dy, saved, attrs) => {
        const [xs, filter] = saved as [Tensor, Tensor];
        const a = attrs as unknown as tf.Conv2DAttrs;
        const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
        return {
          x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dy as Tensor, filter }, { ...common, inputShape: xs.shape } as never) as Tensor,
          filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: dy as Tensor }, { ...common, filterShape: filter.shape } as never) as Tensor,
        };
      },
    });
    try {
      const kept = await peak();
      expect(early).toBeLessThan(kept);
    } finally {
      tf.registerGradient(ours);
      tf.dispose([x, ...ws]);
    }
  });
});
