/**
 * @module runtime/core/model-files
 * Reading a model's files from a base URL (fetch) and its manifest from any file reader: shared
 * by runtime/node (URLs) and runtime/web (URLs, or directories in Node).
 */
// manifest/parse, not manifest/index: browser bundles must not pull in node built-ins.
import { MANIFEST_FILE, parseManifest } from '../../manifest/parse.js';
import type { Manifest } from '../../manifest/schema.js';
import { ModelLoadError } from './errors.js';

/** Reads a file of a model directory (a path relative to the manifest). */
export type ModelFileReader = (file: string) => Promise<Uint8Array>;

/** A reader of files under a base URL, resolved against `relativeTo` when the base is relative. */
export function urlFileReader(base: string, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis), relativeTo?: string): ModelFileReader {
  const root = new URL(base.endsWith('/') ? base : `${base}/`, relativeTo);
  return async (file) => {
    const url = new URL(file, root);
    const res = await fetchImpl(url);
    if (!res.ok) throw new ModelLoadError(`${url.href}: HTTP ${res.status} ${res.statusText}`.trim());
    return new Uint8Array(await res.arrayBuffer());
  };
}

/**
 * Reads and validates manifest.json through `read`.
 * @throws ModelLoadError when it cannot be read or is not JSON; ManifestError when it is invalid.
 */
export async function readManifestWith(read: ModelFileReader, source: string): Promise<Manifest> {
  let text: string;
  try {
    text = new TextDecoder().decode(await read(MANIFEST_FILE));
  } catch (e) {
    throw new ModelLoadError(`${source}: cannot read ${MANIFEST_FILE}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(`${source}/${MANIFEST_FILE}: not valid JSON: ${(e as Error).message}`);
  }
  return parseManifest(json, `${source}/${MANIFEST_FILE}`);
}
