/**
 * @module manifest/read-manifest
 * {@link readManifest}: loads and validates `manifest.json` from a model directory (Node).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManifestError } from './errors.js';
import { MANIFEST_FILE, parseManifest } from './parse.js';
import type { Manifest } from './schema.js';

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
