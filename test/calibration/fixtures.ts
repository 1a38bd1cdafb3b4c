/**
 * @module test/calibration/fixtures
 * Test helpers for the calibration math (also used by the trainer's eval tests): a seeded
 * generator and constructed exit scores/outputs with known structure.
 */
import type { ExitOutputs, ExitScores } from '../../calibration/index.js';

/** Mulberry32: small, seeded, good enough for constructing test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Scores from explicit per-exit confidences; every prediction is class 0 and every label 0 unless given. */
export function scoresFrom(confidences: number[][], opts: { predictions?: number[][]; labels?: number[] } = {}): ExitScores {
  const count = confidences[0]!.length;
  return {
    numExits: confidences.length,
    count,
    criterion: 'max-softmax',
    confidences: confidences.map((c) => Float32Array.from(c)),
    predictions: confidences.map((_, k) => Int32Array.from(opts.predictions?.[k] ?? new Array<number>(count).fill(0))),
    labels: Int32Array.from(opts.labels ?? new Array<number>(count).fill(0)),
  };
}

/**
 * Random scores where exit k (0-based) is right with probability `accuracy[k]`, and right
 * answers are more confident than wrong ones, as in a trained network.
 */
export function randomScores(count: number, accuracy: readonly number[], seed: number): ExitScores {
  const r = rng(seed);
  const labels = Int32Array.from({ length: count }, () => Math.floor(r() * 10));
  const confidences: Float32Array[] = [];
  const predictions: Int32Array[] = [];
  for (const acc of accuracy) {
    const c = new Float32Array(count);
    const pred = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const right = r() < acc;
      pred[i] = right ? labels[i]! : (labels[i]! + 1) % 10;
      c[i] = right ? 0.35 + 0.65 * r() : 0.1 + 0.5 * r();
    }
    confidences.push(c);
    predictions.push(pred);
  }
  return { numExits: accuracy.length, count, criterion: 'max-softmax', confidences, predictions, labels };
}

/** Random logits for `numExits` exits whose argmax is right more often at deeper exits. */
export function randomOutputs(count: number, numExits: number, numClasses: number, seed: number): ExitOutputs {
  const r = rng(seed);
  const labels = Int32Array.from({ length: count }, () => Math.floor(r() * numClasses));
  const logits = Array.from({ length: numExits }, (_, k) => {
    const z = new Float32Array(count * numClasses);
    for (let i = 0; i < count; i++) {
      for (let c = 0; c < numClasses; c++) z[i * numClasses + c] = 2 * r();
      z[i * numClasses + labels[i]!]! += (1 + k) * r();
    }
    return z;
  });
  return { numExits, numClasses, count, logits, labels };
}
