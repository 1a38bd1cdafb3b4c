/**
 * @module runtime/node/native-session
 * An onnxruntime-node session whose `run` calls the native binding directly.
 *
 * Why: `InferenceSession.run` of onnxruntime-node wraps the (synchronous, same-thread) native run
 * in `setImmediate`, so every call waits one event-loop turn. A stage of a few MFLOPs runs in
 * ~0.1–0.3 ms, and that turn measured ~0.03–0.09 ms here, once per stage: the early-exit chain
 * pays it K times where the full model pays it once.
 *
 * The binding is onnxruntime-node's private `dist/binding.js` (checked against 1.30). What this
 * file relies on is listed in {@link nativeBindingProblem}; when the binding is missing or has
 * another shape (a future version), sessions use the public API, which computes the same results
 * (test/runtime/native-session.test.ts fails loudly on such a change, so it is noticed).
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';

/** An output as either path returns it: a Tensor of onnxruntime-common (CPU data or a GPU buffer). */
export type OrtOutput = ort.Tensor;

/** The part of a session the backend uses. */
export interface OrtRunner {
  /** 'native': synchronous runs through the private binding; 'public': `InferenceSession.run`. */
  readonly path: 'native' | 'public';
  /** The graph's output names. */
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, OrtOutput>> | Record<string, OrtOutput>;
  release(): void | Promise<void>;
}

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: object, fetches: object, options: object): Record<string, OrtOutput>;
  dispose(): void;
  outputMetadata: Array<{ name: string }>;
}
/** The shape of onnxruntime-node's `dist/binding.js` this file uses. */
export interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

let installed: { binding: NativeBinding | null; problem: string | undefined } | undefined;

/** onnxruntime-node's private binding module, or why it cannot be used. */
function loadInstalledBinding(): { binding: NativeBinding | null; problem: string | undefined } {
  if (installed) return installed;
  let b: unknown;
  try {
    b = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js');
  } catch (e) {
    return (installed = { binding: null, problem: `onnxruntime-node/dist/binding.js cannot be loaded: ${(e as Error).message}` });
  }
  const problem = bindingShapeProblem(b);
  return (installed = { binding: problem ? null : (b as NativeBinding), problem });
}

/** What is missing from a module that should be the binding (undefined when nothing is). */
function bindingShapeProblem(b: unknown): string | undefined {
  const m = b as Partial<NativeBinding> | undefined;
  if (typeof m?.binding?.InferenceSession !== 'function') return 'binding.InferenceSession is not a constructor';
  if (typeof m.initOrt !== 'function') return 'initOrt is not a function';
  const proto = m.binding.InferenceSession.prototype as Partial<NativeSession> | undefined;
  for (const method of ['loadModel', 'run', 'dispose'] as const) if (typeof proto?.[method] !== 'function') return `InferenceSession.prototype.${method} is not a function`;
  return undefined;
}

/**
 * Why the native path is not used with the installed onnxruntime-node (undefined when it is):
 * the module `onnxruntime-node/dist/binding.js` exporting `initOrt()` and `binding.InferenceSession`
 * whose instances have `loadModel(buffer, byteOffset, byteLength, options)`, `run(feeds,
 * fetches, runOptions)` returning the outputs by name, `dispose()` and, once loaded,
 * `outputMetadata: Array<{ name }>`.
 */
export function nativeBindingProblem(): string | undefined {
  return loadInstalledBinding().problem;
}

/**
 * Creates a session from ONNX bytes: synchronous native runs where the binding allows, else the
 * public API.
 * @param binding the binding to use instead of the installed one (null: the public API); for tests.
 */
export async function createOrtSession(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions, binding: NativeBinding | null = loadInstalledBinding().binding): Promise<OrtRunner> {
  if (binding && !bindingShapeProblem(binding)) {
    // The public API initialises the runtime (log level, Tensor class) on first use; do the same.
    ort.env.logLevel ??= 'warning';
    binding.initOrt();
    const session = new binding.binding.InferenceSession();
    session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
    if (Array.isArray(session.outputMetadata)) {
      const fetches = Object.fromEntries(session.outputMetadata.map((o) => [o.name, null]));
      return {
        path: 'native',
        outputNames: Object.keys(fetches),
        run: (feeds) => session.run(feeds, fetches, {}),
        release: () => session.dispose(),
      };
    }
    session.dispose();
  }
  const session = await ort.InferenceSession.create(bytes, options);
  return { path: 'public', outputNames: session.outputNames, run: (feeds) => session.run(feeds), release: () => session.release() };
}
