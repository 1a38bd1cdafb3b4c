/**
 * Test helper: element-wise closeness at the tolerance, |ours - peer| <= atol + rtol·|peer|
 * (numpy's allclose with the peer as reference), tracked per quantity so the largest differences
 * can be reported as well as checked.
 */

export const RTOL = 1e-3;
/** For values near zero, where a relative tolerance means nothing (e.g. gradients zero in exact arithmetic). */
export const ATOL = 1e-5;

export interface Closeness {
  /** Tensors (or scalars) compared. */
  tensors: number;
  /** Elements compared. */
  elements: number;
  /** Largest |ours - peer|. */
  maxAbsDiff: number;
  /** Largest |ours - peer| / (atol + rtol·|peer|): at most 1 passes. */
  toleranceUsed: number;
  /** The tensor holding the element with the largest `toleranceUsed`. */
  worst: string;
}

/** Accumulates the closeness of many tensors, one record per named quantity. */
export class ClosenessReport {
  readonly quantities: Record<string, Closeness> = {};

  /** Compares `ours` with `peer` element by element under `quantity`. */
  add(quantity: string, name: string, ours: ArrayLike<number>, peer: ArrayLike<number>): void {
    if (ours.length !== peer.length) throw new Error(`${quantity} ${name}: ${ours.length} values here, ${peer.length} in the peer.`);
    const q = (this.quantities[quantity] ??= { tensors: 0, elements: 0, maxAbsDiff: 0, toleranceUsed: 0, worst: '' });
    q.tensors += 1;
    q.elements += peer.length;
    for (let i = 0; i < peer.length; i++) {
      const a = ours[i]!;
      const b = peer[i]!;
      const diff = Math.abs(a - b);
      // NaN on either side must fail, never compare as "not greater".
      const used = Number.isNaN(diff) ? Infinity : diff / (ATOL + RTOL * Math.abs(b));
      if (diff > q.maxAbsDiff || Number.isNaN(diff)) q.maxAbsDiff = Number.isNaN(diff) ? Infinity : diff;
      if (used > q.toleranceUsed) {
        q.toleranceUsed = used;
        q.worst = `${name}[${i}]: ${a} here, ${b} in the peer`;
      }
    }
  }

  /** Records a quantity that cannot be compared value by value (present on one side only, say) as failed. */
  mismatch(quantity: string, why: string): void {
    this.quantities[quantity] = { tensors: 0, elements: 0, maxAbsDiff: Infinity, toleranceUsed: Infinity, worst: why };
  }

  /** Quantities over tolerance, one line each (empty when all pass). */
  failures(): string[] {
    return Object.entries(this.quantities)
      .filter(([, q]) => !(q.toleranceUsed <= 1))
      .map(([name, q]) => `${name}: ${q.toleranceUsed.toFixed(2)}x the tolerance at ${q.worst}`);
  }
}
