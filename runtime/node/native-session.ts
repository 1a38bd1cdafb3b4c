/**
 * @module runtime/node/native-session
 * An onnxruntime-node session whose `run` calls the native binding directly.
 *
 * Why: `InferenceSession.run` of onnxruntime-node wraps the (synchronous, same-thread) native run
 * in `setImmediate`, so every call waits one event-loop turn. A stage of a few MFLOPs runs in
 * ~0.1–0.3 ms, and that turn measured ~0.03–0.09 ms here, once per stage: the early-exit chain
 * pays it K times where the full model pays it once. The binding is onnxruntime-node's own
 * (`dist/binding.js`); when it is missing or has another shape (a future version), this falls
 * back to the public API, which computes the same results.
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';

/** The part of a session the backend uses. */
export interface OrtRunner {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, { type: string; data: unknown; dims: readonly number[] }>> | Record<string, { type: string; data: unknown; dims: readonly number[] }>;
  release(): void | Promise<void>;
}

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: object, fetches: object, options: object): Record<string, { type: string; data: unknown; dims: readonly number[] }>;
  dispose(): void;
  outputMetadata: Array<{ name: string }>;
}
interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

let native: NativeBinding | null | undefined;

function loadBinding(): NativeBinding | null {
  if (native !== undefined) return native;
  try {
    const b = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as NativeBinding;
    native = typeof b?.binding?.InferenceSession === 'function' && typeof b.initOrt === 'function' ? b : null;
  } catch {
    native = null;
  }
  return native;
}

/** Creates a session from ONNX bytes; synchronous native runs where the binding allows. */
export async function createOrtSession(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<OrtRunner> {
  const b = loadBinding();
  if (b) {
    // The public API initialises the runtime (log level, Tensor class) on first use; do the same.
    ort.env.logLevel ??= 'warning';
    b.initOrt();
    const session = new b.binding.InferenceSession();
    session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
    if (typeof session.run === 'function' && Array.isArray(session.outputMetadata)) {
      const fetches = Object.fromEntries(session.outputMetadata.map((o) => [o.name, null]));
      return {
        run: (feeds) => session.run(feeds, fetches, {}),
        release: () => session.dispose(),
      };
    }
    session.dispose();
  }
  const session = await ort.InferenceSession.create(bytes, options);
  return { run: (feeds) => session.run(feeds), release: () => session.release() };
}
