import { describe, expect, it } from 'vitest';
import {
  ALWAYS_EXIT,
  NEVER_EXIT,
  applyThresholds,
  budgetedBatch,
  defaultPGrid,
  exitDistribution,
  findThresholds,
  targetCount,
} from '../../calibration/index.js';
import { randomScores, rng, scoresFrom } from './fixtures.js';

describe('exit distribution', () => {
  it('grid is 0.05 … 2.00 in 40 steps', () => {
    const ps = defaultPGrid();
    expect(ps).toHaveLength(40);
    expect(ps[0]).toBe(0.05);
    expect(ps[19]).toBe(1);
    expect(ps[39]).toBe(2);
  });

  it('q_k = p^k / Σ p^j', () => {
    expect(exitDistribution(1, 4)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const q = exitDistribution(2, 3); // 2, 4, 8 over 14
    expect(q[0]).toBeCloseTo(2 / 14, 12);
    expect(q[2]).toBeCloseTo(8 / 14, 12);
  });

  it('floor(N·q) does not lose an integer to rounding', () => {
    expect(targetCount(1000, 0.3)).toBe(300);
    expect(targetCount(10, 0.29999)).toBe(2);
  });
});

describe('threshold search (spec §6.2)', () => {
  it('T_k is the confidence of the n_k-th most confident sample', () => {
    const c1 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    const val = scoresFrom([c1, c1]);
    // p = 1, K = 2: n_1 = 5 → the 5th highest is 0.6 (as float32, like the stored confidences).
    expect(findThresholds(val, exitDistribution(1, 2))).toEqual([Math.fround(0.6), ALWAYS_EXIT]);
  });

  it('gives per-exit validation counts floor(N·q_k) on 1000 random confidences, for every p', () => {
    const r = rng(7);
    const K = 5;
    const N = 1000;
    const val = scoresFrom(Array.from({ length: K }, () => Array.from({ length: N }, () => r())));
    const mflops = [1, 2, 3, 4, 5];
    for (const p of defaultPGrid()) {
      const q = exitDistribution(p, K);
      const { exitCounts } = applyThresholds(val, findThresholds(val, q), mflops);
      const targets = q.slice(0, K - 1).map((x) => targetCount(N, x));
      for (let k = 0; k < K - 1; k++) expect(Math.abs(exitCounts[k]! - targets[k]!), `p=${p} exit ${k + 1}`).toBeLessThanOrEqual(1);
      expect(exitCounts.reduce((a, b) => a + b, 0)).toBe(N);
      expect(Math.abs(exitCounts[K - 1]! - (N - targets.reduce((a, b) => a + b, 0)))).toBeLessThanOrEqual(K - 1);
    }
  });

  it('ties with T_k exit, in the search and when applied', () => {
    const c1 = [0.9, 0.9, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01];
    const val = scoresFrom([c1, c1]);
    // p = 5, K = 2: q_1 = 1/6, n_1 = floor(10/6) = 1, but the three samples at 0.9 all leave.
    const t = findThresholds(val, exitDistribution(5, 2));
    expect(t).toEqual([Math.fround(0.9), ALWAYS_EXIT]);
    expect(applyThresholds(val, t, [1, 2]).exitCounts).toEqual([3, 7]);
    const test = scoresFrom([[0.9, 0.8999], [0, 0]]);
    expect(applyThresholds(test, t, [1, 2]).exitCounts).toEqual([1, 1]);
  });

  it('T_k = 1e8 when n_k = 0 or too few samples remain', () => {
    const r = rng(3);
    const rand = () => Array.from({ length: 10 }, () => r());
    // p = 0.05, K = 3: q = [0.95, 0.0475, 0.0024] → n_1 = 9, n_2 = 0.
    const t = findThresholds(scoresFrom([rand(), rand(), rand()]), exitDistribution(0.05, 3));
    expect(t[1]).toBe(NEVER_EXIT);
    expect(t[2]).toBe(ALWAYS_EXIT);
    // p = 1: n_1 = 3, but all ten tie at exit 1 and leave; exit 2 wants 3 and finds none.
    const flat = scoresFrom([new Array<number>(10).fill(0.5), rand(), rand()]);
    const t2 = findThresholds(flat, exitDistribution(1, 3));
    expect(t2).toEqual([0.5, NEVER_EXIT, ALWAYS_EXIT]);
    expect(applyThresholds(flat, t2, [1, 2, 3]).exitCounts).toEqual([10, 0, 0]);
  });

  it('applies thresholds: first exit with c ≥ T, accuracy and expected MFLOPs', () => {
    const s = scoresFrom(
      [
        [0.9, 0.2, 0.2, 0.2],
        [0.1, 0.8, 0.3, 0.3],
        [0.1, 0.1, 0.1, NaN],
      ],
      { predictions: [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 3]], labels: [1, 2, 0, 3] },
    );
    const o = applyThresholds(s, [0.5, 0.5, ALWAYS_EXIT], [10, 20, 40]);
    expect(o.exitCounts).toEqual([1, 1, 2]);
    expect(o.exitFractions).toEqual([0.25, 0.25, 0.5]);
    expect(o.accuracy).toBe(75); // sample 2 exits at 3 predicting 3, label 0
    expect(o.expectedMflops).toBeCloseTo(0.25 * 10 + 0.25 * 20 + 0.5 * 40, 12);
  });
});

describe('budgeted batch sweep', () => {
  const mflops = [10, 20, 30, 40];
  const accuracy = [0.5, 0.65, 0.8, 0.9];
  const val = randomScores(2000, accuracy, 11);
  const test = randomScores(2000, accuracy, 12);
  const table = budgetedBatch({ val, test, mflops });

  it('has one point per p with K thresholds, the last −1e8', () => {
    expect(table.map((b) => b.p)).toEqual(defaultPGrid());
    for (const b of table) {
      expect(b.thresholds).toHaveLength(4);
      expect(b.thresholds[3]).toBe(ALWAYS_EXIT);
      expect(b.exitFractions.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 12);
    }
  });

  it('expected MFLOPs do not decrease with p when deeper exits are more accurate', () => {
    for (let i = 1; i < table.length; i++) {
      expect(table[i]!.valExpectedMflops, `val p=${table[i]!.p}`).toBeGreaterThanOrEqual(table[i - 1]!.valExpectedMflops);
      expect(table[i]!.expectedMflops, `test p=${table[i]!.p}`).toBeGreaterThanOrEqual(table[i - 1]!.expectedMflops);
    }
    expect(table[0]!.expectedMflops).toBeLessThan(15);
    expect(table[39]!.expectedMflops).toBeGreaterThan(30);
    expect(table[39]!.testAccuracy).toBeGreaterThan(table[0]!.testAccuracy);
  });

  it('rejects scores of different criteria', () => {
    expect(() => budgetedBatch({ val, test: { ...test, criterion: 'entropy' }, mflops })).toThrow(/criterion|entropy/);
  });
});
