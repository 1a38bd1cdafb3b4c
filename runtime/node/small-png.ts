/**
 * @module runtime/node/small-png
 * {@link decodeSmallPng}: a PNG decoder for the common case of an upload already at the model's
 * input size (an 8-bit, non-interlaced grey, grey + alpha, RGB or RGBA image), on Node's native
 * zlib, with no per-call setup.
 *
 * Why not sharp or fast-png: for a 32×32 image sharp's per-call setup (a libvips pipeline on the
 * thread pool) costs about 0.4–0.6 ms, more than the model's share of the image at the default
 * policy, and fast-png inflates in JavaScript (fflate), measured here at 0.24–0.36 ms for the same
 * file against 0.03 ms for node:zlib. Anything else (interlaced, palette, 16-bit, an ICC profile
 * or EXIF block sharp would act on, another size, a CRC or zlib error) returns `undefined`, and
 * the caller decodes with sharp as before, so sharp still decides what is corrupt; the two agree
 * pixel for pixel where this one answers (test/runtime/fast-decode.test.ts).
 */
import { crc32, inflateSync } from 'node:zlib';
import type { Pixels } from '../core/index.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
/** Channels of each 8-bit colour type this decoder takes: grey, RGB, grey + alpha, RGBA. */
const CHANNELS: Record<number, 1 | 2 | 3 | 4 | undefined> = { 0: 1, 2: 3, 4: 2, 6: 4 };
/** Ancillary chunks sharp acts on (colour profile, EXIF orientation) or that make an animation. */
const DEFER_TO_SHARP = new Set(['iCCP', 'eXIf', 'acTL']);

/** Whether `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Decodes `bytes` when they are a plain 8-bit PNG of exactly `width`×`height` pixels; otherwise
 * (or on any error) `undefined`, for sharp to decode.
 */
export function decodeSmallPng(bytes: Uint8Array, width: number, height: number): Pixels | undefined {
  if (!isPng(bytes) || bytes.length < 33) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let channels: 1 | 2 | 3 | 4 | undefined;
  const idat: Uint8Array[] = [];
  let offset = 8;
  let ended = false;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (end > bytes.length) return undefined;
    const type = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) return undefined;
    if (offset === 8) {
      // IHDR first: width, height, bit depth, colour type, compression, filter, interlace.
      if (type !== 'IHDR' || length !== 13) return undefined;
      if (view.getUint32(16) !== width || view.getUint32(20) !== height) return undefined;
      if (body[8] !== 8 || body[10] !== 0 || body[11] !== 0 || body[12] !== 0) return undefined;
      channels = CHANNELS[body[9]!];
      if (!channels) return undefined;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (DEFER_TO_SHARP.has(type) || (type.charCodeAt(0) & 0x20) === 0) {
      // An unknown critical chunk (upper-case first letter) is sharp's to judge too.
      if (type !== 'PLTE') return undefined;
    }
    offset = end;
  }
  if (!ended || !channels || idat.length === 0) return undefined;
  const stride = width * channels;
  let filtered: Uint8Array;
  try {
    filtered = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat));
  } catch {
    return undefined;
  }
  if (filtered.length !== height * (stride + 1)) return undefined;
  const out = new Uint8Array(height * stride);
  if (!unfilter(filtered, out, height, stride, channels)) return undefined;
  return { data: out, width, height, channels };
}

/** Reverses the per-row PNG filters (none, sub, up, average, Paeth) into `out`; false for an unknown filter. */
function unfilter(src: Uint8Array, out: Uint8Array, height: number, stride: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const filter = src[y * (stride + 1)]!;
    const s = y * (stride + 1) + 1;
    const o = y * stride;
    const up = o - stride; // the previous output row; y = 0 reads zeros instead
    switch (filter) {
      case 0:
        out.set(src.subarray(s, s + stride), o);
        break;
      case 1:
        for (let x = 0; x < stride; x++) out[o + x] = src[s + x]! + (x >= bpp ? out[o + x - bpp]! : 0);
        break;
      case 2:
        for (let x = 0; x < stride; x++) out[o + x] = src[s + x]! + (y > 0 ? out[up + x]! : 0);
        break;
      case 3:
        for (let x = 0; x < stride; x++) out[o + x] = src[s + x]! + (((x >= bpp ? out[o + x - bpp]! : 0) + (y > 0 ? out[up + x]! : 0)) >> 1);
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[o + x - bpp]! : 0;
          const b = y > 0 ? out[up + x]! : 0;
          const c = x >= bpp && y > 0 ? out[up + x - bpp]! : 0;
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          out[o + x] = src[s + x]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        return false;
    }
  }
  return true;
}
