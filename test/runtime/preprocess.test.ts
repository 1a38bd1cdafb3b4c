/**
 * writePixels (the lookup-table path for RGB/BGR, the formula for GRAY) writes exactly
 * float32((v · pixelScale − mean[c]) / std[c]) for the right source byte of every channel order
 * and pixel layout (grey, grey + alpha, RGB, RGBA), at an offset into a larger batch tensor.
 */
import { describe, expect, it } from 'vitest';
import { imagePreprocessing, writePixels, type Pixels, type PreprocessManifest } from '../../runtime/core/index.js';

const W = 5;
const H = 3;
const pre = (channelOrder: 'RGB' | 'BGR' | 'GRAY', C: number): PreprocessManifest =>
  ({
    input: { name: 'image', dims: ['batch', C, H, W], layout: 'NCHW', dtype: 'float32', batchAxis: 0 },
    preprocessing: { resize: { width: W, height: H, mode: 'bilinear', fit: 'fill' }, pixelScale: 1 / 255, channelOrder, mean: [0.49, 0.48, 0.45].slice(0, C), std: [0.25, 0.24, 0.26].slice(0, C) },
  }) as unknown as PreprocessManifest;

function pixels(channels: 1 | 2 | 3 | 4): Pixels {
  return { width: W, height: H, channels, data: Uint8Array.from({ length: W * H * channels }, (_, i) => (i * 37 + 11) & 0xff) };
}

/** The reference: every value from its formula. */
function expected(m: PreprocessManifest, px: Pixels): Float32Array {
  const C = m.input.dims[1] as number;
  const { pixelScale, mean, std, channelOrder } = imagePreprocessing(m);
  const out = new Float32Array(C * W * H);
  for (let i = 0; i < W * H; i++) {
    const at = (k: number) => px.data[i * px.channels + (px.channels >= 3 ? k : 0)]!;
    for (let c = 0; c < C; c++) {
      const v = channelOrder === 'GRAY' ? (px.channels >= 3 ? 0.299 * at(0) + 0.587 * at(1) + 0.114 * at(2) : at(0)) : at(channelOrder === 'RGB' ? c : 2 - c);
      out[c * W * H + i] = (v * pixelScale - mean[c]!) / std[c]!;
    }
  }
  return out;
}

describe('writePixels', () => {
  for (const [order, C] of [
    ['RGB', 3],
    ['BGR', 3],
    ['GRAY', 1],
  ] as const) {
    it(`${order}: every pixel layout, at an offset`, () => {
      for (const channels of [1, 2, 3, 4] as const) {
        const m = pre(order, C);
        const px = pixels(channels);
        const out = new Float32Array(2 * C * W * H).fill(NaN);
        writePixels(px, m, out, C * W * H);
        expect(Array.from(out.subarray(C * W * H)), `${channels} channels`).toEqual(Array.from(expected(m, px)));
        expect(out.subarray(0, C * W * H).every(Number.isNaN)).toBe(true);
      }
    });
  }
});
