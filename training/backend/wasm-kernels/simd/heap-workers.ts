/**
 * @module training/backend/wasm-kernels/simd/heap-workers
 * Runs this project's SIMD kernels on several threads of the threaded tfjs-backend-wasm build:
 * helper workers instantiate the same kernel modules on the same shared memory, and a call
 * hands each helper its list of function calls (names and numeric arguments) through a small
 * shared control block, runs its own list and waits for the helpers'.
 *
 * Why not the build's own thread pool: it serves only XNNPACK's C kernels, and nothing outside
 * the module can submit work to it. Why blocking waits: a kernel function is synchronous, and a
 * helper parked in `Atomics.wait` wakes in microseconds, where a message would wait for an
 * event-loop turn.
 */
import { Worker } from 'node:worker_threads';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapMemory, type KernelModuleSource } from './heap-module.js';
import * as CONV_FILTER_GRAD_WASM from './conv-filter-grad.wasm.js';
import * as CONV_INPUT_GRAD_WASM from './conv-input-grad.wasm.js';

/**
 * Every kernel module a helper may be asked to run: the convolution gradients. (The fused
 * BatchNorm + ReLU passes are memory-bound and ran slower split in two; see THREADS.md.)
 */
const KERNEL_MODULES: readonly KernelModuleSource[] = [CONV_FILTER_GRAD_WASM, CONV_INPUT_GRAD_WASM];

/** One call of a kernel module's export, with byte offsets and counts as arguments. */
export interface HeapCall {
  fn: string;
  args: readonly number[];
}

/** Control block of one helper: Int32 slots, then the calls as Float64 [fn, argc, ...args]... */
const STATE = 0; // 0 idle, 1 calls posted
const DONE = 1; // set by the helper when the calls have run
const FAILED = 2; // 1 when a call threw
const READY = 3; // 1 once the helper has instantiated the modules
const MODULE = 4;
const CALLS = 5;
const HEADER_BYTES = 32;
const SLOTS = 2048;
/** How long a caller waits for a helper before it gives up (a kernel call takes milliseconds). */
const HELPER_TIMEOUT_MS = 60_000;

