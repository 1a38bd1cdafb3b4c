/**
 * @module runtime/core/compose-full
 * Every stage of a model in one plain graph whose outputs are all the exits' logits, like an
 * exporter's `full.onnx`: no exit decisions, no compaction. The baseline early exit is measured
 * against (`bench:runtime`) when a model directory has no `full.onnx`, as the bundled one has not.
 */
import type { Manifest } from '../../manifest/index.js';
import { valueInfo } from '../../onnx/index.js';
import { Fusion } from './fuse-context.js';
import { sampleDims } from './model-input.js';
import { IMAGE_KEY } from './stage-plan.js';

/** The composed graph's bytes and its outputs (exit k's logits at index k-1). */
export interface ComposedGraph {
  bytes: Uint8Array;
  logits: string[];
}

/** Composes `manifest`'s stages (`stageBytes[k-1]` is stage k's ONNX file) into one graph. */
export function composeFullGraph(manifest: Manifest, stageBytes: readonly Uint8Array[]): ComposedGraph {
  // The criterion only matters for exit decisions, which this graph has none of.
  const f = new Fusion(manifest, stageBytes, 'max-softmax');
  const logits: string[] = [];
  let live = new Map([[IMAGE_KEY, f.image]]);
  for (let k = 1; k <= f.K; k++) {
    const stage = f.inlineStage(k, f.main, live);
    logits.push(stage.logits);
    live = stage.carry;
  }
  f.main.graph.input = [valueInfo(f.image, manifest.input.dtype, ['batch', ...sampleDims(manifest)])];
  f.main.graph.output = logits.map((l) => f.logitsInfo(l, 'batch'));
  return { bytes: f.encode(), logits };
}
