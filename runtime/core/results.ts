/**
 * @module runtime/core/results
 * What a classification returns, and how one row's logits become it (class, confidence, top-k):
 * shared by the staged loop and the fused runner so both format results the same way.
 */
import type { Manifest } from '../../manifest/index.js';
import { argmaxRow, rowConfidence } from '../../manifest/confidence.js';

export interface TopKEntry {
  classIndex: number;
  label: string;
  probability: number;
}

/** The classification of one sample. */
export interface ClassifyResult {
  /** Predicted class (argmax of the exit's logits). */
  classIndex: number;
  label: string;
  /** The exit criterion's confidence at the exit taken. */
  confidence: number;
  /** The most probable classes at the exit taken, most probable first. */
  topK: TopKEntry[];
  /** The exit taken, 1-based. */
  exit: number;
  /** Cumulative MFLOPs per sample of stages 1..exit. */
  mflops: number;
  /** The exit's logits for this sample (one per class): what protocol servers return as the raw output. */
  logits: Float32Array;
  /**
   * Wall time (ms) of each stage call this sample ran through (the whole call, shared by its
   * rows): one entry per stage when run stage by stage; one entry, the fused graph's call, when
   * the batch ran fused (see `EarlyExitEngine.execution`).
   */
  stageMs: number[];
}

/** One sample's prediction at one exit, as `EarlyExitEngine.stream` yields it. */
export interface ExitPrediction extends ClassifyResult {
  /** The sample's position in the input batch. */
  index: number;
  /** True when the sample leaves at this exit (its classify result); false when it runs on. */
  final: boolean;
}

/** What `EarlyExitEngine.stream` yields after each stage. */
export interface StageEvent {
  /** The exit (stage) just computed, 1-based. */
  exit: number;
  /** Wall time of the stage call, ms. */
  stageMs: number;
  /** Every sample that ran this stage, in input order: those leaving (`final`) and those running on. */
  predictions: ExitPrediction[];
  /** The exit's logits, `predictions.length × classes`, row i belonging to predictions[i]. */
  logits: Float32Array;
}

/** One row's result at exit `exit` (1-based) from its logits and probabilities at `off`. */
export function prediction(logits: Float32Array, probs: Float32Array, off: number, exit: number, manifest: Manifest, topK: number, stageMs: number[]): ClassifyResult {
  const { classNames, exitPolicy } = manifest;
  const N = classNames.length;
  const classIndex = argmaxRow(logits, off, N);
  return {
    classIndex,
    label: classNames[classIndex]!,
    confidence: rowConfidence(probs, off, N, exitPolicy.criterion),
    topK: topKEntries(logits, probs, off, N, topK, classNames),
    exit,
    mflops: manifest.stages[exit - 1]!.cumulativeMflops,
    logits: logits.slice(off, off + N),
    stageMs,
  };
}

/** Top-k classes ordered by logits (consistent with the argmax prediction), with probabilities. */
function topKEntries(logits: Float32Array, probs: Float32Array, off: number, N: number, k: number, names: readonly string[]): TopKEntry[] {
  if (k === 0) return [];
  const idx = Array.from({ length: N }, (_, c) => c);
  idx.sort((a, b) => logits[off + b]! - logits[off + a]! || a - b);
  return idx.slice(0, Math.min(k, N)).map((c) => ({ classIndex: c, label: names[c]!, probability: probs[off + c]! }));
}
