import { describe, expect, it } from 'vitest';
import { float32Threshold } from '../../runtime/core/fuse-stages.js';

/** The float32 values next to `x` (x itself rounded, and a few steps either way), as numbers. */
function float32sAround(x: number): number[] {
  const view = new DataView(new ArrayBuffer(4));
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return [f];
  view.setFloat32(0, f);
  const bits = view.getInt32(0);
  const out: number[] = [];
  for (let d = -3; d <= 3; d++) {
    view.setInt32(0, bits + d);
    const v = view.getFloat32(0);
    if (!Number.isNaN(v)) out.push(v);
  }
  return out;
}

describe('float32Threshold: the fused graph compares float32 confidences as JavaScript compares numbers', () => {
  const edges = [0, -0, 1, 0.5, 0.1, 1 / 3, 0.9650052189826965, 1e8, -1e8, 1e-50, -1e-50, 1e-40, -1e-40, Number.MAX_VALUE, -Number.MAX_VALUE, 3.4028235e38, -3.4028235e38, Infinity, -Infinity];
  const random = Array.from({ length: 2000 }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);

  it('c >= t exactly when c >= float32Threshold(t), for float32 confidences around t', () => {
    for (const t of [...edges, ...random]) {
      const t32 = float32Threshold(t);
      expect(Math.fround(t32), `t = ${t}`).toBe(t32);
      expect(t32 >= t, `t = ${t}`).toBe(true);
      for (const c of [...float32sAround(t), 0, 1, -Infinity, Infinity]) expect(c >= t32, `c = ${c}, t = ${t}`).toBe(c >= t);
    }
  });

  it('keeps float32 values as they are and steps up from values that round down', () => {
    expect(float32Threshold(0.5)).toBe(0.5);
    expect(float32Threshold(-Infinity)).toBe(-Infinity);
    expect(float32Threshold(Infinity)).toBe(Infinity);
    expect(float32Threshold(0.1)).toBe(Math.fround(0.1)); // 0.1 rounds up to its float32
    expect(float32Threshold(1 / 3)).toBeGreaterThan(1 / 3); // 1/3 rounds down: one step up
    expect(float32Threshold(-Number.MAX_VALUE)).toBe(-3.4028234663852886e38);
    expect(float32Threshold(1e-50)).toBe(1.401298464324817e-45);
  });
});
