/**
 * @module runtime/core/engine
 * {@link EarlyExitEngine}: runs a manifest's stage graphs one after another with real per-sample
 * early exit. After each stage it computes each running sample's confidence, lets those at or
 * above their threshold (or at their cap, or at the last stage) leave, and compacts every carried
 * tensor (and previous logits) to the rows still running before calling the next stage, so stage
 * k only computes the samples that reach it.
 *
 * Independent of any inference library (see {@link StageBackend}) and of node built-ins:
 * hashes use WebCrypto (`globalThis.crypto.subtle`), files come through a `readFile` callback.
 */
import type { Manifest, Stage } from '../../manifest/index.js';
import type { StageBackend, StageSession } from './backend.js';
import { resolveBudgets, type Budget, type ResolvedBudget } from './budget.js';
import { argmaxRow, rowConfidence, softmaxRows } from '../../manifest/confidence.js';
import { InputError, ModelLoadError } from './errors.js';
import { IMAGE_KEY, lastUses, outputKey, sourceKey } from './stage-plan.js';
import { float32Threshold, FUSED_CAPS, FUSED_THRESHOLDS, fuseStageGraphs, type BatchFusedGraph, type FusedForm, type FusedGraph, type SingleFusedGraph } from './fuse-stages.js';
import { isDeviceTensor, selectRows, type CoreTensor, type DeviceCoreTensor, type Float32CoreTensor } from './tensor.js';

/** Where the engine gets its model from. */
export interface EngineSource {
  /** The validated manifest. */
  manifest: Manifest;
  /** Reads a file of the model directory (a path relative to the manifest). */
  readFile(file: string): Promise<Uint8Array>;
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

export interface TopKEntry {
  classIndex: number;
  label: string;
  probability: number;
}

/** The classification of one sample. */
export interface ClassifyResult {
  /** Predicted class (argmax of the exit's logits). */
  classIndex: number;
  label: string;
  /** The exit criterion's confidence at the exit taken. */
  confidence: number;
  /** The most probable classes at the exit taken, most probable first. */
  topK: TopKEntry[];
  /** The exit taken, 1-based. */
  exit: number;
  /** Cumulative MFLOPs per sample of stages 1..exit. */
  mflops: number;
  /** The exit's logits for this sample (one per class): what protocol servers return as the raw output. */
  logits: Float32Array;
  /**
   * Wall time (ms) of each stage call this sample ran through (the whole call, shared by its
   * rows): one entry per stage when run stage by stage; one entry, the fused graph's call, when
   * the batch ran fused (see {@link EarlyExitEngine.execution}).
   */
  stageMs: number[];
}

/** One sample's prediction at one exit, as {@link EarlyExitEngine.stream} yields it. */
export interface ExitPrediction extends ClassifyResult {
  /** The sample's position in the input batch. */
  index: number;
  /** True when the sample leaves at this exit (its classify result); false when it runs on. */
  final: boolean;
}

/** What {@link EarlyExitEngine.stream} yields after each stage. */
export interface StageEvent {
  /** The exit (stage) just computed, 1-based. */
  exit: number;
  /** Wall time of the stage call, ms. */
  stageMs: number;
  /** Every sample that ran this stage, in input order: those leaving (`final`) and those running on. */
  predictions: ExitPrediction[];
  /** The exit's logits, `predictions.length × classes`, row i belonging to predictions[i]. */
  logits: Float32Array;
}

/** Rows each stage session received, summed over classify calls since the last reset. */
export interface EngineStats {
  /** rowsPerStage[k-1]: rows fed to stage k. */
  rowsPerStage: number[];
  /** callsPerStage[k-1]: session runs of stage k. */
  callsPerStage: number[];
  /** Samples classified. */
  samples: number;
  /** Carried tensors read back from the backend's device to drop rows (WebGPU); 0 on CPU backends. */
  deviceDownloads: number;
  /** Classify calls that ran the fused graph (their rows are counted in rowsPerStage too). */
  fusedCalls: number;
}

/** How `classify` runs: one session call per stage, or one call of the fused graph per batch. */
export type Execution = 'staged' | 'fused';

/** SHA-256 of `bytes` as lowercase hex, with WebCrypto. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new ModelLoadError('SHA-256 verification needs WebCrypto (globalThis.crypto.subtle); pass verify: false to skip it.');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

interface StagePlan {
  stage: Stage;
  logitsName: string;
  /** Keys of tensors (earlier outputs, image) whose last use is this stage: dropped after it. */
  lastUses: string[];
  /** Outputs of this stage that later stages read. */
  keepOutputs: string[];
}

