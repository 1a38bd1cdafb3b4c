/**
 * @module datasets/idx-format
 * The IDX format of (Fashion-)MNIST: a 4-byte magic (0, 0, type, number of dimensions),
 * big-endian uint32 dimensions, then the values. Only unsigned bytes (type 0x08) are supported.
 */
import { DataFormatError } from './errors.js';

/** The IDX type code of unsigned bytes, the only one (Fashion-)MNIST uses. */
const IDX_UBYTE = 0x08;

/** A decoded IDX array: its dimensions and its values (a view into the file's bytes). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Decodes an IDX file of unsigned bytes.
 * @param expectedRank the number of dimensions required (3 for images, 1 for labels).
 * @throws DataFormatError on a bad magic, another type or rank, or a data size that does not
 *   match the header, naming the byte offset.
 */
export function decodeIdx(bytes: Uint8Array, file: string, expectedRank: number): IdxArray {
  const where = file.endsWith('.gz') ? ' of the uncompressed data' : '';
  if (bytes.length < 4) throw new DataFormatError(file, `truncated header at byte 0${where}: expected at least 4 bytes, got ${bytes.length}.`, { offset: 0 });
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(file, `bad IDX magic at byte 0${where}: expected 00 00, got ${hex(bytes[0]!)} ${hex(bytes[1]!)}. Is this an IDX file?`, { offset: 0 });
  }
  if (bytes[2] !== IDX_UBYTE) {
    throw new DataFormatError(file, `unsupported IDX type at byte 2${where}: expected 0x08 (unsigned byte), got 0x${hex(bytes[2]!)}.`, { offset: 2 });
  }
  const rank = bytes[3]!;
  if (rank !== expectedRank) throw new DataFormatError(file, `wrong IDX rank at byte 3${where}: expected ${expectedRank} dimensions, got ${rank}.`, { offset: 3 });
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(file, `truncated header at byte ${bytes.length}${where}: expected ${headerBytes} header bytes, got ${bytes.length}.`, { offset: bytes.length });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, d) => view.getUint32(4 + 4 * d, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const got = bytes.length - headerBytes;
  if (got !== size) {
    const problem = got < size ? 'truncated data' : 'trailing bytes';
    throw new DataFormatError(file, `${problem} at byte ${headerBytes + Math.min(got, size)}${where}: expected ${size} data bytes for dimensions ${dims.join('x')}, got ${got}.`, { offset: headerBytes + Math.min(got, size) });
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/**
 * Encodes unsigned bytes as an IDX file (for tests and tools that write small datasets).
 * @throws RangeError when `data` does not hold the product of `dims` bytes.
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new RangeError(`encodeIdx: expected ${size} bytes for dimensions ${dims.join('x')}, got ${data.length}.`);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  const view = new DataView(out.buffer);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