// Runs in each helper (eval'd: it must not depend on the package's own files being on disk).
const HELPER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { memory, modules, control, names } = workerData;
const ctl = new Int32Array(control, 0, 8);
const slots = new Float64Array(control, ${HEADER_BYTES}, ${SLOTS});
const instances = modules.map((bytes) => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports);
Atomics.store(ctl, ${READY}, 1);
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctl, ${STATE}, 0);
  try {
    const exports = instances[ctl[${MODULE}]];
    for (let c = 0, at = 0; c < ctl[${CALLS}]; c++) {
      const fn = exports[names[slots[at]]];
      const argc = slots[at + 1];
      fn(...Array.from(slots.subarray(at + 2, at + 2 + argc)));
      at += 2 + argc;
    }
    Atomics.store(ctl, ${FAILED}, 0);
  } catch {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.store(ctl, ${STATE}, 0);
  Atomics.store(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

interface Helper {
  ctl: Int32Array;
  slots: Float64Array;
}

type Exports = Record<string, (...args: number[]) => void>;

/** Helpers bound to one shared memory, for a fixed set of kernel modules. */
export class HeapWorkers {
  private readonly helpers: Helper[] = [];
  private readonly names: string[];
  /** Settles when every helper has started or failed to (calls made before run on fewer threads). */
  readonly started: Promise<void>;

  constructor(
    memory: WebAssembly.Memory,
    private readonly sources: readonly KernelModuleSource[],
    count: number,
  ) {
    const bytes = sources.map((s) => Uint8Array.from(atob(s.SHARED_MEMORY_WASM), (c) => c.charCodeAt(0)));
    this.names = [...new Set(bytes.flatMap((b) => WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => e.name)))];
    const starts: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const control = new SharedArrayBuffer(HEADER_BYTES + 8 * SLOTS);
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, modules: bytes, control, names: this.names } });
      // Parked helpers must not keep the process alive; a helper that dies is skipped (not ready).
      worker.unref();
      starts.push(
        new Promise<void>((done) => {
          worker.once('message', () => done());
          worker.once('error', () => done());
          worker.once('exit', () => done());
        }),
      );
      this.helpers.push({ ctl: new Int32Array(control, 0, 8), slots: new Float64Array(control, HEADER_BYTES, SLOTS) });
    }
    this.started = Promise.all(starts).then(() => undefined);
  }

  /** Threads a call can use now: this one plus the helpers that have started. */
  get threads(): number {
    return 1 + this.helpers.filter((h) => Atomics.load(h.ctl, READY) === 1).length;
  }

  /**
   * Runs `perThread[0]` on this thread through `local` (this thread's instance of `module`) and
   * `perThread[i]` on helper i − 1, and returns when all have finished. Lists for helpers that
   * are not ready (or that do not fit the control block) run here too.
   * @throws Error when a call threw on a helper, or a helper did not finish within a minute.
   */
  run(module: KernelModuleSource, perThread: ReadonlyArray<readonly HeapCall[]>, local: Exports): void {
    const moduleIndex = this.sources.indexOf(module);
    const ready = this.helpers.filter((h) => Atomics.load(h.ctl, READY) === 1);
    const mine: HeapCall[] = [...(perThread[0] ?? [])];
    const posted: Helper[] = [];
    perThread.slice(1).forEach((calls, i) => {
      const helper = ready[i];
      const slotsNeeded = calls.reduce((sum, c) => sum + 2 + c.args.length, 0);
      if (helper === undefined || moduleIndex < 0 || slotsNeeded > SLOTS || calls.some((c) => !this.names.includes(c.fn))) {
        mine.push(...calls);
        return;
      }
      let at = 0;
      for (const call of calls) {
        helper.slots[at] = this.names.indexOf(call.fn);
        helper.slots[at + 1] = call.args.length;
        helper.slots.set(call.args, at + 2);
        at += 2 + call.args.length;
      }
      helper.ctl[MODULE] = moduleIndex;
      helper.ctl[CALLS] = calls.length;
      Atomics.store(helper.ctl, DONE, 0);
      Atomics.store(helper.ctl, STATE, 1);
      Atomics.notify(helper.ctl, STATE);
      posted.push(helper);
    });
    for (const call of mine) local[call.fn]!(...call.args);
    const deadline = performance.now() + HELPER_TIMEOUT_MS;
    let failed = false;
    for (const helper of posted) {
      while (Atomics.load(helper.ctl, DONE) === 0) {
        Atomics.wait(helper.ctl, DONE, 0, 1000);
        if (performance.now() > deadline) {
          Atomics.store(helper.ctl, READY, 0); // never post to it again
          throw new Error('heap workers: a helper thread did not finish its kernel calls within a minute.');
        }
      }
      failed ||= helper.ctl[FAILED] === 1;
    }
    if (failed) throw new Error('heap workers: a kernel call failed on a helper thread.');
  }
}

const pools = new WeakMap<WebAssembly.Memory, HeapWorkers>();

/**
 * The helpers for `backend`: one per thread of the threaded build beyond the calling one, created
 * on first use; `undefined` for the single-threaded build (nothing to share the memory with).
 */
export function heapWorkers(backend: BackendWasm): HeapWorkers | undefined {
  const memory = heapMemory(backend);
  if (memory === undefined || !(memory.buffer instanceof SharedArrayBuffer)) return undefined;
  const threads = getThreadsCount();
  if (threads < 2) return undefined;
  let pool = pools.get(memory);
  if (pool === undefined) pools.set(memory, (pool = new HeapWorkers(memory, KERNEL_MODULES, threads - 1)));
  return pool;
}

/** [start, end) of part `i` of `count` equal parts of `total`, starts rounded down to `step`. */
export function share(total: number, count: number, i: number, step = 1): [number, number] {
  const at = (k: number) => (k >= count ? total : Math.floor((total * k) / count / step) * step);
  return [at(i), at(i + 1)];
}

/**
 * Runs per-thread call lists of `module`: on the helpers when there are any (`pool`), else all on
 * this thread through `local`, in order.
 */
export function runHeapCalls(
  pool: HeapWorkers | undefined,
  module: KernelModuleSource,
  perThread: ReadonlyArray<readonly HeapCall[]>,
  local: WebAssembly.Exports,
): void {
  const fns = local as unknown as Exports;
  if (pool !== undefined) pool.run(module, perThread, fns);
  else for (const call of perThread.flat()) fns[call.fn]!(...call.args);
}
