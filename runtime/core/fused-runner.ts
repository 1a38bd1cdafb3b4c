/**
 * @module runtime/core/fused-runner
 * {@link FusedRunner}: the fused early-exit graphs (./fuse-stages.ts) of a model, loaded into
 * backend sessions and run: the batch form for batches, the single form for one-sample calls.
 * When the exit criterion changes, the graphs are fused again (once, however many callers wait).
 */
import type { Manifest } from '../../manifest/index.js';
import { softmaxRows } from '../../manifest/confidence.js';
import type { StageBackend, StageSession } from './backend.js';
import type { ResolvedBudget } from './budget.js';
import { InferenceError } from './errors.js';
import { FUSED_CAPS, FUSED_THRESHOLDS, float32Threshold, fuseStageGraphs, type BatchFusedGraph, type FusedForm, type FusedGraph, type SingleFusedGraph } from './fuse-stages.js';
import { prediction, type ClassifyResult } from './results.js';
import { serialized } from './session-queue.js';
import { runStage } from './staged-run.js';
import type { EngineStats } from './stats.js';
import { sampleDims } from './model-input.js';
import { inputTensor, isDeviceTensor, type CoreTensor, type InputData } from './tensor.js';

/** A fused graph and the session running it. */
interface LoadedFused<G extends FusedGraph> {
  session: StageSession;
  graph: G;
}

/** Loads and runs the fused graphs of one model. */
export class FusedRunner {
  /** The batch form, and the single form for one-sample calls (null where it did not load). */
  private fused: { batch: LoadedFused<BatchFusedGraph>; single: LoadedFused<SingleFusedGraph> | null } | null = null;
  private problem: string | undefined;
  private refusing: Promise<void> | undefined;
  /** Set by {@link release}: a load still under way then releases what it made instead of keeping it. */
  private released = false;

  /** @param stageBytes the stage graphs' bytes, kept to fuse again for another criterion. */
  constructor(
    private readonly backend: StageBackend,
    private readonly stageBytes: readonly Uint8Array[],
    private readonly stats: EngineStats,
  ) {}

  /**
   * Fuses the stage graphs for `manifest`'s criterion and loads the result, replacing the graphs
   * loaded before; on failure none is loaded and {@link unavailable} says why.
   */
  async load(manifest: Manifest): Promise<void> {
    const old = this.sessions();
    this.fused = null;
    await Promise.all(old.map((s) => s.release()));
    const create = this.backend.createFusedSession?.bind(this.backend);
    if (!create) {
      this.problem = 'the backend does not load fused graphs';
      return;
    }
    const { criterion } = manifest.exitPolicy;
    const load = async <G extends FusedGraph>(graph: G): Promise<LoadedFused<G> | null> => {
      const session = await create(graph.bytes);
      return session && { session: serialized(session), graph };
    };
    try {
      const batch = await load(fuseStageGraphs(manifest, this.stageBytes, criterion, 'batch'));
      this.problem = batch ? undefined : 'the execution provider runs stage by stage';
      if (!batch) return;
      // The single form only speeds up one-sample calls; without it they run the batch form.
      const single = await Promise.resolve()
        .then(() => load(fuseStageGraphs(manifest, this.stageBytes, criterion, 'single')))
        .catch(() => null);
      if (this.released) {
        // The model was closed while these sessions were being made: nothing would free them later.
        await Promise.all([batch.session.release(), single?.session.release()]);
        return;
      }
      this.fused = { batch, single };
    } catch (e) {
      this.problem = (e as Error).message;
    }
  }

  /** True when a fused graph is loaded. */
  get loaded(): boolean {
    return this.fused !== null;
  }

  /** The forms loaded: 'batch', and 'single' when one-sample calls have their own form. */
  get forms(): FusedForm[] {
    if (!this.fused) return [];
    return this.fused.single ? ['batch', 'single'] : ['batch'];
  }

  /** Why no fused graph is loaded (undefined when one is). */
  get unavailable(): string | undefined {
    return this.fused ? undefined : this.problem;
  }

  /**
   * Classifies `n` samples in one fused call, after fusing again when `manifest`'s criterion
   * changed. Returns null when no fused graph could be loaded (the caller runs stage by stage).
   * @throws InferenceError when the session fails or returns inconsistent outputs.
   */
  async classify(manifest: Manifest, batch: InputData, n: number, budgets: ResolvedBudget[], topK: number): Promise<ClassifyResult[] | null> {
    // Concurrent callers share one re-fuse for a changed criterion.
    if (this.fused && this.fused.batch.graph.criterion !== manifest.exitPolicy.criterion) {
      await (this.refusing ??= this.load(manifest).finally(() => (this.refusing = undefined)));
    }
    const fused = this.fused;
    if (!fused) return null;
    return n === 1 && fused.single ? this.classifySingle(manifest, batch, budgets[0]!, topK, fused.single) : this.classifyBatch(manifest, batch, n, budgets, topK, fused.batch);
  }

