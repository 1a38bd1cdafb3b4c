/**
 * @module runtime/core/engine
 * {@link EarlyExitEngine}: a multi-exit model with real per-sample early exit. It checks the
 * input and budgets, then runs the batch either stage by stage (./staged-run.ts: row compaction,
 * deadlines, anytime `stream`) or in one call of the fused graph (./fused-runner.ts). The stage
 * files are read and verified by ./model-files.ts; results are formatted by ./results.ts.
 *
 * Independent of any inference library (see {@link StageBackend}) and of node built-ins.
 */
import type { Manifest } from '../../manifest/index.js';
import type { StageBackend } from './backend.js';
import { resolveBudgets, type Budget, type ResolvedBudget } from './budget.js';
import { InputError, ModelClosedError } from './errors.js';
import type { FusedForm } from './fuse-stages.js';
import { FusedRunner } from './fused-runner.js';
import { loadStageGraphs, type ModelFileReader } from './model-files.js';
import type { ClassifyResult, StageEvent } from './results.js';
import { StagedRunner } from './staged-run.js';
import { checkInputBatch, sampleDims } from './model-input.js';
import type { InputData } from './tensor.js';
import { newStats, resetStats, type EngineStats } from './stats.js';

export { sha256Hex } from './model-files.js';
export type { ClassifyResult, ExitPrediction, StageEvent, TopKEntry } from './results.js';
export type { EngineStats } from './stats.js';

/** Where the engine gets its model from. */
export interface EngineSource {
  /** The validated manifest. */
  manifest: Manifest;
  /** Reads a file of the model directory (a path relative to the manifest). */
  readFile: ModelFileReader;
}

export interface EngineLoadOptions {
  /** Check each stage file's SHA-256 against the manifest. @defaultValue true */
  verify?: boolean;
  /**
   * Let `classify` run the fused early-exit graph, composed at load from the stage graphs, where
   * the backend offers it: one session call per batch instead of one per stage, with the same
   * exit decisions (see ./fuse-stages.ts). Calls with a deadline, and `stream`, always run stage
   * by stage. @defaultValue true
   */
  fused?: boolean;
}

/** Options of {@link EarlyExitEngine.classify} and {@link EarlyExitEngine.stream}. */
export interface ClassifyOptions {
  /** One budget for the batch, or one per sample; none: the manifest's default policy. */
  budget?: Budget | readonly Budget[] | undefined;
  /** How many classes to list in `topK`. @defaultValue 5 (at most the number of classes) */
  topK?: number;
}

/** How `classify` runs: one session call per stage, or one call of the fused graph per batch. */
export type Execution = 'staged' | 'fused';

/**
 * Runs a multi-exit model with per-sample early exit.
 * @example
 * const engine = await EarlyExitEngine.load({ manifest, readFile }, backend);
 * const results = await engine.classify(batch, n, { budget: { avgMflops: 20 }, topK: 3 });
 */
export class EarlyExitEngine {
  readonly stats: EngineStats;
  private current: Manifest;
  private released = false;

  private constructor(
    manifest: Manifest,
    private readonly staged: StagedRunner,
    private readonly fusedRunner: FusedRunner | null,
    stats: EngineStats,
  ) {
    this.current = manifest;
    this.stats = stats;
  }

  /**
   * Reads, verifies and loads every stage graph (and the fused graph, unless `fused: false`).
   * @throws ModelLoadError naming the file when a stage file cannot be read, its SHA-256 differs
   *   from the manifest's, or the backend cannot load it.
   */
  static async load(source: EngineSource, backend: StageBackend, options: EngineLoadOptions = {}): Promise<EarlyExitEngine> {
    const { manifest } = source;
    const fuse = options.fused ?? true;
    const stats = newStats(manifest.stages.length);
    const { sessions, bytes } = await loadStageGraphs(manifest, source.readFile, backend, { verify: options.verify ?? true, keepBytes: fuse });
    let staged: StagedRunner;
    try {
      staged = new StagedRunner(manifest, sessions, stats, backend);
    } catch (e) {
      await Promise.all(sessions.map((s) => s.release()));
      throw e;
    }
    const fused = fuse ? new FusedRunner(backend, bytes, stats) : null;
    await fused?.load(manifest);
    return new EarlyExitEngine(manifest, staged, fused, stats);
  }

