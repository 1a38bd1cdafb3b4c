/**
 * @module runtime/core/model-files
 * A model's files: reading them from a base URL (fetch), its manifest from any file reader, and
 * its stage graphs checked against the manifest's SHA-256 and loaded into backend sessions.
 * Shared by runtime/node (URLs) and runtime/web (URLs, or directories in Node); no node
 * built-ins (hashes use WebCrypto).
 */
// manifest/parse, not manifest/index: browser bundles must not pull in node built-ins.
import { MANIFEST_FILE, parseManifest } from '../../manifest/parse.js';
import type { Manifest } from '../../manifest/schema.js';
import type { StageBackend, StageSession } from './backend.js';
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
    throw new ModelLoadError(`${source}: cannot read ${MANIFEST_FILE}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(`${source}/${MANIFEST_FILE}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseManifest(json, `${source}/${MANIFEST_FILE}`);
}

/** SHA-256 of `bytes` as lowercase hex, with WebCrypto. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new ModelLoadError('SHA-256 verification needs WebCrypto (globalThis.crypto.subtle); pass verify: false to skip it.');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** The stage graphs loaded: one session per stage, and the bytes when asked to keep them. */
export interface LoadedStages {
  sessions: StageSession[];
  /** `bytes[k-1]`: stage k's ONNX file (empty when not kept). */
  bytes: Uint8Array[];
}

/**
 * Reads every stage graph of `manifest` through `read`, checks its SHA-256 (when `verify`) and
 * loads it into a `backend` session. On failure, the sessions already made are released.
 * @throws ModelLoadError naming the file when a stage file cannot be read, its SHA-256 differs
 *   from the manifest's, or the backend cannot load it (the original error as `cause`).
 */
export async function loadStageGraphs(manifest: Manifest, read: ModelFileReader, backend: StageBackend, options: { verify: boolean; keepBytes: boolean }): Promise<LoadedStages> {
  const sessions: StageSession[] = [];
  const bytes: Uint8Array[] = [];
  try {
    for (const stage of manifest.stages) {
      let file: Uint8Array;
      try {
        file = await read(stage.file);
      } catch (e) {
        throw new ModelLoadError(`${stage.file}: cannot read stage ${stage.index}'s graph: ${(e as Error).message}`, { cause: e });
      }
      if (options.verify) {
        const got = await sha256Hex(file);
        if (got !== stage.sha256) {
          throw new ModelLoadError(`${stage.file}: SHA-256 mismatch: the manifest expects ${stage.sha256}, the file has ${got} (the file is corrupt or belongs to another export).`);
        }
      }
      if (options.keepBytes) bytes.push(file);
      try {
        sessions.push(await backend.createSession(file, stage));
      } catch (e) {
        throw new ModelLoadError(`${stage.file}: cannot load stage ${stage.index}'s graph: ${(e as Error).message}`, { cause: e });
      }
    }
  } catch (e) {
    await Promise.all(sessions.map((s) => s.release()));
    throw e;
  }
  return { sessions, bytes };
}