  /** The sessions of the fused graphs loaded (none when not fused). */
  private sessions(): StageSession[] {
    if (!this.fused) return [];
    return this.fused.single ? [this.fused.batch.session, this.fused.single.session] : [this.fused.batch.session];
  }

  /** Releases the fused sessions. */
  async release(): Promise<void> {
    this.released = true;
    const sessions = this.sessions();
    this.fused = null;
    await Promise.all(sessions.map((s) => s.release()));
  }

  /** The fused graphs' feeds: the model input (images or token ids) with per-row thresholds and caps. */
  private feeds(manifest: Manifest, batch: InputData, n: number, budgets: ResolvedBudget[]): Record<string, CoreTensor> {
    const K = manifest.stages.length;
    const thresholds = new Float32Array(n * K);
    const caps = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const b = budgets[i]!;
      for (let k = 0; k < K; k++) thresholds[i * K + k] = float32Threshold(b.thresholds[k]!);
      caps[i] = BigInt(b.lastExit);
    }
    const image = manifest.stages[0]!.inputs.find((t) => t.role.kind === 'image')!.name;
    return {
      [image]: inputTensor(batch, [n, ...sampleDims(manifest)]),
      [FUSED_THRESHOLDS]: { type: 'float32', data: thresholds, dims: [n, K] },
      [FUSED_CAPS]: { type: 'int64', data: caps, dims: [n] },
    };
  }

  /** Counts a fused call in the stats: `reaching[k-1]` rows ran stage k; `logitsRead` logits tensors came back. */
  private count(reaching: number[], logitsRead: number): void {
    if (this.backend.deviceResident) this.stats.logitsDownloads += logitsRead;
    reaching.forEach((rows, k) => {
      this.stats.rowsPerStage[k]! += rows;
      if (rows > 0) this.stats.callsPerStage[k]! += 1;
    });
    this.stats.samples += reaching[0]!;
    this.stats.fusedCalls += 1;
  }

  /** One call of the single-form fused graph: one sample in, the logits of its exit and the exit out. */
  private async classifySingle(manifest: Manifest, batch: InputData, budget: ResolvedBudget, topK: number, fused: LoadedFused<SingleFusedGraph>): Promise<ClassifyResult[]> {
    const K = manifest.stages.length;
    const N = manifest.classNames.length;
    const t0 = performance.now();
    const out = await runStage(fused.session, this.feeds(manifest, batch, 1, [budget]), 'fused graph (single form)');
    const ms = performance.now() - t0;
    const logits = out[fused.graph.logits];
    const exitTensor = out[fused.graph.exit];
    const exit = exitTensor?.type === 'int64' ? Number(exitTensor.data[0]) : NaN;
    if (logits?.type !== 'float32' || isDeviceTensor(logits) || logits.data.length !== N || !(exit >= 1 && exit <= K)) {
      throw new InferenceError('fused graph (single form): the logits or the exit taken are missing or inconsistent.');
    }
    this.count(Array.from({ length: K }, (_, k) => (k < exit ? 1 : 0)), 1);
    return [prediction(logits.data, softmaxRows(logits.data, N), 0, exit, manifest, topK, [ms])];
  }

  /** One call of the batch-form fused graph: per-row thresholds and caps in, each exit's leaving rows out. */
  private async classifyBatch(manifest: Manifest, batch: InputData, n: number, budgets: ResolvedBudget[], topK: number, fused: LoadedFused<BatchFusedGraph>): Promise<ClassifyResult[]> {
    const K = manifest.stages.length;
    const N = manifest.classNames.length;
    const t0 = performance.now();
    const out = await runStage(fused.session, this.feeds(manifest, batch, n, budgets), 'fused graph');
    const ms = performance.now() - t0;
    const results: ClassifyResult[] = new Array(n);
    const leaving: number[] = [];
    for (let k = 1; k <= K; k++) {
      const logits = out[fused.graph.logits[k - 1]!];
      const rows = out[fused.graph.rows[k - 1]!];
      if (logits?.type !== 'float32' || isDeviceTensor(logits) || rows?.type !== 'int64' || logits.dims[0] !== rows.dims[0]) {
        throw new InferenceError(`fused graph: exit ${k}'s outputs are missing or inconsistent.`);
      }
      const probs = softmaxRows(logits.data, N);
      rows.data.forEach((row, r) => {
        const i = Number(row);
        if (!(i >= 0 && i < n) || results[i]) throw new InferenceError(`fused graph: exit ${k} returned row ${i}, out of range or already classified.`);
        results[i] = prediction(logits.data, probs, r * N, k, manifest, topK, [ms]);
      });
      leaving.push(rows.data.length);
    }
    const total = leaving.reduce((a, b) => a + b, 0);
    if (total !== n) throw new InferenceError(`fused graph: ${total} rows came back for ${n}.`);
    // Rows reaching stage k: those leaving at k or later.
    let running = n;
    this.count(
      leaving.map((left) => {
        const here = running;
        running -= left;
        return here;
      }),
      K,
    );
    return results;
  }
}
