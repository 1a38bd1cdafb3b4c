/**
 * @module manifest/parse
 * Reading manifests: {@link parseManifest} validates parsed JSON against the contract and
 * {@link readManifest} loads `manifest.json` from a model directory. Every failure is a
 * {@link ManifestError}. Depends on zod and node built-ins only; must never import from
 * training/, export/ or runtime/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/**
 * Reads and validates `<dir>/manifest.json`.
 *
 * @throws {@link ManifestError} naming the file when it is missing, unreadable, not JSON, or not
 * a valid manifest.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'ENOTDIR' ? `${dir} is not a directory` : code === 'EISDIR' ? 'is a directory' : (cause as Error).message;
    throw new ManifestError(`Cannot read manifest ${file}: ${why}.`, { source: file, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ManifestError(`Manifest ${file} is not valid JSON: ${(cause as Error).message}`, { source: file, cause });
  }
  return parseManifest(json, file);
}
