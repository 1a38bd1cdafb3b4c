/**
 * @module runtime/core/stage-plan
 * Which stage reads each tensor for the last time, from the manifest's input roles: the staged
 * engine drops tensors after that stage, and the fused graph stops carrying them there.
 */
import type { Manifest, Stage } from '../../manifest/index.js';

/** Key of the image input in {@link lastUses}. */
export const IMAGE_KEY = 'image:';
/** Key of output `output` of stage `stage` (1-based). */
export const outputKey = (stage: number, output: string): string => `${stage}:${output}`;

/** The key of the tensor a stage input reads, or undefined for inputs the engine makes (row indices). */
export function sourceKey(input: Stage['inputs'][number]): string | undefined {
  const r = input.role;
  if (r.kind === 'image') return IMAGE_KEY;
  if (r.kind === 'carried' || r.kind === 'previous-logits') return outputKey(r.from.stage, r.from.output);
  return undefined;
}

/** Tensor key → the last stage (1-based) that reads it. */
export function lastUses(manifest: Manifest): Map<string, number> {
  const last = new Map<string, number>();
  for (const s of manifest.stages) {
    for (const input of s.inputs) {
      const k = sourceKey(input);
      if (k !== undefined) last.set(k, s.index);
    }
  }
  return last;
}
