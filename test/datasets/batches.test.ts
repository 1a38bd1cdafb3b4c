import { describe, expect, it } from 'vitest';
import {
  batchCount,
  CIFAR10_NORMALIZATION,
  computeNormalization,
  DEFAULT_AUGMENT,
  epochBatches,
  sampleTransform,
  SeededRng,
  type Batch,
  type ChannelNormalization,
  type Uint8Dataset,
} from '../../datasets/index.js';
import { writeImage } from '../../datasets/augment.js';
import { normalizationTables } from '../../datasets/normalization.js';
import { patternBytes } from '../helpers/temp-dir.js';

/** `count` random 8x8x3 images, labels i % 10. */
function dataset(count: number, h = 8, w = 8, c = 3): Uint8Dataset {
  return {
    images: patternBytes(count * h * w * c, 11),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    height: h,
    width: w,
    channels: c,
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
  };
}

/** Mean 0, std 1/255: a normalised value is the byte itself, so tests read pixels directly. */
const IDENTITY_NORM = (channels: number): ChannelNormalization => ({ mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1 / 255) });

const collect = (it: Iterable<Batch>): Batch[] => Array.from(it);

describe('epochBatches', () => {
  it('covers every index once in batches of the requested size, labels matching', () => {
    const ds = dataset(10);
    const rng = new SeededRng(1);
    const epoch = epochBatches(ds, { batchSize: 4, normalization: CIFAR10_NORMALIZATION, shuffle: true, rng });
    expect(epoch.batchCount).toBe(3);
    const batches = collect(epoch);
    expect(batches.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(batches[2]!.shape).toEqual([2, 8, 8, 3]);
    expect(batches[2]!.images).toHaveLength(2 * 8 * 8 * 3);
    const seen = batches.flatMap((b) => Array.from(b.indices));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const b of batches) expect(Array.from(b.labels)).toEqual(Array.from(b.indices, (i) => i % 10));
    expect(collect(epochBatches(ds, { batchSize: 4, normalization: CIFAR10_NORMALIZATION, dropLast: true })).map((b) => b.size)).toEqual([4, 4]);
    expect(batchCount(10, 4)).toBe(3);
    expect(batchCount(10, 4, true)).toBe(2);
  });

  it('normalises each channel as (byte / 255 - mean) / std', () => {
    const ds = dataset(1, 1, 2, 3);
    ds.images.set([0, 128, 255, 10, 20, 30]);
    const [b] = collect(epochBatches(ds, { batchSize: 1, normalization: CIFAR10_NORMALIZATION }));
    const { mean, std } = CIFAR10_NORMALIZATION;
    const expected = [0, 128, 255, 10, 20, 30].map((v, i) => (v / 255 - mean[i % 3]!) / std[i % 3]!);
    Array.from(b!.images).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(b!.images[0]).toBeCloseTo(-0.4914 / 0.2471, 5);
  });

  it('is deterministic for a seed, and a restored RNG state continues identically', () => {
    const ds = dataset(37);
    const opts = { batchSize: 8, normalization: CIFAR10_NORMALIZATION, shuffle: true, augment: true } as const;
    const run = (rng: SeededRng, epochs: number): Batch[][] => Array.from({ length: epochs }, () => collect(epochBatches(ds, { ...opts, rng })));
    const a = run(new SeededRng(5), 3);
    expect(run(new SeededRng(5), 3)).toEqual(a);
    expect(run(new SeededRng(6), 1)[0]![0]!.indices).not.toEqual(a[0]![0]!.indices);
    expect(a[1]![0]!.indices).not.toEqual(a[0]![0]!.indices);
    // Stop after epoch 0, save the state, resume in a "new process".
    const first = new SeededRng(5);
    run(first, 1);
    const saved = JSON.parse(JSON.stringify(first.getState())) as number[];
    const resumed = new SeededRng(0);
    resumed.setState(saved);
    expect(run(resumed, 2)).toEqual(a.slice(1));
  });

  it('resumes mid-epoch with startBatch from the state saved before the epoch', () => {
    const ds = dataset(30);
    const rng = new SeededRng(9);
    const before = rng.getState();
    const full = collect(epochBatches(ds, { batchSize: 7, normalization: CIFAR10_NORMALIZATION, shuffle: true, augment: true, rng }));
    const after = rng.getState();
    const again = new SeededRng(0);
    again.setState(before);
    const tail = epochBatches(ds, { batchSize: 7, normalization: CIFAR10_NORMALIZATION, shuffle: true, augment: true, rng: again, startBatch: 3 });
    expect(tail.batchCount).toBe(2);
    expect(collect(tail)).toEqual(full.slice(3));
    // All draws happen when the epoch is planned, so the state afterwards is the same either way.
    expect(again.getState()).toEqual(after);
  });

  it('leaves images untouched without augmentation and uses only the given indices', () => {
    const ds = dataset(6, 2, 2, 1);
    const [b] = collect(epochBatches(ds, { batchSize: 3, normalization: IDENTITY_NORM(1), indices: [5, 0, 2] }));
    expect(Array.from(b!.indices)).toEqual([5, 0, 2]);
    const expected = [5, 0, 2].flatMap((i) => Array.from(ds.images.subarray(i * 4, i * 4 + 4)));
    Array.from(b!.images).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
  });

  it('rejects bad options, naming them', () => {
    const ds = dataset(4);
    const norm = CIFAR10_NORMALIZATION;
    expect(() => epochBatches(ds, { batchSize: 0, normalization: norm })).toThrow(/^batchSize: expected a whole number >= 1, got 0\.$/);
    expect(() => epochBatches(ds, { batchSize: 2, normalization: norm, shuffle: true })).toThrow(/^rng: expected a SeededRng when shuffle is on, got undefined\.$/);
    expect(() => epochBatches(ds, { batchSize: 2, normalization: { mean: [0], std: [1] } })).toThrow(/^normalization: expected 3 mean and std values, got 1 and 1\.$/);
    expect(() => epochBatches(ds, { batchSize: 2, normalization: { mean: [0, 0, 0], std: [1, 0, 1] } })).toThrow(/^normalization\.std\[1\]: expected a number > 0, got 0\.$/);
    expect(() => epochBatches(ds, { batchSize: 2, normalization: norm, indices: [0, 4] })).toThrow(/^indices\[1\]: expected a whole number from 0 to 3, got 4\.$/);
    expect(() => epochBatches(ds, { batchSize: 2, normalization: norm, startBatch: 3 })).toThrow(/^startBatch: expected a whole number from 0 to 2, got 3\.$/);
  });
});

