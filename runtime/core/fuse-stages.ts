/**
 * @module runtime/core/fuse-stages
 * Composes a model's stage graphs into one ONNX graph that makes the exit decisions itself.
 *
 * Why: every session run has a fixed cost (binding the feeds, planning memory, copying each
 * output into a JavaScript buffer) that a small stage does not amortise. Run stage by stage, a
 * 6-exit CIFAR model spent ~35% more than its full graph at batch 1 and the engine's row
 * compaction copied every carried tensor once more in JavaScript. The fused graph runs in one
 * call: after exit k it computes each row's confidence (the manifest's criterion, in float64 as
 * `manifest/confidence.ts` does, rounded to float32 as it does, so decisions match the staged
 * engine's), emits the rows that leave (their logits and their positions in the batch), keeps
 * the carried tensors' rows that stay (`Gather` by index), and runs stage k+1 inside an `If` that
 * is skipped when no row stays. Stage k+1's nodes are the exported stage graph's own nodes,
 * renamed into that scope.
 *
 * One-sample calls run a second form ('single') with no compaction at all: each exit is the
 * decision and an `If` whose branch reads the enclosing scope's tensors in place. The forms are
 * written by ./fuse-batch.ts and ./fuse-single.ts with the parts in ./fuse-context.ts.
 *
 * Inputs: the image batch, per-row thresholds `[n, K]` (float32, each the smallest float32 at or
 * above the JavaScript threshold: see {@link float32Threshold}) and per-row exit caps `[n]`
 * (int64, 1-based last exit). Outputs, batch form: per exit k, the logits of the rows leaving
 * there and their int64 batch positions; single form: the logits of the exit taken and its number.
 */
import type { ExitCriterion, Manifest } from '../../manifest/index.js';
import { writeBatchForm } from './fuse-batch.js';
import { Fusion } from './fuse-context.js';
import { writeSingleForm } from './fuse-single.js';

/**
 * The threshold to feed the fused graph for JavaScript threshold `t`: the smallest float32 at or
 * above it. Confidences are float32 values, so for every confidence c, `c >= t` exactly when
 * `c >= float32Threshold(t)`; the graph compares in float32 without a cast per exit.
 */
export function float32Threshold(t: number): number {
  const f = Math.fround(t);
  if (f >= t || Number.isNaN(t)) return f;
  // Math.fround rounded down: step to the next float32 up.
  if (f === -Infinity) return -F32_MAX;
  if (f === 0) return F32_MIN_SUBNORMAL;
  F32_VIEW.setFloat32(0, f);
  F32_VIEW.setInt32(0, F32_VIEW.getInt32(0) + (f > 0 ? 1 : -1));
  return F32_VIEW.getFloat32(0);
}
const F32_MAX = 3.4028234663852886e38;
const F32_MIN_SUBNORMAL = 1.401298464324817e-45;
const F32_VIEW = new DataView(new ArrayBuffer(4));

export { FUSED_CAPS, FUSED_THRESHOLDS } from './fuse-context.js';

/**
 * The fused graph's two forms: 'batch' compacts the rows that stay after every exit; 'single'
 * takes exactly one row, so nothing is compacted and an exit is one `If` (it runs batch-1 calls).
 */
export type FusedForm = 'batch' | 'single';

interface FusedGraphBase {
  bytes: Uint8Array;
  criterion: ExitCriterion;
}
/** The batch form's outputs. */
export interface BatchFusedGraph extends FusedGraphBase {
  form: 'batch';
  /** Per exit (index k-1): the output holding the logits of the rows that leave at exit k. */
  logits: string[];
  /** Per exit: the output holding those rows' positions in the input batch (int64). */
  rows: string[];
}
/** The single form's outputs. */
export interface SingleFusedGraph extends FusedGraphBase {
  form: 'single';
  /** The output holding the logits `[1, N]` of the exit taken. */
  logits: string;
  /** The output holding the exit taken (int64 `[1]`, 1-based). */
  exit: string;
}
/** What {@link fuseStageGraphs} returns. */
export type FusedGraph = BatchFusedGraph | SingleFusedGraph;

/**
 * The fused early-exit graph of `manifest`'s stages (`stageBytes[k-1]` is stage k's ONNX file).
 * @throws Error when the stage graphs use something the fusion does not handle (row-index
 *   inputs, an opset outside 13–17, fewer than two classes, names the manifest does not list);
 *   the engine then runs stage by stage.
 */
export function fuseStageGraphs(manifest: Manifest, stageBytes: readonly Uint8Array[], criterion: ExitCriterion, form?: 'batch'): BatchFusedGraph;
export function fuseStageGraphs(manifest: Manifest, stageBytes: readonly Uint8Array[], criterion: ExitCriterion, form: 'single'): SingleFusedGraph;
export function fuseStageGraphs(manifest: Manifest, stageBytes: readonly Uint8Array[], criterion: ExitCriterion, form: FusedForm = 'batch'): FusedGraph {
  const fusion = new Fusion(manifest, stageBytes, criterion);
  if (form === 'single') {
    const outputs = writeSingleForm(fusion);
    return { form, bytes: fusion.encode(), criterion, ...outputs };
  }
  const outputs = writeBatchForm(fusion);
  return { form: 'batch', bytes: fusion.encode(), criterion, ...outputs };
}
