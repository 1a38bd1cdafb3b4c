/**
 * @module runtime/core/fuse-batch
 * The batch form of the fused graph: after exit k it emits the rows that leave (their logits
 * and their positions in the batch), keeps the carried tensors' rows that stay (`Gather` by
 * index), and runs stage k+1 inside an `If` that is skipped when no row stays.
 */
import { valueInfo, type OnnxValueInfo } from '../../onnx/index.js';
import { FUSED_CAPS, FUSED_THRESHOLDS, type Fusion, type Scope } from './fuse-context.js';
import { IMAGE_KEY } from './stage-plan.js';

/** Writes the batch form into `f`'s main graph; returns, per exit (index k-1), its logits and rows outputs. */
export function writeBatchForm(f: Fusion): { logits: string[]; rows: string[] } {
  const { K, main } = f;
  const outInfo = (scopeOut: Array<[string, string]>): OnnxValueInfo[] => scopeOut.flatMap(([l, r]) => [f.logitsInfo(l, 'rows'), valueInfo(r, 'int64', ['rows'])]);

  /**
   * Writes stage k and everything after it into `s`. `live` maps tensor keys to their names in
   * this scope (already reduced to the rows that reach stage k). Returns, per exit k..K, the
   * names (in this scope) of the leaving rows' logits and positions.
   */
  const build = (k: number, s: Scope, live: Map<string, string>, rows: string, thresholds: string, caps: string): Array<[string, string]> => {
    const { logits, carry } = f.inlineStage(k, s, live);
    // A branch's outputs must be its own values; `rows` may come from the enclosing scope.
    if (k === K) return [[logits, s === main ? rows : s.one('Identity', [rows])]];

    const leaves = f.leavesAt(k, s, logits, thresholds, caps);
    const stays = s.one('Not', [leaves]);
    const here: [string, string] = [f.rowsWhere(s, logits, leaves), f.rowsWhere(s, rows, leaves)];
    // Computed out here: the If's condition needs its size.
    const nextRows = f.rowsWhere(s, rows, stays);
    const later = K - k;

    // No row stays: every later exit gets zero rows (gathering an empty index list keeps the types).
    const none = f.scope(`none_after_${k}`);
    none.graph.output = outInfo(Array.from({ length: later }, () => [f.rowsWhere(none, logits, stays), none.one('Identity', [nextRows])]));

    const next = f.scope(`stages_after_${k}`);
    const nextLive = new Map<string, string>();
    // The carried features are by far the largest tensors compacted: gathered by index, because
    // onnxruntime's CPU Gather copies on every intra-op thread and Compress on one (profiled at
    // batch 64: about 30% less kernel time for the compaction).
    const stayIndices = next.one('Squeeze', [next.one('NonZero', [stays]), f.int64([0], [1])]);
    for (const [key, name] of carry) nextLive.set(key, next.one('Gather', [name, stayIndices], { axis: 0 }));
    const nextOut = build(k + 1, next, nextLive, nextRows, f.rowsWhere(next, thresholds, stays), f.rowsWhere(next, caps, stays));
    next.graph.output = outInfo(nextOut);

    const noneLeft = s.one('Equal', [s.one('Size', [nextRows]), f.int64([0], [])]);
    const outs = s.op('If', [noneLeft], { then_branch: none.graph, else_branch: next.graph }, 2 * later);
    return [here, ...Array.from({ length: later }, (_, j): [string, string] => [outs[2 * j]!, outs[2 * j + 1]!])];
  };

  f.setInputs('batch');
  const rows = main.one('Range', [f.int64([0], []), main.one('Gather', [main.one('Shape', [f.image]), f.int64([0], [])], { axis: 0 }), f.int64([1], [])]);
  const exits = build(1, main, new Map([[IMAGE_KEY, f.image]]), rows, FUSED_THRESHOLDS, FUSED_CAPS);
  main.graph.output = exits.flatMap(([l, r], i) => [f.logitsInfo(l, `rows_${i + 1}`), valueInfo(r, 'int64', [`rows_${i + 1}`])]);
  return { logits: exits.map(([l]) => l), rows: exits.map(([, r]) => r) };
}