describe('augmentation (random crop with 4-pixel zero padding, horizontal flip)', () => {
  // A 1-channel 4x5 image with pixel value 10 * y + x + 1, so 0 can only be padding.
  const H = 4;
  const W = 5;
  const img = Uint8Array.from({ length: H * W }, (_, i) => 10 * Math.floor(i / W) + (i % W) + 1);
  const apply = (t: { offsetY: number; offsetX: number; flip: boolean }): number[] => {
    const out = new Float32Array(H * W);
    writeImage(img, 0, H, W, 1, normalizationTables(IDENTITY_NORM(1)), out, 0, t);
    return Array.from(out, (v) => Math.round(v));
  };

  it('flips horizontally', () => {
    expect(apply({ offsetY: 0, offsetX: 0, flip: true })).toEqual([5, 4, 3, 2, 1, 15, 14, 13, 12, 11, 25, 24, 23, 22, 21, 35, 34, 33, 32, 31]);
  });

  it('crops from the zero-padded image', () => {
    // Crop window starting 1 row above and 2 columns left of the image: the top row and the first two columns are padding.
    expect(apply({ offsetY: -1, offsetX: -2, flip: false })).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 11, 12, 13, 0, 0, 21, 22, 23]);
    // Crop then flip (torchvision's order): the padding ends up on the right.
    expect(apply({ offsetY: 2, offsetX: -2, flip: true })).toEqual([23, 22, 21, 0, 0, 33, 32, 31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('pads with the normalised black value, not 0.0', () => {
    const ds: Uint8Dataset = { images: new Uint8Array(2 * 2 * 3).fill(255), labels: new Uint8Array(1), count: 1, height: 2, width: 2, channels: 3, classNames: ['a'] };
    const out = new Float32Array(12);
    writeImage(ds.images, 0, 2, 2, 3, normalizationTables(CIFAR10_NORMALIZATION), out, 0, { offsetY: -1, offsetX: 0, flip: false });
    expect(out[0]).toBeCloseTo(-0.4914 / 0.2471, 5);
    expect(out[6]).toBeCloseTo((1 - 0.4914) / 0.2471, 5);
  });

  it('draws offsets in [-4, 4] uniformly and flips half of the images', () => {
    const counts = new Map<number, number>();
    let flips = 0;
    const n = 9000;
    for (let p = 0; p < n; p++) {
      const t = sampleTransform(123, p, DEFAULT_AUGMENT);
      counts.set(t.offsetY, (counts.get(t.offsetY) ?? 0) + 1);
      counts.set(100 + t.offsetX, (counts.get(100 + t.offsetX) ?? 0) + 1);
      if (t.flip) flips++;
    }
    for (let o = -4; o <= 4; o++) {
      expect(Math.abs(counts.get(o)! - n / 9)).toBeLessThan(150);
      expect(Math.abs(counts.get(100 + o)! - n / 9)).toBeLessThan(150);
    }
    expect(counts.size).toBe(18);
    expect(Math.abs(flips - n / 2)).toBeLessThan(250);
    expect(sampleTransform(123, 0, { pad: 0, flip: false })).toEqual({ offsetY: 0, offsetX: 0, flip: false });
  });

  it('augmented batches keep shape and pixel statistics of a constant image', () => {
    const ds = dataset(16);
    ds.images.fill(255);
    const rng = new SeededRng(2);
    const [b] = collect(epochBatches(ds, { batchSize: 16, normalization: IDENTITY_NORM(3), augment: true, rng }));
    expect(b!.shape).toEqual([16, 8, 8, 3]);
    const values = new Set(Array.from(b!.images, (v) => Math.round(v)));
    // Only the image's value and the black padding can appear, and padding does appear.
    expect([...values].sort((x, y) => x - y)).toEqual([0, 255]);
  });
});

describe('computeNormalization', () => {
  it('measures per-channel mean and population std in [0, 1]', () => {
    const ds = dataset(2, 1, 1, 2);
    ds.images.set([0, 255, 255, 255]);
    const { mean, std } = computeNormalization(ds);
    expect(mean).toEqual([0.5, 1]);
    expect(std).toEqual([0.5, 0]);
    expect(computeNormalization(ds, [1]).mean).toEqual([1, 1]);
  });
});
