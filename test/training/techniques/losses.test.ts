import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../training/backend/tf.js';
import { crossEntropy, sumOfExitCrossEntropies } from '../../../training/techniques/losses.js';
import { distillationKl, ofaKdLoss } from '../../../training/techniques/ofa-kd.js';
import { useBackend } from '../../helpers/backends.js';

// Hand computation in plain JavaScript, independent of tfjs.
const softmax = (z: number[], T = 1) => {
  const m = Math.max(...z.map((v) => v / T));
  const e = z.map((v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const ce = (rows: number[][], y: number[]) => rows.reduce((a, z, i) => a - Math.log(softmax(z)[y[i]!]!), 0) / rows.length;
const klSum = (student: number[][], teacher: number[][], T: number) =>
  student.reduce((acc, z, i) => {
    const p = softmax(teacher[i]!, T);
    const q = softmax(z, T);
    return acc + p.reduce((a, pj, j) => a + pj * (Math.log(pj) - Math.log(q[j]!)), 0);
  }, 0);

const Z1 = [[1, 2, 3, 0.5], [1, 0, -1, 2], [0.2, 0.1, -0.3, 0]];
const Z2 = [[2, -1, 0.5, 1], [0, 3, -2, 1], [1.5, 1.5, 0, -1]];
const Z3 = [[0.3, 0.2, 2, -1], [-1, 1, 0, 0.5], [3, 0, 0, 1]];
const TEACHER = [[1, 0, 2, 0], [0, 2, -1, 1], [2, 1, 0, 0]];
const Y = [2, 3, 0];

beforeAll(async () => {
  await useBackend('cpu');
});

describe('cross-entropy', () => {
  it('is the batch mean of -log softmax at the label', () => {
    const v = crossEntropy(tf.tensor2d(Z1), tf.tensor1d(Y, 'int32')).dataSync()[0]!;
    expect(v).toBeCloseTo(ce(Z1, Y), 5);
  });

  it('stage-1 loss is the unweighted sum over exits', () => {
    const { total, perExit } = sumOfExitCrossEntropies([tf.tensor2d(Z1), tf.tensor2d(Z2)], tf.tensor1d(Y, 'int32'));
    expect(total.dataSync()[0]!).toBeCloseTo(ce(Z1, Y) + ce(Z2, Y), 5);
    expect(perExit.map((t) => t.dataSync()[0]!)).toHaveLength(2);
  });
});

describe('OFA-KD', () => {
  it('KL with the reference reduction averages over B·N elements', () => {
    const v = distillationKl(tf.tensor2d(Z1), tf.tensor2d(TEACHER), 3, 'elementwise-mean').dataSync()[0]!;
    expect(v).toBeCloseTo(klSum(Z1, TEACHER, 3) / (3 * 4), 6);
  });

  it('KL with batchmean averages over the batch only (N times the reference value)', () => {
    const v = distillationKl(tf.tensor2d(Z1), tf.tensor2d(TEACHER), 3, 'batchmean').dataSync()[0]!;
    expect(v).toBeCloseTo(klSum(Z1, TEACHER, 3) / 3, 6);
  });

  it('weights CE and KD as (1-γ)·CE + γ·T²·KL on earlier exits and CE alone on the last', () => {
    const T = 3;
    const gamma = 0.9;
    const { total, perExit } = ofaKdLoss(
      [tf.tensor2d(Z1), tf.tensor2d(Z2), tf.tensor2d(Z3)],
      tf.tensor2d(TEACHER),
      tf.tensor1d(Y, 'int32'),
      { temperature: T, gamma, reduction: 'elementwise-mean' },
    );
    const early = (z: number[][]) => (1 - gamma) * ce(z, Y) + gamma * T * T * (klSum(z, TEACHER, T) / 12);
    const expected = [early(Z1), early(Z2), ce(Z3, Y)];
    perExit.forEach((t, k) => expect(t.dataSync()[0]!).toBeCloseTo(expected[k]!, 5));
    expect(total.dataSync()[0]!).toBeCloseTo(expected[0]! + expected[1]! + expected[2]!, 5);
  });

  it('sends no gradient into the teacher', () => {
    const teacher = tf.tensor2d(TEACHER);
    const g = tf.grad((t: tf.Tensor) => ofaKdLoss([tf.tensor2d(Z1), tf.tensor2d(Z2)], t, tf.tensor1d(Y, 'int32')).total)(teacher);
    expect(Math.max(...Array.from(g.dataSync(), Math.abs))).toBe(0);
  });
});