function plan(manifest: Manifest): StagePlan[] {
  const lastUse = lastUses(manifest);
  return manifest.stages.map((stage) => {
    const logits = stage.outputs.find((o) => o.role.kind === 'logits');
    if (!logits) throw new ModelLoadError(`stages[${stage.index - 1}] (${stage.file}): no logits output.`);
    return {
      stage,
      logitsName: logits.name,
      lastUses: [...lastUse].filter(([, k]) => k === stage.index).map(([name]) => name),
      keepOutputs: stage.outputs.filter((o) => (lastUse.get(outputKey(stage.index, o.name)) ?? 0) > stage.index).map((o) => o.name),
    };
  });
}

/** A session that runs one call at a time: onnxruntime-web sessions are not re-entrant. */
function serialized(session: StageSession): StageSession {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(feeds) {
      const result = tail.then(() => session.run(feeds));
      tail = result.catch(() => undefined);
      return result;
    },
    // After the calls already queued, so a session replaced mid-call (a re-fuse) finishes them.
    release: () => tail.then(() => session.release()),
  };
}

/** A fused graph and the session running it. */
interface LoadedFused<G extends FusedGraph> {
  session: StageSession;
  graph: G;
}

/** Smoothing of the per-row stage-time estimate that deadlines use. */
const TIME_EMA = 0.2;

/**
 * Runs a multi-exit model stage by stage with per-sample early exit.
 * @example
 * const engine = await EarlyExitEngine.load({ manifest, readFile }, backend);
 * const results = await engine.classify(batch, n, { budget: { avgMflops: 20 }, topK: 3 });
 */
export class EarlyExitEngine {
  readonly stats: EngineStats;
  private current: Manifest;
  private readonly sessions: StageSession[];
  private readonly plans: StagePlan[];
  /** Per stage: smoothed ms per row and ms per call overhead are not separated; ms per row is enough for deadlines. */
  private readonly msPerRow: number[];
  private released = false;
  /**
   * The fused graphs' sessions and output names, for the criterion they decide with: the batch
   * form, and the single form for one-sample calls (null where it did not load).
   */
  private fused: { batch: LoadedFused<BatchFusedGraph>; single: LoadedFused<SingleFusedGraph> | null } | null = null;
  private fusedProblem: string | undefined;
  private refusing: Promise<void> | undefined;

  private constructor(
    manifest: Manifest,
    sessions: StageSession[],
    plans: StagePlan[],
    private readonly backend: StageBackend,
    /** The stage graphs' bytes, kept to fuse again for another criterion; null when fusion is off. */
    private readonly stageBytes: Uint8Array[] | null,
  ) {
    this.current = manifest;
    this.sessions = sessions.map(serialized);
    this.plans = plans;
    this.stats = { rowsPerStage: manifest.stages.map(() => 0), callsPerStage: manifest.stages.map(() => 0), samples: 0, deviceDownloads: 0, fusedCalls: 0 };
    this.msPerRow = manifest.stages.map(() => 0);
  }

