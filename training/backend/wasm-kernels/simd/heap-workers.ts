/**
 * @module training/backend/wasm-kernels/simd/heap-workers
 * Runs this project's SIMD kernels on several threads of the threaded tfjs-backend-wasm build:
 * helper workers instantiate the same kernel modules on the same shared memory. A kernel hands
 * over a list of independent tasks (each a list of function calls with numeric arguments); the
 * calling thread and the helpers take tasks from one shared counter until none is left, so a
 * thread that runs slower (the build's own pool thread busy-waits for a while after each XNNPACK
 * call and takes CPU from whichever thread shares its core) simply takes fewer tasks.
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

/**
 * Calls that run in order on one thread. The tasks of one job run on any thread, in any order
 * and concurrently, so they must write disjoint memory.
 */
export type HeapTask = readonly HeapCall[];

// Control block: Int32 header, then per job buffer (two, used alternately) a table of task
// offsets and the tasks as Float64 records [calls, (fn, argc, ...args)...].
const WAKE = 0; // bumped (and notified) when a job is posted
const CLAIM = 1; // (job << 20) | next task index; tasks are claimed by compare-and-swap
const DONE = 2; // tasks of the current job finished (or skipped after a failure)
const FAILED = 3; // 1 when a task threw
const READY = 4; // helpers that have instantiated the modules
const MODULE = 5; // [5, 6]: module index of the job in buffer 0, 1
const TOTAL = 7; // [7, 8]: task count of the job in buffer 0, 1
const HEADER_INTS = 16;
const MAX_TASKS = 4096;
const SLOTS = 65536;
const INDEX_BITS = 20;
const JOB_MASK = 0x7ff; // job numbers wrap at 11 bits, so CLAIM stays a positive Int32
const OFFSETS_AT = HEADER_INTS * 4;
const SLOTS_AT = OFFSETS_AT + 2 * MAX_TASKS * 4;
const CONTROL_BYTES = SLOTS_AT + 2 * SLOTS * 8;
/** How long a caller waits for a helper's task before it gives up (a task takes milliseconds). */
const HELPER_TIMEOUT_MS = 60_000;

