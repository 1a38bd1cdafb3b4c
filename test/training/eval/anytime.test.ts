import { describe, expect, it } from 'vitest';
import { anytimeAccuracy, EvalInputError, exitScores, rowConfidences, softmaxRows, type ExitOutputs } from '../../../training/eval/index.js';

describe('softmax', () => {
  it('is stable for large logits and sums to one', () => {
    const s = softmaxRows(Float32Array.from([1000, 1000, -1000, 0, Math.log(3), 0]), 3);
    expect([...s.subarray(0, 3)]).toEqual([0.5, 0.5, 0]);
    expect(s[3]! + s[4]! + s[5]!).toBeCloseTo(1, 6);
    expect(s[4]).toBeCloseTo(0.6, 6);
  });
});

describe('confidence criteria', () => {
  // Softmax of [ln 2, 0, 0] is [0.5, 0.25, 0.25]; second row uniform; third nearly one-hot.
  const probs = softmaxRows(Float32Array.from([Math.log(2), 0, 0, 1, 1, 1, 60, 0, 0]), 3);

  it('max-softmax is the top probability', () => {
    const c = rowConfidences(probs, 3, 'max-softmax');
    expect(c[0]).toBeCloseTo(0.5, 6);
    expect(c[1]).toBeCloseTo(1 / 3, 6);
    expect(c[2]).toBeCloseTo(1, 6);
  });

  it('entropy is 1 − H/log N', () => {
    const c = rowConfidences(probs, 3, 'entropy');
    // H = 0.5 ln 2 + 2 · 0.25 ln 4 = 1.5 ln 2.
    expect(c[0]).toBeCloseTo(1 - (1.5 * Math.log(2)) / Math.log(3), 6);
    expect(c[1]).toBeCloseTo(0, 6);
    expect(c[2]).toBeCloseTo(1, 6);
  });

  it('margin is top-1 minus top-2 probability, 0 on a tie for the top', () => {
    const c = rowConfidences(probs, 3, 'margin');
    expect(c[0]).toBeCloseTo(0.25, 6);
    expect(c[1]).toBeCloseTo(0, 6);
    expect(c[2]).toBeCloseTo(1, 6);
    expect(rowConfidences(Float32Array.from([0.4, 0.4, 0.2]), 3, 'margin')[0]).toBe(0);
  });

  it('one class is fully confident under every criterion', () => {
    for (const crit of ['max-softmax', 'entropy', 'margin'] as const) expect(rowConfidences(Float32Array.from([1, 1]), 1, crit)[0]).toBe(1);
  });

  it('exitScores predicts the argmax, first index on a tie, and records the criterion', () => {
    const out: ExitOutputs = { numExits: 1, numClasses: 3, count: 2, logits: [Float32Array.from([0, 2, 1, 5, 5, 0])], labels: Int32Array.from([1, 0]) };
    const s = exitScores(out, 'margin');
    expect([...s.predictions[0]!]).toEqual([1, 0]);
    expect(s.criterion).toBe('margin');
  });
});

describe('anytime accuracy', () => {
  it('matches a hand count of top-1/top-5 (6 classes, ties broken by lower index)', () => {
    const out: ExitOutputs = {
      numExits: 2,
      numClasses: 6,
      count: 4,
      labels: Int32Array.from([0, 5, 1, 1]),
      logits: [
        // ranks of the label: 0, 5, 4, 1 (class 0 ties class 1 and wins) → top-1 1/4, top-5 3/4
        Float32Array.from([5, 4, 3, 2, 1, 0, 5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 5, 1, 1, 0, 0, 0, 0]),
        // ranks: 1, 0, 0, 4 → top-1 2/4, top-5 4/4
        Float32Array.from([0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 3, 1, 2, 2, 2, 0]),
      ],
    };
    expect(anytimeAccuracy(out, [1.5, 4])).toEqual([
      { exit: 1, mflops: 1.5, top1: 25, top5: 75 },
      { exit: 2, mflops: 4, top1: 50, top5: 100 },
    ]);
  });

  it('rejects outputs whose shapes disagree', () => {
    const out: ExitOutputs = { numExits: 1, numClasses: 3, count: 2, logits: [new Float32Array(5)], labels: Int32Array.from([0, 1]) };
    expect(() => anytimeAccuracy(out, [1])).toThrow(EvalInputError);
    expect(() => anytimeAccuracy({ ...out, logits: [new Float32Array(6)], labels: Int32Array.from([0, 3]) }, [1])).toThrow(/label 3/);
    expect(() => anytimeAccuracy({ ...out, logits: [new Float32Array(6)] }, [1, 2])).toThrow(/costs/);
  });
});