  /**
   * Reads, verifies and loads every stage graph.
   * @throws ModelLoadError naming the file when a stage file cannot be read, its SHA-256 differs
   *   from the manifest's, or the backend cannot load it.
   */
  static async load(source: EngineSource, backend: StageBackend, options: EngineLoadOptions = {}): Promise<EarlyExitEngine> {
    const { manifest } = source;
    const plans = plan(manifest);
    const sessions: StageSession[] = [];
    const fuse = options.fused ?? true;
    const files: Uint8Array[] = [];
    try {
      for (const stage of manifest.stages) {
        let bytes: Uint8Array;
        try {
          bytes = await source.readFile(stage.file);
        } catch (e) {
          throw new ModelLoadError(`${stage.file}: cannot read stage ${stage.index}'s graph: ${(e as Error).message}`);
        }
        if (options.verify ?? true) {
          const got = await sha256Hex(bytes);
          if (got !== stage.sha256) {
            throw new ModelLoadError(`${stage.file}: SHA-256 mismatch: the manifest expects ${stage.sha256}, the file has ${got} (the file is corrupt or belongs to another export).`);
          }
        }
        if (fuse) files.push(bytes);
        try {
          sessions.push(await backend.createSession(bytes, stage));
        } catch (e) {
          throw new ModelLoadError(`${stage.file}: cannot load stage ${stage.index}'s graph: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      await Promise.all(sessions.map((s) => s.release()));
      throw e;
    }
    const engine = new EarlyExitEngine(manifest, sessions, plans, backend, fuse ? files : null);
    if (fuse) await engine.loadFused();
    return engine;
  }

  /**
   * Fuses the stage graphs for the current criterion and loads the result; on failure the engine
   * stays staged and {@link fusedUnavailable} says why.
   */
  private async loadFused(): Promise<void> {
    const old = this.fusedSessions();
    this.fused = null;
    await Promise.all(old.map((s) => s.release()));
    if (!this.stageBytes) return;
    const create = this.backend.createFusedSession?.bind(this.backend);
    if (!create) {
      this.fusedProblem = 'the backend does not load fused graphs';
      return;
    }
    const { criterion } = this.current.exitPolicy;
    const load = async <G extends FusedGraph>(graph: G): Promise<LoadedFused<G> | null> => {
      const session = await create(graph.bytes);
      return session && { session: serialized(session), graph };
    };
    try {
      const batch = await load(fuseStageGraphs(this.current, this.stageBytes, criterion, 'batch'));
      this.fusedProblem = batch ? undefined : 'the execution provider runs stage by stage';
      if (!batch) return;
      // The single form only speeds up one-sample calls; without it they run the batch form.
      const single = await Promise.resolve()
        .then(() => load(fuseStageGraphs(this.current, this.stageBytes!, criterion, 'single')))
        .catch(() => null);
      this.fused = { batch, single };
    } catch (e) {
      this.fusedProblem = (e as Error).message;
    }
  }

  /** How classify calls without a deadline run: 'fused' when the fused graph loaded, else 'staged'. */
  get execution(): Execution {
    return this.fused ? 'fused' : 'staged';
  }

  /** The sessions of the fused graphs loaded (none when not fused). */
  private fusedSessions(): StageSession[] {
    if (!this.fused) return [];
    return this.fused.single ? [this.fused.batch.session, this.fused.single.session] : [this.fused.batch.session];
  }

  /** The fused graph forms loaded: 'batch', and 'single' when one-sample calls have their own form. */
  get fusedForms(): FusedForm[] {
    if (!this.fused) return [];
    return this.fused.single ? ['batch', 'single'] : ['batch'];
  }

  /** Why classify runs stage by stage although fusion was asked for (undefined when fused or off). */
  get fusedUnavailable(): string | undefined {
    return this.fused ? undefined : this.fusedProblem;
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

  /** The per-sample input dims [C, H, W]. */
  get sampleDims(): [number, number, number] {
    const [, c, h, w] = this.current.input.dims;
    return [c, h, w];
  }

  /** Sets the {@link stats} counters back to zero. */
  resetStats(): void {
    this.stats.rowsPerStage.fill(0);
    this.stats.callsPerStage.fill(0);
    this.stats.samples = 0;
    this.stats.deviceDownloads = 0;
    this.stats.fusedCalls = 0;
  }

  /**
   * Classifies `n` samples of `batch` (NCHW, float32, preprocessed as the manifest says).
   * Results come back in input order.
   * @throws InputError when `batch` does not hold n×C×H×W values or `topK` is invalid.
   * @throws BudgetError when a budget cannot be applied (see {@link resolveBudget}).
   */
  async classify(batch: Float32Array, n: number, options: ClassifyOptions = {}): Promise<ClassifyResult[]> {
    const { budgets, topK } = this.validate(batch, n, options);
    if (this.fused && n > 0 && budgets.every((b) => b.deadlineMs === Infinity)) {
      // Concurrent callers share one re-fuse for a changed criterion.
      if (this.fused.batch.graph.criterion !== this.current.exitPolicy.criterion) await (this.refusing ??= this.loadFused().finally(() => (this.refusing = undefined)));
      const fused = this.fused;
      if (fused) return n === 1 && fused.single ? this.classifySingle(batch, budgets[0]!, topK, fused.single) : this.classifyFused(batch, n, budgets, topK, fused.batch);
    }
    const results: ClassifyResult[] = new Array(n);
    for await (const event of this.stages(batch, n, budgets, topK, false)) {
      for (const { index, final: _final, ...result } of event.predictions) results[index] = result;
    }
    return results;
  }

  /**
   * Like {@link classify}, but yields after every stage the prediction of each sample that ran it
   * (anytime use): samples leaving there are marked `final`. Stopping the iteration early stops
   * the computation; the input is checked before the first stage runs.
   */
  stream(batch: Float32Array, n: number, options: ClassifyOptions = {}): AsyncGenerator<StageEvent, void, undefined> {
    // Validated here, so bad input throws at the call, not at the first `next()`.
    const { budgets, topK } = this.validate(batch, n, options);
    return this.stages(batch, n, budgets, topK, true);
  }

  private validate(batch: Float32Array, n: number, options: ClassifyOptions): { budgets: ResolvedBudget[]; topK: number } {
    if (this.released) throw new InputError('classify: the engine was released.');
    const [C, H, W] = this.sampleDims;
    const per = C * H * W;
    if (!(batch instanceof Float32Array)) throw new InputError(`input: expected a Float32Array, got ${Object.prototype.toString.call(batch)}.`);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`n: expected a non-negative integer sample count, got ${n}.`);
    if (batch.length !== n * per) {
      throw new InputError(`input: expected ${n} × ${C}×${H}×${W} = ${n * per} float32 values (NCHW, ${n} sample(s) of [${C}, ${H}, ${W}]), got ${batch.length}.`);
    }
    const N = this.current.classNames.length;
    const topK = options.topK ?? Math.min(5, N);
    if (!Number.isInteger(topK) || topK < 0) throw new InputError(`topK: expected a non-negative integer, got ${topK}.`);
    return { budgets: resolveBudgets(options.budget, n, this.current), topK };
  }

  /** The fused graphs' feeds: the images with per-row thresholds and caps. */
  private fusedFeeds(batch: Float32Array, n: number, budgets: ResolvedBudget[]): Record<string, CoreTensor> {
    const K = this.numExits;
    const [C, H, W] = this.sampleDims;
    const thresholds = new Float32Array(n * K);
    const caps = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const b = budgets[i]!;
      for (let k = 0; k < K; k++) thresholds[i * K + k] = float32Threshold(b.thresholds[k]!);
      caps[i] = BigInt(b.lastExit);
    }
    const image = this.current.stages[0]!.inputs.find((t) => t.role.kind === 'image')!.name;
    return {
      [image]: { type: 'float32', data: batch, dims: [n, C, H, W] },
      [FUSED_THRESHOLDS]: { type: 'float32', data: thresholds, dims: [n, K] },
      [FUSED_CAPS]: { type: 'int64', data: caps, dims: [n] },
    };
  }

  /** Counts a fused call in {@link stats}: `reaching[k-1]` rows ran stage k. */
  private countFused(reaching: number[]): void {
    reaching.forEach((rows, k) => {
      this.stats.rowsPerStage[k]! += rows;
      if (rows > 0) this.stats.callsPerStage[k]! += 1;
    });
    this.stats.samples += reaching[0]!;
    this.stats.fusedCalls += 1;
  }

  /** One call of the single-form fused graph: one sample in, the logits of its exit and the exit out. */
  private async classifySingle(batch: Float32Array, budget: ResolvedBudget, topK: number, fused: LoadedFused<SingleFusedGraph>): Promise<ClassifyResult[]> {
    const manifest = this.current;
    const K = this.numExits;
    const N = manifest.classNames.length;
    const t0 = performance.now();
    const out = await fused.session.run(this.fusedFeeds(batch, 1, [budget]));
    const ms = performance.now() - t0;
    const logits = out[fused.graph.logits];
    const exitTensor = out[fused.graph.exit];
    const exit = exitTensor?.type === 'int64' ? Number(exitTensor.data[0]) : NaN;
    if (logits?.type !== 'float32' || isDeviceTensor(logits) || logits.data.length !== N || !(exit >= 1 && exit <= K)) {
      throw new ModelLoadError('fused graph (single form): the logits or the exit taken are missing or inconsistent.');
    }
    this.countFused(Array.from({ length: K }, (_, k) => (k < exit ? 1 : 0)));
    return [prediction(logits.data, softmaxRows(logits.data, N), 0, exit, manifest, topK, [ms])];
  }

  /** One call of the batch-form fused graph: per-row thresholds and caps in, each exit's leaving rows out. */
  private async classifyFused(batch: Float32Array, n: number, budgets: ResolvedBudget[], topK: number, fused: LoadedFused<BatchFusedGraph>): Promise<ClassifyResult[]> {
    const manifest = this.current;
    const K = this.numExits;
    const N = manifest.classNames.length;
    const t0 = performance.now();
    const out = await fused.session.run(this.fusedFeeds(batch, n, budgets));
    const ms = performance.now() - t0;
    const results: ClassifyResult[] = new Array(n);
    const leaving: number[] = [];
    for (let k = 1; k <= K; k++) {
      const logits = out[fused.graph.logits[k - 1]!];
      const rows = out[fused.graph.rows[k - 1]!];
      if (logits?.type !== 'float32' || isDeviceTensor(logits) || rows?.type !== 'int64' || logits.dims[0] !== rows.dims[0]) {
        throw new ModelLoadError(`fused graph: exit ${k}'s outputs are missing or inconsistent.`);
      }
      const probs = softmaxRows(logits.data, N);
      rows.data.forEach((row, r) => {
        const i = Number(row);
        if (!(i >= 0 && i < n) || results[i]) throw new ModelLoadError(`fused graph: exit ${k} returned row ${i}, out of range or already classified.`);
        results[i] = prediction(logits.data, probs, r * N, k, manifest, topK, [ms]);
      });
      leaving.push(rows.data.length);
    }
    if (leaving.reduce((a, b) => a + b, 0) !== n) throw new ModelLoadError(`fused graph: ${leaving.reduce((a, b) => a + b, 0)} rows came back for ${n}.`);
    // Rows reaching stage k: those leaving at k or later.
    let running = n;
    const reaching = leaving.map((left) => {
      const here = running;
      running -= left;
      return here;
    });
    this.countFused(reaching);
    return results;
  }

  private async *stages(batch: Float32Array, n: number, budgets: ResolvedBudget[], topK: number, everyExit: boolean): AsyncGenerator<StageEvent, void, undefined> {
    if (n === 0) return;
    const start = performance.now();
    const manifest = this.current;
    const { classNames, exitPolicy } = manifest;
    const N = classNames.length;
    const K = this.numExits;
    const [C, H, W] = this.sampleDims;

    const store = new Map<string, Float32CoreTensor | DeviceCoreTensor>();
    store.set(IMAGE_KEY, { type: 'float32', data: batch, dims: [n, C, H, W] });
    let active = Int32Array.from({ length: n }, (_, i) => i);
    const stageMs: number[][] = Array.from({ length: n }, () => []);
    const drop = (name: string) => {
      const t = store.get(name);
      if (t && isDeviceTensor(t)) t.dispose();
      store.delete(name);
    };

    // finally: device buffers are freed however the loop ends (done, an error, a consumer's break).
    try {
      for (const p of this.plans) {
        const k = p.stage.index;
        const m = active.length;
        const feeds: Record<string, CoreTensor> = {};
        for (const input of p.stage.inputs) {
          const r = input.role;
          if (r.kind === 'row-indices') {
            // Tensors are already compacted, so the rows to gather are all of them.
            feeds[input.name] = { type: 'int64', data: BigInt64Array.from({ length: m }, (_, i) => BigInt(i)), dims: [m] };
            continue;
          }
          const t = store.get(sourceKey(input)!);
          if (!t) throw new Error(`internal: stage ${k} input "${input.name}" has no source tensor.`);
          feeds[input.name] = t;
        }
        const t0 = performance.now();
        const out = await this.sessions[k - 1]!.run(feeds);
        const ms = performance.now() - t0;
        this.stats.rowsPerStage[k - 1]! += m;
        this.stats.callsPerStage[k - 1]! += 1;
        this.msPerRow[k - 1] = this.msPerRow[k - 1]! === 0 ? ms / m : (1 - TIME_EMA) * this.msPerRow[k - 1]! + (TIME_EMA * ms) / m;

        const logits = this.output(out, p.logitsName, k, m);
        if (isDeviceTensor(logits)) throw new ModelLoadError(`${p.stage.file}: the backend left the logits on its device; the engine reads them on the CPU.`);
        for (const name of p.keepOutputs) store.set(outputKey(k, name), this.output(out, name, k, m));
        // Outputs no later stage reads (none, by construction) and inputs used for the last time.
        for (const [name, t] of Object.entries(out)) if (t !== logits && !p.keepOutputs.includes(name) && isDeviceTensor(t)) t.dispose();
        for (const name of p.lastUses) drop(name);

        const probs = softmaxRows(logits.data, N);
        const decisions = new Uint8Array(m);
        let staying = 0;
        for (let r = 0; r < m; r++) {
          const b = budgets[active[r]!]!;
          const conf = rowConfidence(probs, r * N, N, exitPolicy.criterion);
          stageMs[active[r]!]!.push(ms);
          const stays = k < K && k < b.lastExit && !(conf >= b.thresholds[k - 1]!);
          decisions[r] = stays ? 1 : 0;
          if (stays) staying++;
        }
        // Deadlines: a sample stays only if the next stage, at its expected time for the rows
        // running on, still ends in time; otherwise it leaves with this exit's prediction.
        if (staying > 0 && k < K) {
          const finish = performance.now() - start + this.msPerRow[k]! * staying;
          for (let r = 0; r < m; r++) {
            if (decisions[r] === 1 && finish > budgets[active[r]!]!.deadlineMs) {
              decisions[r] = 0;
              staying--;
            }
          }
        }
        const predictions: ExitPrediction[] = [];
        const keep: number[] = [];
        for (let r = 0; r < m; r++) {
          const final = decisions[r] === 0;
          if (!final) keep.push(r);
          if (!final && !everyExit) continue;
          const i = active[r]!;
          predictions.push({ index: i, final, ...prediction(logits.data, probs, r * N, k, manifest, topK, final ? stageMs[i]! : [...stageMs[i]!]) });
        }
        if (keep.length === 0) this.stats.samples += n;
        // classify() ignores the logits; stream() yields every row that ran, in order.
        yield { exit: k, stageMs: ms, predictions, logits: logits.data };
        if (keep.length === 0) return;
        if (keep.length < m) {
          for (const [name, t] of store) {
            // Dropping rows needs the values on the CPU; the next stage uploads the compacted ones.
            const cpu = isDeviceTensor(t) ? { type: 'float32' as const, data: await t.download(), dims: t.dims } : t;
            if (isDeviceTensor(t)) {
              t.dispose();
              this.stats.deviceDownloads++;
            }
            store.set(name, selectRows(cpu, keep));
          }
          active = Int32Array.from(keep, (r) => active[r]!);
        }
      }
    } finally {
      for (const name of [...store.keys()]) drop(name);
    }
  }

  private output(out: Record<string, CoreTensor>, name: string, stage: number, rows: number): Float32CoreTensor | DeviceCoreTensor {
    const file = this.current.stages[stage - 1]!.file;
    const t = out[name];
    if (!t) throw new ModelLoadError(`${file}: the graph returned no output "${name}" (outputs: ${Object.keys(out).join(', ')}).`);
    if (t.type !== 'float32') throw new ModelLoadError(`${file}: output "${name}" is ${t.type}, expected float32.`);
    if (t.dims[0] !== rows) throw new ModelLoadError(`${file}: output "${name}" has ${t.dims[0]} rows for ${rows} input rows.`);
    return t;
  }

  /** Releases every stage session. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.all([...this.sessions, ...this.fusedSessions()].map((s) => s.release()));
  }
}

/** One row's result at exit `exit` (1-based) from its logits and probabilities at `off`. */
function prediction(logits: Float32Array, probs: Float32Array, off: number, exit: number, manifest: Manifest, topK: number, stageMs: number[]): ClassifyResult {
  const { classNames, exitPolicy } = manifest;
  const N = classNames.length;
  const classIndex = argmaxRow(logits, off, N);
  return {
    classIndex,
    label: classNames[classIndex]!,
    confidence: rowConfidence(probs, off, N, exitPolicy.criterion),
    topK: topKEntries(logits, probs, off, N, topK, classNames),
    exit,
    mflops: manifest.stages[exit - 1]!.cumulativeMflops,
    logits: logits.slice(off, off + N),
    stageMs,
  };
}

/** Top-k classes ordered by logits (consistent with the argmax prediction), with probabilities. */
function topKEntries(logits: Float32Array, probs: Float32Array, off: number, N: number, k: number, names: readonly string[]): TopKEntry[] {
  if (k === 0) return [];
  const idx = Array.from({ length: N }, (_, c) => c);
  idx.sort((a, b) => logits[off + b]! - logits[off + a]! || a - b);
  return idx.slice(0, Math.min(k, N)).map((c) => ({ classIndex: c, label: names[c]!, probability: probs[off + c]! }));
}