// Runs in each helper (eval'd: it must not depend on the package's own files being on disk).
const HELPER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { memory, modules, control, names } = workerData;
const ctl = new Int32Array(control, 0, ${HEADER_INTS});
const offsets = [0, 1].map((b) => new Int32Array(control, ${OFFSETS_AT} + b * ${MAX_TASKS * 4}, ${MAX_TASKS}));
const slots = [0, 1].map((b) => new Float64Array(control, ${SLOTS_AT} + b * ${SLOTS * 8}, ${SLOTS}));
const instances = modules.map((bytes) => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports);
Atomics.add(ctl, ${READY}, 1);
parentPort.postMessage('ready');
let seen = Atomics.load(ctl, ${WAKE});
for (;;) {
  Atomics.wait(ctl, ${WAKE}, seen);
  seen = Atomics.load(ctl, ${WAKE});
  for (;;) {
    const c = Atomics.load(ctl, ${CLAIM});
    const b = (c >>> ${INDEX_BITS}) & 1;
    const i = c & ${(1 << INDEX_BITS) - 1};
    if (i >= ctl[${TOTAL} + b]) break;
    if (Atomics.compareExchange(ctl, ${CLAIM}, c, c + 1) !== c) continue;
    try {
      const exports = instances[ctl[${MODULE} + b]];
      const s = slots[b];
      let at = offsets[b][i];
      for (let k = s[at++]; k > 0; k--) {
        const fn = exports[names[s[at]]];
        const argc = s[at + 1];
        fn(...Array.from(s.subarray(at + 2, at + 2 + argc)));
        at += 2 + argc;
      }
    } catch {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}
`;

type Exports = Record<string, (...args: number[]) => void>;

/** Helpers bound to one shared memory, for a fixed set of kernel modules. */
export class HeapWorkers {
  private readonly ctl: Int32Array;
  private readonly offsets: Int32Array[];
  private readonly slots: Float64Array[];
  private readonly names: string[];
  private readonly fnIndex: Map<string, number>;
  private readonly helperCount: number;
  private job = 0;
  /** Set when a helper stopped answering: later jobs then run on the calling thread only. */
  private broken = false;
  /** Settles when every helper has started or failed to (jobs posted before run on fewer threads). */
  readonly started: Promise<void>;

  constructor(
    memory: WebAssembly.Memory,
    private readonly sources: readonly KernelModuleSource[],
    count: number,
  ) {
    const bytes = sources.map((s) => Uint8Array.from(atob(s.SHARED_MEMORY_WASM), (c) => c.charCodeAt(0)));
    this.names = [...new Set(bytes.flatMap((b) => WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => e.name)))];
    this.fnIndex = new Map(this.names.map((name, i) => [name, i]));
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.ctl = new Int32Array(control, 0, HEADER_INTS);
    this.offsets = [0, 1].map((b) => new Int32Array(control, OFFSETS_AT + b * MAX_TASKS * 4, MAX_TASKS));
    this.slots = [0, 1].map((b) => new Float64Array(control, SLOTS_AT + b * SLOTS * 8, SLOTS));
    this.helperCount = count;
    const starts: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, modules: bytes, control, names: this.names } });
      // Parked helpers must not keep the process alive; a helper that dies never takes a task.
      worker.unref();
      starts.push(
        new Promise<void>((done) => {
          worker.once('message', () => done());
          worker.once('error', () => done());
          worker.once('exit', () => done());
        }),
      );
    }
    this.started = Promise.all(starts).then(() => undefined);
  }

  /** Threads a job can use now: this one plus the helpers that have started. */
  get threads(): number {
    return this.broken ? 1 : 1 + Math.min(this.helperCount, Atomics.load(this.ctl, READY));
  }

  /**
   * Runs `tasks` of `module` on this thread (through `local`, this thread's instance of the
   * module) and on the helpers, and returns when all have finished. A job the control block
   * cannot hold, or one with no helper ready, runs here alone.
   * @throws Error when a task threw, or a helper held a task for over a minute.
   */
  run(module: KernelModuleSource, tasks: readonly HeapTask[], local: Exports): void {
    const moduleIndex = this.sources.indexOf(module);
    if (this.threads < 2 || tasks.length < 2 || moduleIndex < 0 || !this.post(moduleIndex, tasks)) {
      for (const task of tasks) for (const call of task) local[call.fn]!(...call.args);
      return;
    }
    const ctl = this.ctl;
    let error: unknown;
    for (;;) {
      const c = Atomics.load(ctl, CLAIM);
      const i = c & ((1 << INDEX_BITS) - 1);
      if (i >= tasks.length) break;
      if (Atomics.compareExchange(ctl, CLAIM, c, c + 1) !== c) continue;
      // After a failure the remaining tasks are claimed but skipped, so the count completes.
      if (error === undefined) {
        try {
          for (const call of tasks[i]!) local[call.fn]!(...call.args);
        } catch (e) {
          error = e;
        }
      }
      Atomics.add(ctl, DONE, 1);
    }
    const deadline = performance.now() + HELPER_TIMEOUT_MS;
    for (let done = Atomics.load(ctl, DONE); done < tasks.length; done = Atomics.load(ctl, DONE)) {
      Atomics.wait(ctl, DONE, done, 1000);
      if (performance.now() > deadline) {
        this.broken = true; // never post to the helpers again
        throw new Error('heap workers: a helper thread did not finish its kernel task within a minute.');
      }
    }
    if (error !== undefined) throw error;
    if (Atomics.load(ctl, FAILED) === 1) throw new Error('heap workers: a kernel call failed on a helper thread.');
  }

  /** Writes the job into the next buffer and opens it for claiming; false if it does not fit. */
  private post(moduleIndex: number, tasks: readonly HeapTask[]): boolean {
    if (tasks.length > MAX_TASKS) return false;
    const job = (this.job + 1) & JOB_MASK;
    const b = job & 1;
    const slots = this.slots[b]!;
    const offsets = this.offsets[b]!;
    let at = 0;
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      if (at >= SLOTS) return false;
      offsets[i] = at;
      slots[at++] = task.length;
      for (const call of task) {
        const fn = this.fnIndex.get(call.fn);
        const args = call.args;
        if (fn === undefined || at + 2 + args.length > SLOTS) return false;
        slots[at] = fn;
        slots[at + 1] = args.length;
        // A plain loop: TypedArray.set from a short JS array costs more than the copy.
        for (let k = 0; k < args.length; k++) slots[at + 2 + k] = args[k]!;
        at += 2 + args.length;
      }
    }
    this.job = job;
    const ctl = this.ctl;
    ctl[MODULE + b] = moduleIndex;
    ctl[TOTAL + b] = tasks.length;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, CLAIM, job << INDEX_BITS);
    Atomics.add(ctl, WAKE, 1);
    Atomics.notify(ctl, WAKE);
    return true;
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

/** Runs `tasks` of `module`: shared with the helpers when there are any (`pool`), else in order here. */
export function runHeapTasks(pool: HeapWorkers | undefined, module: KernelModuleSource, tasks: readonly HeapTask[], local: WebAssembly.Exports): void {
  const fns = local as unknown as Exports;
  if (pool !== undefined) pool.run(module, tasks, fns);
  else for (const task of tasks) for (const call of task) fns[call.fn]!(...call.args);
}
