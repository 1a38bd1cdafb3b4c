/**
 * @module server/worker-model
 * {@link WorkerModel}: a model's copy in a worker thread that runs the batcher's batches there,
 * so the event loop keeps reading, decoding and answering requests while a batch runs.
 *
 * Why: onnxruntime-node's runs are synchronous calls on the calling thread. With the model on the
 * event loop, every batch (tens of milliseconds at batch 64) stops all request handling, and on a
 * two-core machine one core did the model and the HTTP work in turn while the other idled.
 * Intra-op threads (`--threads 2`) are no substitute: the event loop still waits for each run,
 * and spinning threads fight every other process for the cores (docs/server-profile.md).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Manifest } from '../manifest/index.js';
import { BudgetError, InferenceError, InputError, ModelClosedError, ModelLoadError, type Budget, type ClassifyOptions, type ClassifyResult, type TensorInput } from '../runtime/node/index.js';
import type { WorkerData, WorkerRequest } from './inference-worker.js';

/** Where a batch runs: the model on the event loop, or a {@link WorkerModel}. */
export interface BatchRunner {
  readonly manifest: Manifest;
  classify(input: TensorInput, options: ClassifyOptions): Promise<ClassifyResult[]>;
}

/** The runtime's error classes, rebuilt from their names on this side of the thread boundary (errors cross as plain objects), so the server maps them to the same statuses as in-thread errors. */
const ERROR_CLASSES: Record<string, new (message: string) => Error> = { InputError, BudgetError, ModelLoadError, ModelClosedError, InferenceError };

/** What the worker's copy runs for: the event-loop model, whose `closed` state the worker's copy follows. */
interface Owner {
  readonly manifest: Manifest;
  readonly closed: boolean;
}

type Reply = { type: 'ready' } | { type: 'result'; id: number; results: ClassifyResult[] } | { type: 'error'; id: number; name: string; message: string };

export class WorkerModel implements BatchRunner {
  readonly manifest: Manifest;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(r: ClassifyResult[]): void; reject(e: unknown): void }>();
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(
    worker: Worker,
    private readonly owner: Owner,
  ) {
    this.worker = worker;
    this.manifest = owner.manifest;
    const manifest = owner.manifest;
    worker.on('message', (msg: Reply) => {
      if (msg.type === 'ready') return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.type === 'result') p?.resolve(msg.results);
      else p?.reject(new (ERROR_CLASSES[msg.name] ?? Error)(msg.message));
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the inference worker of model "${manifest.model.id}" stopped (exit code ${code}).`)));
  }

  /**
   * Starts a worker that loads `dir` with the same options as `owner`, the model on the event loop
   * (whose manifest is already validated). When `owner` is closed, so is this copy to callers.
   * @throws Error when the worker cannot load the model.
   */
  static async start(dir: string, owner: Owner, options: WorkerData['options']): Promise<WorkerModel> {
    const ts = import.meta.url.endsWith('.ts');
    const entry = new URL(ts ? './inference-worker-entry.mjs' : './inference-worker.js', import.meta.url);
    const worker = new Worker(entry, { workerData: { dir, options } satisfies WorkerData });
    // `once` rejects on 'error'; a worker that exits without an error (process.exit) would otherwise leave this waiting forever.
    const ac = new AbortController();
    try {
      const [first] = (await Promise.race([
        once(worker, 'message', { signal: ac.signal }),
        once(worker, 'exit', { signal: ac.signal }).then(([code]) => Promise.reject(new Error(`inference worker of ${dir}: exited (code ${String(code)}) before loading the model.`))),
      ])) as [Reply];
      if (first.type !== 'ready') throw new Error(`inference worker of ${dir}: unexpected first message ${first.type}.`);
    } catch (e) {
      await worker.terminate();
      throw e;
    } finally {
      ac.abort();
    }
    return new WorkerModel(worker, owner);
  }

  /** False once the worker stopped or failed: every batch would fail, so the server is not ready (see ./readiness.ts). */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Ends the worker thread at once, without closing its sessions: for tests that need a dead worker.
   * @internal
   */
  async terminateForTest(): Promise<void> {
    await this.worker.terminate();
  }

  /** Classifies one batch in the worker; the tensor's buffer is handed over (not copied), so the caller must not use it again. */
  classify(input: TensorInput, options: ClassifyOptions): Promise<ClassifyResult[]> {
    if (this.owner.closed) return Promise.reject(new ModelClosedError('classify: the model was closed (its sessions are released); load it again.'));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const n = input.dims[0]!;
    const budgets: Array<Budget | undefined> = Array.isArray(options.budget) ? (options.budget as Budget[]) : new Array<Budget | undefined>(n).fill(options.budget as Budget | undefined);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: 'classify', id, data: input.data, dims: [...input.dims], budgets, topK: options.topK ?? 5 };
      this.worker.postMessage(msg, [input.data.buffer as ArrayBuffer]);
    });
  }

  /** Releases the worker's sessions and ends it. */
  async close(): Promise<void> {
    if (this.failure) return;
    const exited = once(this.worker, 'exit');
    this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    await exited;
  }
}
