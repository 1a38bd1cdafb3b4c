/**
 * @module training/backend/wasm-threads
 * Runs the tfjs WASM backend's multi-threaded (pthreads + SIMD) build in Node, which tfjs 4.22 disables there.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { engine, env, registerBackend, removeBackend } from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

/** The threaded build pre-spawns 8 pthread workers, so XNNPACK can use at most 8 threads. */
export const MAX_WASM_THREADS = 8;

/**
 * Prepended to the pool threads' worker script: on Linux each lowers its own scheduling priority
 * (nice 19; raising one's nice value needs no privilege, and elsewhere this does nothing).
 *
 * Why: after every parallel XNNPACK call a pool thread busy-waits for a while (pthreadpool's
 * spin before it sleeps), and the next kernel is often one of this project's own on the main
 * thread and a helper (wasm-kernels/simd/heap-workers.ts), so three threads share two cores.
 * At the lowest priority the spinning thread yields its core to those two, and while it does
 * XNNPACK's real work the helpers are asleep, so nothing competes with it. Measured inside 7-exit
 * training steps (batch 64, 2 threads), alternating the setting step by step: medians 1,134 ->
 * 1,011 ms, 820 -> 781 ms and 983 -> 959 ms in three runs.
 */
const LOWER_POOL_PRIORITY =
  "try{require('os').setPriority(Number(require('fs').readlinkSync('/proc/thread-self').split('/').pop()),19)}catch(e){}\n";

/** Same priority as tfjs-backend-wasm's own registration. */
const WASM_PRIORITY = 2;

/** The parts of the Emscripten module that BackendWasm expects (mirrors tfjs-backend-wasm's init). */
interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
  PThread?: { runningWorkers?: { unref?: () => void }[] };
}
type WasmFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/**
 * Replaces the `wasm` backend registration with one that runs XNNPACK on `n` threads, for Node.
 * Call it before the first `tf.setBackend('wasm')`; kernels registered for `wasm` (including
 * this project's training kernels) keep working, as the backend keeps its name.
 *
 * tfjs-backend-wasm 4.22 reports no thread support in Node (flag WASM_HAS_MULTITHREAD_SUPPORT)
 * because its loader hands Emscripten the pthread worker script and the main script as Blob
 * URLs, which Node's worker_threads cannot load. This loads the same threaded build itself with
 * both as real files (the worker script, shipped as a string, is written to the temp dir), and
 * reports `2n` logical cores to the module while it initialises: the C side caps its pool at
 * half the logical core count, i.e. 1 thread on a 2-core machine.
 *
 * @param n Threads for XNNPACK, 2..{@link MAX_WASM_THREADS} (larger values are capped).
 * @returns true when the threaded backend is registered (`getThreadsCount()` gives n after
 *   `setBackend('wasm')`); false, leaving the stock registration alone, for n < 2, outside Node,
 *   without SharedArrayBuffer, when the wasm backend is already initialised, or if loading fails.
 */
export async function enableWasmThreads(n: number): Promise<boolean> {
  const threads = Math.min(Math.floor(n), MAX_WASM_THREADS);
  if (!(threads >= 2) || !env().getBool('IS_NODE') || typeof SharedArrayBuffer !== 'function') return false;
  // The backend instance owns the wasm module; swapping the module under it is not possible.
  if ('wasm' in engine().registry) return false;
  let module: EmscriptenModule;
  try {
    module = await loadThreadedModule(threads);
  } catch {
    return false;
  }
  setThreadsCount(threads);
  removeBackend('wasm');
  registerBackend(
    'wasm',
    () => {
      // The constructor starts XNNPACK's pool threads, each a worker that Emscripten ref()s
      // while it runs: they would keep Node from ever exiting. They only work while the main
      // thread waits inside a kernel, so they need not hold the process open.
      const backend = new BackendWasm(module as never);
      for (const worker of module.PThread?.runningWorkers ?? []) worker.unref?.();
      return backend;
    },
    WASM_PRIORITY,
  );
  return true;
}

/**
 * Writes the pthread worker script where Node can load it: one file per script content under
 * the OS temp dir, shared by all processes and left in place (a few KB), so that nothing
 * accumulates when processes are killed. Written under a private name, then renamed, so a
 * concurrent process never sees half a file.
 */
function workerScript(): string {
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  // The script is one minified line whose only newlines sit inside string literals, where they
  // must be escapes (tfjs-backend-wasm does the same before making its Blob).
  const script = LOWER_POOL_PRIORITY + wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'adaptive-exit-wasm-threads');
  const file = join(dir, `tfjs-backend-wasm-threaded-simd-${hash}.worker.js`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, script);
    renameSync(partial, file);
  }
  return file;
}

async function loadThreadedModule(threads: number): Promise<EmscriptenModule> {
  const factoryPath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factory = require(factoryPath) as WasmFactory;
  const worker = workerScript();
  // Emscripten reads require('os').cpus().length once, in the module's static initialisers.
  const os = require('node:os') as { cpus: () => unknown[] };
  const cpus = os.cpus;
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i % real.length]);
  };
  let module: EmscriptenModule;
  try {
    module = await factory({
      locateFile: (path: string, prefix: string) => {
        if (path.endsWith('.worker.js')) return worker;
        if (path.endsWith('.wasm')) return join(dirname(factoryPath), 'tfjs-backend-wasm-threaded-simd.wasm');
        return prefix + path;
      },
      // Each pthread worker evaluates this file to get the module factory.
      mainScriptUrlOrBlob: factoryPath,
    });
  } finally {
    os.cpus = cpus;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}
