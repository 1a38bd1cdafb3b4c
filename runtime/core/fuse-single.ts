/**
 * @module runtime/core/fuse-single
 * The single form of the fused graph, for one-sample calls: no compaction at all; each exit is
 * the decision and an `If` whose branch reads the enclosing scope's tensors in place.
 */
import { valueInfo, type OnnxValueInfo } from '../../onnx/index.js';
import { FUSED_CAPS, FUSED_THRESHOLDS, type Fusion, type Scope } from './fuse-context.js';
import { IMAGE_KEY } from './stage-plan.js';

/** Writes the single form into `f`'s main graph; returns the outputs holding the exit's logits and its number. */
export function writeSingleForm(f: Fusion): { logits: string; exit: string } {
  const { K, main } = f;
  const info = ([l, e]: [string, string]): OnnxValueInfo[] => [f.logitsInfo(l, 1), valueInfo(e, 'int64', [1])];

  /** Writes stage k and everything after it into `s`; returns the names of the exit's logits and number. */
  const build = (k: number, s: Scope, live: Map<string, string>): [string, string] => {
    const { logits, carry } = f.inlineStage(k, s, live);
    if (k === K) return [s === main ? logits : s.one('Identity', [logits]), s.one('Identity', [f.int64([k], [1])])];
    const leaves = f.leavesAt(k, s, logits, FUSED_THRESHOLDS, FUSED_CAPS);
    const here = f.scope(`exit_${k}`);
    here.graph.output = info([here.one('Identity', [logits]), here.one('Identity', [f.int64([k], [1])])]);
    const next = f.scope(`stages_after_${k}`);
    next.graph.output = info(build(k + 1, next, carry));
    const [l, e] = s.op('If', [leaves], { then_branch: here.graph, else_branch: next.graph }, 2);
    return [l!, e!];
  };

  f.setInputs(1);
  const [logits, exit] = build(1, main, new Map([[IMAGE_KEY, f.image]]));
  main.graph.output = info([logits, exit]);
  return { logits, exit };
}
