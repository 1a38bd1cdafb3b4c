import { describe, expect, it } from 'vitest';
import { defaultPolicy, type BudgetPoint } from '../../calibration/index.js';

function point(p: number, valAccuracy: number, valExpectedMflops: number): BudgetPoint {
  return { p, thresholds: [0.5, -1e8], valAccuracy, testAccuracy: valAccuracy - 1, expectedMflops: valExpectedMflops + 1, valExpectedMflops, exitFractions: [0.5, 0.5], valExitFractions: [0.5, 0.5] };
}

describe('default policy', () => {
  const table = [point(0.05, 85, 10), point(0.1, 89.4, 20), point(0.15, 89.6, 30), point(0.2, 90.0, 50), point(0.25, 91, 60)];

  it('picks the cheapest point within 0.5 points of the last exit (boundary included)', () => {
    const d = defaultPolicy(table, 90.1);
    expect(d.p).toBe(0.15);
    expect(d.withinTolerance).toBe(true);
    expect(d.tolerance).toBe(0.5);
    expect(d.lastExitValAccuracy).toBe(90.1);
    expect(d.thresholds).toEqual([0.5, -1e8]);
    expect(defaultPolicy(table, 90.2).p).toBe(0.2);
    expect(defaultPolicy(table, 90.2, 1).p).toBe(0.1);
  });

  it('takes the more accurate of equally cheap points', () => {
    expect(defaultPolicy([point(0.1, 89.8, 30), point(0.2, 90.0, 30)], 90).p).toBe(0.2);
  });

  it('falls back to the most accurate point when none is close enough', () => {
    const d = defaultPolicy(table, 95);
    expect(d.p).toBe(0.25);
    expect(d.withinTolerance).toBe(false);
  });

  it('rejects an empty table', () => {
    expect(() => defaultPolicy([], 90)).toThrow(/empty/);
  });
});
