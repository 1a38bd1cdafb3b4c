/**
 * @module manifest/parse
 * {@link parseManifest} validates parsed JSON against the contract; every failure is a
 * {@link ManifestError}. Depends on zod only (browsers use it too); must never import from
 * training/, export/ or runtime/.
 */
import { ManifestError, formatJsonPath, type ManifestIssue } from './errors.js';
import { ManifestSchema, checkSchemaVersion, type Manifest } from './schema.js';

/** The manifest's file name inside a model directory. */
export const MANIFEST_FILE = 'manifest.json';

/**
 * Validates `json` (already parsed) as a manifest and returns it typed (keys unknown to this
 * version dropped). A `schemaVersion` with a different MAJOR version is rejected before anything
 * else, since the rest of such a document follows other rules.
 *
 * @param source - where the JSON came from (a path), named in errors.
 * @throws {@link ManifestError} listing every problem as a `<json.path>: <message>` line.
 */
export function parseManifest(json: unknown, source?: string): Manifest {
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const version = (json as { schemaVersion?: unknown }).schemaVersion;
    const problem = typeof version === 'string' ? checkSchemaVersion(version) : undefined;
    if (problem) throw ManifestError.fromIssues([{ path: formatJsonPath(['schemaVersion']), message: problem }], source);
  }
  const result = ManifestSchema.safeParse(json);
  if (result.success) return result.data;
  const issues: ManifestIssue[] = result.error.issues.map((i) => ({ path: formatJsonPath(i.path), message: i.message }));
  throw ManifestError.fromIssues(issues, source);
}
