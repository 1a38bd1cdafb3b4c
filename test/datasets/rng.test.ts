import { describe, expect, it } from 'vitest';
import { hash32, SeededRng } from '../../datasets/index.js';

describe('SeededRng', () => {
  it('is xoshiro128** (reference outputs of the C code from state 1, 2, 3, 4)', () => {
    const rng = new SeededRng(0);
    rng.setState([1, 2, 3, 4]);
    expect([0, 1, 2, 3, 4].map(() => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883]);
    for (let i = 0; i < 995; i++) rng.nextUint32();
    expect(rng.nextUint32()).toBe(136054147);
  });

  it('repeats its sequence for a seed and after a restored state', () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    const seqA = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(seqA);
    expect(new SeededRng(43).nextUint32()).not.toBe(seqA[0]);
    const saved = JSON.parse(JSON.stringify(a.getState())) as number[];
    const next = Array.from({ length: 10 }, () => a.nextFloat());
    const c = new SeededRng(7);
    c.setState(saved);
    expect(Array.from({ length: 10 }, () => c.nextFloat())).toEqual(next);
  });

  it('draws uniform integers and floats in range', () => {
    const rng = new SeededRng(1);
    const counts = new Array<number>(9).fill(0);
    for (let i = 0; i < 9000; i++) counts[rng.nextInt(9)]! += 1;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    for (let i = 0; i < 1000; i++) {
      const f = rng.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(rng.nextInt(1)).toBe(0);
  });

  it('shuffles into a permutation', () => {
    const arr = Int32Array.from({ length: 100 }, (_, i) => i);
    new SeededRng(3).shuffle(arr);
    expect(Array.from(arr).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(arr)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(new SeededRng(3).shuffle(Int32Array.from({ length: 100 }, (_, i) => i)))).toEqual(Array.from(arr));
  });

  it('rejects bad states and arguments', () => {
    const rng = new SeededRng(0);
    expect(() => rng.setState([0, 0, 0, 0])).toThrow(/^rng state: expected 4 unsigned 32-bit integers, not all zero, got \[0, 0, 0, 0\]\.$/);
    expect(() => rng.setState([1, 2, 3])).toThrow(/got \[1, 2, 3\]/);
    expect(() => rng.setState([1, 2, 3, 2 ** 32])).toThrow(/rng state/);
    expect(() => rng.nextInt(0)).toThrow(/^nextInt: expected a whole number from 1 to 2\^32, got 0\.$/);
    expect(() => new SeededRng(Number.NaN)).toThrow(/^seed: expected a finite number, got NaN\.$/);
  });

  it('hash32 is a stable function of (seed, index)', () => {
    expect(hash32(5, 9)).toBe(hash32(5, 9));
    expect(hash32(5, 9)).not.toBe(hash32(5, 10));
    expect(hash32(5, 9)).not.toBe(hash32(6, 9));
    expect(Number.isInteger(hash32(1, 2)) && hash32(1, 2) >= 0 && hash32(1, 2) < 2 ** 32).toBe(true);
  });
});
