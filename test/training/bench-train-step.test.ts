/**
 * @module test/training/bench-train-step
 * benchTrainStep times at least `iters` steps and at least `minSeconds`, after its warm-up, and
 * leaves no tensor behind.
 */
import { describe, expect, it } from 'vitest';
import { tf } from '../../training/backend/tf.js';
import { benchTrainStep } from '../../training/bench-train-step.js';
import { useBackend } from '../helpers/backends.js';
import { TINY_MSDNET } from '../helpers/tiny-model.js';

describe('benchTrainStep', () => {
  it('times whole steps, at least the asked count and duration', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const quick = await benchTrainStep({ batchSize: 4, warmup: 1, iters: 2, minSeconds: 0, msdnet: TINY_MSDNET });
    expect(quick.msPerStep).toBeGreaterThan(0);
    expect(quick.imagesPerSecond).toBeCloseTo((4 * 1000) / quick.msPerStep, 6);
    // With a minimum duration of several steps' time, more steps run and the mean stays a step's.
    const started = performance.now();
    const long = await benchTrainStep({ batchSize: 4, warmup: 1, iters: 1, minSeconds: (5 * quick.msPerStep) / 1000, msdnet: TINY_MSDNET });
    expect(performance.now() - started).toBeGreaterThanOrEqual(5 * quick.msPerStep);
    expect(long.msPerStep).toBeLessThan(5 * quick.msPerStep);
    expect(tf.memory().numTensors).toBe(before);
  });
});
