/**
 * @module datasets/errors
 * The one error class for bad or missing data files: it carries the file and, where known, the byte offset.
 */

/**
 * A data file is missing, unreadable or malformed. The message names the file (or image path)
 * and, for binary formats, the byte offset of the problem, so the bad file can be found and replaced.
 */
export class DataFormatError extends Error {
  override name = 'DataFormatError';
  /** The file (or image) that is bad. */
  readonly file: string;
  /** Byte offset of the problem within the (uncompressed) file, when it has one. */
  readonly offset: number | undefined;

  constructor(file: string, message: string, options?: { offset?: number; cause?: unknown }) {
    super(`${file}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = file;
    this.offset = options?.offset;
  }
}
