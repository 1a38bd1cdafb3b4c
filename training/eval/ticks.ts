/**
 * @module training/eval/ticks
 * "Nice" axis ticks (steps of 1, 2 or 5 × 10^n) so plot axes read as round numbers.
 */

/** An axis domain extended to whole ticks, and the ticks. */
export interface NiceScale {
  min: number;
  max: number;
  step: number;
  ticks: number[];
  /** Decimals that print every tick exactly. */
  decimals: number;
}

/** The 1-2-5 step closest to giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 6): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/**
 * A domain covering [lo, hi] that starts and ends on a tick. A zero-width range (one point) is
 * widened first so the point sits mid-axis instead of dividing by zero.
 */
export function niceScale(lo: number, hi: number, target = 6): NiceScale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, target);
  // Round the ends with a little slack so lo = 3·step does not become 2·step through rounding.
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const n = Math.round((max - min) / step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  // Ticks from integer multiples, rounded to the printed precision, so 0.1·3 prints as 0.3.
  const ticks = Array.from({ length: n + 1 }, (_, i) => Number((min + i * step).toFixed(decimals)));
  return { min, max, step, ticks, decimals };
}
