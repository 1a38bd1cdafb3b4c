/**
 * @module datasets/read-bytes
 * Finds a data file (plain or `.gz`) and reads it whole, gunzipping when it is gzip data.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataFormatError } from './errors.js';

/** Reads a file, or returns undefined when it does not exist (any other failure throws). */
async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataFormatError(path, `cannot read the file (${(err as Error).message}).`, { cause: err });
  }
}

/**
 * Gunzips `raw` if it starts with the gzip magic bytes. The magic is checked rather than the
 * extension so a renamed file still reads; no raw CIFAR or IDX file can start with 0x1f 0x8b
 * (CIFAR labels are below 100, IDX files start with two zero bytes).
 */
function maybeGunzip(path: string, raw: Buffer): Uint8Array {
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  try {
    const out = gunzipSync(raw);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (err) {
    throw new DataFormatError(path, `not valid gzip data (${(err as Error).message}).`, { cause: err });
  }
}

/**
 * Reads `path` into memory, gunzipped when it is gzip data.
 * @throws DataFormatError when the file is missing, unreadable or not valid gzip.
 */
export async function readDataFile(path: string): Promise<Uint8Array> {
  const raw = await readIfExists(path);
  if (!raw) throw new DataFormatError(path, 'file not found.');
  return maybeGunzip(path, raw);
}

/**
 * Reads the first of `names` found in `dir`, trying each name as given and with `.gz` appended.
 * @returns the bytes (uncompressed) and the path that was read, for error messages.
 * @throws DataFormatError naming every file tried when none exists.
 */
export async function readFirstDataFile(dir: string, names: readonly string[]): Promise<{ bytes: Uint8Array; path: string }> {
  const tried: string[] = [];
  for (const name of names) {
    for (const candidate of [name, `${name}.gz`]) {
      const path = join(dir, candidate);
      tried.push(candidate);
      const raw = await readIfExists(path);
      if (raw) return { bytes: maybeGunzip(path, raw), path };
    }
  }
  throw new DataFormatError(join(dir, names[0] ?? ''), `file not found (looked in ${dir} for ${tried.join(', ')}).`);
}
