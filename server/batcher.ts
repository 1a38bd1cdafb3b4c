/**
 * @module server/batcher
 * {@link DynamicBatcher}: gathers concurrent requests for one model into one early-exit batch.
 * A batch runs when it holds `maxBatch` samples or its first request has waited `maxWaitMs`;
 * each sample keeps its own budget (the engine takes one per sample), so requests with different
 * budgets share a batch and still exit on their own. One batch runs at a time per model (with an
 * inference worker, a second may wait there: see `maxInFlight`); the
 * queue is bounded (`maxQueue` samples) so overload is refused early rather than piling up.
 */
import { sampleDims, type Budget, type ClassifyResult, type InputData } from '../runtime/node/index.js';
import { HttpError } from './errors.js';
import type { BatchRunner } from './worker-model.js';

export interface BatcherOptions {
  /** Most samples per engine call. @defaultValue 64 */
  maxBatch?: number;
  /**
   * Longest a request waits for others to join its batch, ms. Under load a batch fills up
   * (`maxBatch`) and leaves before this; the wait only bounds what a request pays at light load.
   * 5 ms is about a fifth of a full batch's service time on the bundled model (64 × ~0.4 ms at
   * the default policy), and measured here it gave fuller batches than 0–2 ms, whose smaller
   * batches cost early exit most (its later stages then run on a handful of rows).
   * @defaultValue 5
   */
  maxWaitMs?: number;
  /** Most samples waiting; more gets a 503. @defaultValue 1024 */
  maxQueue?: number;
  /**
   * Batches handed to the model at once. Only an inference worker can take more than 1: then the
   * next batch already waits there when one finishes, and the worker does not idle while results
   * travel back; but batches get smaller (measured: no clear gain, docs/server-profile.md).
   * @defaultValue 1
   */
  maxInFlight?: number;
  /** Called with each batch's size and time (metrics). */
  onBatch?: (size: number, ms: number) => void;
}

/** Where a request's time in the batcher went (filled in when its batch has run). */
export interface BatchTiming {
  /** From queueing to its batch's start. */
  queueMs: number;
  /** Its batch's engine call. */
  modelMs: number;
}

interface Pending {
  data: InputData;
  queuedAt: number;
  timing: BatchTiming | undefined;
  n: number;
  /** One budget for the request's samples, or one per sample (the V2 protocol's per-sample inputs). */
  budget: Budget | readonly Budget[] | undefined;
  topK: number;
  resolve(results: ClassifyResult[]): void;
  reject(e: unknown): void;
}

export class DynamicBatcher {
  private readonly model: BatchRunner;
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;
  private readonly maxQueue: number;
  private readonly onBatch: ((size: number, ms: number) => void) | undefined;
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxInFlight: number;
  private inFlight = 0;

  /** `model`: the model itself, or its copy in an inference worker (see ./worker-model.ts). */
  constructor(model: BatchRunner, options: BatcherOptions = {}) {
    this.model = model;
    this.maxBatch = options.maxBatch ?? 64;
    this.maxWaitMs = options.maxWaitMs ?? 5;
    this.maxQueue = options.maxQueue ?? 1024;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.onBatch = options.onBatch;
  }

  /** Samples waiting or running. */
  get pending(): number {
    return this.queued;
  }

  /**
   * Queues `n` preprocessed samples with one budget, or an array of `n` budgets (one per sample).
   * @throws HttpError 503 (with Retry-After) when the queue is full.
   */
  classify(data: InputData, n: number, budget: Budget | readonly Budget[] | undefined, topK: number, timing?: BatchTiming): Promise<ClassifyResult[]> {
    if (n === 0) return Promise.resolve([]);
    if (this.queued + n > this.maxQueue) {
      return Promise.reject(new HttpError(503, 'queue_full', `the queue of model "${this.model.manifest.model.id}" is full (${this.queued} samples waiting, limit ${this.maxQueue}); retry shortly.`, { 'Retry-After': '1' }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ data, n, queuedAt: timing ? performance.now() : 0, timing, budget, topK, resolve, reject });
      this.queued += n;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight) return;
    const waiting = this.queue.reduce((a, p) => a + p.n, 0);
    if (waiting >= this.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.runBatch();
    } else if (waiting > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.runBatch();
      }, this.maxWaitMs);
    }
  }

  /** Takes requests up to maxBatch samples (a larger request runs alone) and classifies them together. */
  private async runBatch(): Promise<void> {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.inFlight++;
    const batch: Pending[] = [];
    let size = 0;
    while (this.queue.length > 0 && (batch.length === 0 || size + this.queue[0]!.n <= this.maxBatch)) {
      const p = this.queue.shift()!;
      batch.push(p);
      size += p.n;
    }
    // What is left may form the next batch while this one runs (maxInFlight > 1).
    this.schedule();
    const per = batch[0]!.data.length / batch[0]!.n;
    // The model input's element type: float32 images or int64 token ids.
    const data = batch[0]!.data instanceof BigInt64Array ? new BigInt64Array(size * per) : new Float32Array(size * per);
    const budgets: Array<Budget | undefined> = [];
    let offset = 0;
    for (const p of batch) {
      (data as Float32Array).set(p.data as Float32Array, offset * per);
      for (let i = 0; i < p.n; i++) budgets.push(Array.isArray(p.budget) ? (p.budget as readonly Budget[])[i] : (p.budget as Budget | undefined));
      offset += p.n;
    }
    const topK = Math.max(...batch.map((p) => p.topK));
    const t0 = performance.now();
    try {
      // Budgets were resolved per request before queueing, so a bad one cannot fail its batch-mates.
      const results = await this.model.classify({ data, dims: [size, ...sampleDims(this.model.manifest)] }, { budget: budgets as Budget[], topK });
      const ms = performance.now() - t0;
      this.onBatch?.(size, ms);
      offset = 0;
      for (const p of batch) {
        if (p.timing) {
          p.timing.queueMs = t0 - p.queuedAt;
          p.timing.modelMs = ms;
        }
        p.resolve(results.slice(offset, offset + p.n).map((r) => ({ ...r, topK: r.topK.slice(0, p.topK) })));
        offset += p.n;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      this.queued -= size;
      this.inFlight--;
      this.schedule();
    }
  }
}