  /** How classify calls without a deadline run: 'fused' when the fused graph loaded, else 'staged'. */
  get execution(): Execution {
    return this.fusedRunner?.loaded ? 'fused' : 'staged';
  }

  /** The fused graph forms loaded: 'batch', and 'single' when one-sample calls have their own form. */
  get fusedForms(): FusedForm[] {
    return this.fusedRunner?.forms ?? [];
  }

  /** Why classify runs stage by stage although fusion was asked for (undefined when fused or off). */
  get fusedUnavailable(): string | undefined {
    return this.fusedRunner?.unavailable;
  }

  /** The manifest, with the exit policy and calibration table in use (see {@link setPolicy}). */
  get manifest(): Manifest {
    return this.current;
  }

  /**
   * Replaces the exit criterion, default policy and calibration table (what `calibrate` computes);
   * the stage graphs stay. Budgets resolved afterwards use the new table.
   */
  setPolicy(exitPolicy: Manifest['exitPolicy'], calibration: Manifest['calibration']): void {
    this.current = { ...this.current, exitPolicy, calibration };
  }

  /** Number of exits (stages). */
  get numExits(): number {
    return this.current.stages.length;
  }

  /** The per-sample input dims: [C, H, W] for images, [sequence] for token ids. */
  get sampleDims(): number[] {
    return sampleDims(this.current);
  }

  /** Sets the {@link stats} counters back to zero. */
  resetStats(): void {
    resetStats(this.stats);
  }

  /**
   * Classifies `n` samples of `batch`: NCHW float32 preprocessed as the manifest says, or int64
   * token ids `[n, sequence]` for a model whose input layout is `tokens`.
   * Results come back in input order.
   * @throws InputError when `batch` is not of the input's element type or size, or `topK` is invalid.
   * @throws BudgetError when a budget cannot be applied (see {@link resolveBudget}).
   * @throws InferenceError when a session fails to run or returns outputs that do not fit.
   * @throws ModelClosedError after {@link release}.
   */
  async classify(batch: InputData, n: number, options: ClassifyOptions = {}): Promise<ClassifyResult[]> {
    const { budgets, topK } = this.validate(batch, n, options);
    if (this.fusedRunner?.loaded && n > 0 && budgets.every((b) => b.deadlineMs === Infinity)) {
      const results = await this.fusedRunner.classify(this.current, batch, n, budgets, topK);
      if (results) return results;
    }
    const results: ClassifyResult[] = new Array(n);
    for await (const event of this.staged.run(this.current, batch, n, budgets, topK, false)) {
      for (const { index, final: _final, ...result } of event.predictions) results[index] = result;
    }
    return results;
  }

  /**
   * Like {@link classify}, but yields after every stage the prediction of each sample that ran it
   * (anytime use): samples leaving there are marked `final`. Stopping the iteration early stops
   * the computation; the input is checked before the first stage runs.
   */
  stream(batch: InputData, n: number, options: ClassifyOptions = {}): AsyncGenerator<StageEvent, void, undefined> {
    // Validated here, so bad input throws at the call, not at the first `next()`.
    const { budgets, topK } = this.validate(batch, n, options);
    return this.staged.run(this.current, batch, n, budgets, topK, true);
  }

  private validate(batch: InputData, n: number, options: ClassifyOptions): { budgets: ResolvedBudget[]; topK: number } {
    if (this.released) throw new ModelClosedError('classify: the model was closed (its sessions are released); load it again.');
    checkInputBatch(this.current, batch, n);
    const N = this.current.classNames.length;
    const topK = options.topK ?? Math.min(5, N);
    if (!Number.isInteger(topK) || topK < 0) throw new InputError(`topK: expected a non-negative integer, got ${topK}.`);
    return { budgets: resolveBudgets(options.budget, n, this.current), topK };
  }

  /** True after {@link release}. */
  get closed(): boolean {
    return this.released;
  }

  /** Releases every stage session and fused session (after the runs already queued). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.all([this.staged.release(), this.fusedRunner?.release()]);
  }
}
