/**
 * @module manifest/json-schema
 * The JSON Schema (draft 2020-12) of `manifest.json`, generated from {@link ManifestSchema} for
 * editors and non-TypeScript consumers. It carries the structure only: the cross-field rules
 * (stage order, cost sums, stage wiring, per-exit lengths, class/channel counts) are enforced by
 * {@link parseManifest} alone. Depends on zod only; must never import from training/, export/
 * or runtime/.
 */
import { z } from 'zod';
import { MANIFEST_SCHEMA_VERSION, ManifestSchema } from './schema.js';

/** Where the generated schema is committed, relative to the repository root. */
export const MANIFEST_JSON_SCHEMA_FILE = 'docs/manifest.schema.json';

/**
 * The JSON Schema of the manifest (the input side: optional keys may be absent, unknown keys are
 * allowed so later minor versions still validate). Returns a fresh object on every call.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ManifestSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: `adaptive-exit manifest ${MANIFEST_SCHEMA_VERSION}`,
    description:
      'manifest.json of an exported multi-exit model: one ONNX graph per stage (exit), how they feed each other, ' +
      'preprocessing, exit policy and calibration. Costs in MFLOPs per sample, accuracies in percent. ' +
      'This schema covers structure only; the cross-field rules (stage indices 1..K in order, cumulative costs equal ' +
      'to running sums, threshold/accuracy arrays of length K, carried/previous-logits inputs naming an earlier ' +
      'stage output with the same dims, one logits output per stage, logits width = classNames length, ' +
      'mean/std length = channels, and the major schemaVersion) are checked by parseManifest in manifest/parse.ts.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
