/**
 * @module datasets/cifar-format
 * The CIFAR binary record format, both ways: label byte(s) then a 32x32 image stored as
 * planar R, G, B (CHW). Decoding converts to NHWC; encoding converts back.
 */
import type { Uint8Dataset } from './dataset.js';
import { DataFormatError } from './errors.js';

/** CIFAR images are always 32x32 RGB. */
export const CIFAR_IMAGE_SIZE = 32;
const PLANE = CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE;
const IMAGE_BYTES = 3 * PLANE;

/** How the label bytes of one record are laid out. */
export interface CifarLabelLayout {
  /** One bound per label byte: each byte must be below its bound (CIFAR-100: coarse < 20, fine < 100). */
  labelLimits: readonly number[];
  /** Which label byte is the class label returned (CIFAR-100: 1, the fine label). */
  labelIndex: number;
}

/** CIFAR-10: one label byte, 10 classes. */
export const CIFAR10_LAYOUT: CifarLabelLayout = Object.freeze({ labelLimits: Object.freeze([10]), labelIndex: 0 });
/** CIFAR-100: coarse (20 superclasses) then fine (100 classes); the fine label is used. */
export const CIFAR100_LAYOUT: CifarLabelLayout = Object.freeze({ labelLimits: Object.freeze([20, 100]), labelIndex: 1 });

/** Bytes in one record of `layout`: 3073 for CIFAR-10, 3074 for CIFAR-100. */
export function cifarRecordBytes(layout: CifarLabelLayout): number {
  return layout.labelLimits.length + IMAGE_BYTES;
}

/**
 * Decodes a whole CIFAR binary file.
 * @param bytes the uncompressed file contents.
 * @param file the file's path, used in error messages.
 * @throws DataFormatError on an empty file, a truncated last record, or a label out of range,
 *   naming the byte offset (within the uncompressed data).
 */
export function decodeCifarRecords(bytes: Uint8Array, file: string, layout: CifarLabelLayout, classNames: string[]): Uint8Dataset {
  const recordBytes = cifarRecordBytes(layout);
  const labelBytes = layout.labelLimits.length;
  const where = file.endsWith('.gz') ? ' of the uncompressed data' : '';
  if (bytes.length === 0) throw new DataFormatError(file, `no records: expected a multiple of ${recordBytes} bytes, got 0.`, { offset: 0 });
  const count = Math.floor(bytes.length / recordBytes);
  const remaining = bytes.length - count * recordBytes;
  if (remaining !== 0) {
    // A file whose size is not a multiple of the record size is truncated or of another format
    // (a CIFAR-100 file read as CIFAR-10 fails here on its first records' labels or its size).
    throw new DataFormatError(file, `truncated record at byte ${count * recordBytes}${where}: expected ${recordBytes} bytes per record, got ${remaining} remaining.`, { offset: count * recordBytes });
  }
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const rec = i * recordBytes;
    for (let b = 0; b < labelBytes; b++) {
      const value = bytes[rec + b]!;
      const limit = layout.labelLimits[b]!;
      if (value >= limit) {
        throw new DataFormatError(file, `label out of range at byte ${rec + b}${where} (record ${i}): expected a value below ${limit}, got ${value}.`, { offset: rec + b });
      }
    }
    labels[i] = bytes[rec + layout.labelIndex]!;
    const src = rec + labelBytes;
    const dst = i * IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++) {
      images[dst + 3 * p] = bytes[src + p]!;
      images[dst + 3 * p + 1] = bytes[src + PLANE + p]!;
      images[dst + 3 * p + 2] = bytes[src + 2 * PLANE + p]!;
    }
  }
  return { images, labels, count, height: CIFAR_IMAGE_SIZE, width: CIFAR_IMAGE_SIZE, channels: 3, classNames };
}

/**
 * Encodes 32x32x3 NHWC images as CIFAR binary records.
 * @param coarseLabels when given, each record gets two label bytes (coarse, then the dataset's
 *   label as the fine one): the CIFAR-100 layout. Otherwise one byte: CIFAR-10.
 * @throws RangeError when the images are not 32x32x3 or coarseLabels has the wrong length.
 */
export function encodeCifarRecords(dataset: Uint8Dataset, coarseLabels?: Uint8Array): Uint8Array {
  const { count, height, width, channels } = dataset;
  if (height !== CIFAR_IMAGE_SIZE || width !== CIFAR_IMAGE_SIZE || channels !== 3) {
    throw new RangeError(`encodeCifarRecords: expected 32x32x3 images, got ${height}x${width}x${channels}.`);
  }
  if (coarseLabels && coarseLabels.length !== count) {
    throw new RangeError(`encodeCifarRecords: coarseLabels: expected ${count} labels, got ${coarseLabels.length}.`);
  }
  const labelBytes = coarseLabels ? 2 : 1;
  const recordBytes = labelBytes + IMAGE_BYTES;
  const out = new Uint8Array(count * recordBytes);
  for (let i = 0; i < count; i++) {
    const rec = i * recordBytes;
    if (coarseLabels) out[rec] = coarseLabels[i]!;
    out[rec + labelBytes - 1] = dataset.labels[i]!;
    const src = i * IMAGE_BYTES;
    const dst = rec + labelBytes;
    for (let p = 0; p < PLANE; p++) {
      out[dst + p] = dataset.images[src + 3 * p]!;
      out[dst + PLANE + p] = dataset.images[src + 3 * p + 1]!;
      out[dst + 2 * PLANE + p] = dataset.images[src + 3 * p + 2]!;
    }
  }
  return out;
}
