/** Test helper: deterministic uniform(−1, 1) data, so failures reproduce. */
export function randomData(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 0xffffffff) * 2 - 1;
  }
  return out;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
