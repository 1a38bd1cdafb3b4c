/**
 * @module manifest/errors
 * The one error type of the manifest contract, {@link ManifestError}, and how a problem's JSON
 * path is written (`manifest.stages[1].inputs[0].role.from.output`). Like the rest of
 * `manifest/`, this file depends on nothing but node built-ins and must never import from
 * training/, export/ or runtime/.
 */

/** One problem found in a manifest: where (a JSON path from the root `manifest`) and what. */
export interface ManifestIssue {
  /** JSON path rooted at `manifest`, e.g. `manifest.stages[2].cumulativeMflops`. */
  readonly path: string;
  /** What is wrong there, as a sentence. */
  readonly message: string;
}

/** Options of {@link ManifestError}. */
export interface ManifestErrorOptions {
  /** Every problem found; empty when the manifest could not even be read. */
  issues?: readonly ManifestIssue[];
  /** Where the manifest came from (a file path), when known. */
  source?: string;
  /** The underlying error (I/O or JSON syntax), when there is one. */
  cause?: unknown;
}

/**
 * A manifest that cannot be read or does not satisfy the contract. `issues` lists every problem
 * found (not just the first) and the message carries one `<json.path>: <message>` line per issue.
 */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  /** Every problem found, in the order they were found. */
  readonly issues: readonly ManifestIssue[];
  /** Where the manifest came from, when known. */
  readonly source: string | undefined;

  constructor(message: string, options: ManifestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.issues = Object.freeze([...(options.issues ?? [])]);
    this.source = options.source;
  }

  /** An error listing `issues`, one `<json.path>: <message>` line each, under a header naming `source`. */
  static fromIssues(issues: readonly ManifestIssue[], source?: string): ManifestError {
    const where = source === undefined ? 'Invalid manifest' : `Invalid manifest ${source}`;
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
    return new ManifestError([`${where} (${count}):`, ...lines].join('\n'), { issues, source });
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Writes a path as `manifest.a.b[2].c` (keys that are not identifiers as `["a-b"]`). */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = 'manifest';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}
