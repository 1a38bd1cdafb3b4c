/**
 * @module training/backend/wasm-kernels/simd/heap-module
 * Instantiates one of this project's WebAssembly kernel modules on tfjs-backend-wasm's own memory,
 * so that its functions work on tensors where they lie on the heap (no copies in or out).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Base64 binaries of one kernel module, as a generated NAME.wasm.ts exports them. */
export interface KernelModuleSource {
  SHARED_MEMORY_WASM: string;
  PLAIN_MEMORY_WASM: string;
}

const compiled = new WeakMap<KernelModuleSource, { shared?: WebAssembly.Module; plain?: WebAssembly.Module }>();
const instances = new WeakMap<WebAssembly.Memory, Map<KernelModuleSource, WebAssembly.Exports | null>>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * The backend's memory: the threaded build (Emscripten with pthreads) exposes it as `wasmMemory`,
 * the single-threaded build only as its instance's `memory` export (`asm`).
 */
export function heapMemory(backend: BackendWasm): WebAssembly.Memory | undefined {
  const module = backend.wasm as unknown as { wasmMemory?: unknown; asm?: Record<string, unknown> };
  const memory = module.wasmMemory ?? module.asm?.['memory'];
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/**
 * The module's exports bound to `backend`'s heap, or `undefined` where that cannot be (a runtime
 * without WebAssembly SIMD, or a backend that does not expose its memory): callers then run
 * their plain JavaScript path. Instantiated once per memory and module.
 */
export function heapModule<E extends WebAssembly.Exports>(backend: BackendWasm, source: KernelModuleSource): E | undefined {
  const memory = heapMemory(backend);
  if (memory === undefined) return undefined;
  let byModule = instances.get(memory);
  if (byModule === undefined) instances.set(memory, (byModule = new Map()));
  const known = byModule.get(source);
  if (known !== undefined) return (known ?? undefined) as E | undefined;
  const shared = memory.buffer instanceof SharedArrayBuffer;
  let exports: WebAssembly.Exports | null = null;
  try {
    let modules = compiled.get(source);
    if (modules === undefined) compiled.set(source, (modules = {}));
    const module = shared
      ? (modules.shared ??= new WebAssembly.Module(decode(source.SHARED_MEMORY_WASM)))
      : (modules.plain ??= new WebAssembly.Module(decode(source.PLAIN_MEMORY_WASM)));
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch {
    // No SIMD (or a memory the import does not accept): remembered, so the JS path runs.
    exports = null;
  }
  byModule.set(source, exports);
  return (exports ?? undefined) as E | undefined;
}
