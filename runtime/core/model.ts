/**
 * @module runtime/core/model
 * {@link AdaptiveModelBase}: the embedded API shared by runtime/node and runtime/web. It turns
 * inputs (one image, several, or a preprocessed tensor) into a batch, and offers classify,
 * stream (anytime predictions), calibrate (a new threshold table from a labelled set) and close
 * over the {@link EarlyExitEngine}. The platform supplies the image decoder.
 */
import type { ExitCriterion, Manifest } from '../../manifest/index.js';
import { budgetedBatch, defaultPolicy, exitScores, manifestPolicy, type BudgetPoint, type DefaultPolicy } from '../../calibration/index.js';
import { EarlyExitEngine, type EngineLoadOptions, type EngineSource, type ClassifyOptions, type ClassifyResult, type EngineStats, type Execution, type StageEvent } from './engine.js';
import type { StageBackend } from './backend.js';
import { InputError, ModelClosedError } from './errors.js';
import { writePixels, type Pixels } from './preprocess.js';
import { checkInputBatch, sampleDims } from './model-input.js';
import type { InputData } from './tensor.js';

/**
 * A preprocessed batch: NCHW float32 values and their dims [n, C, H, W], or, for a model whose
 * input layout is `tokens`, int64 token ids and their dims [n, sequence].
 */
export interface TensorInput {
  readonly data: InputData;
  readonly dims: readonly number[];
}

/** Decodes one image of the platform's kind and resizes it as the manifest's preprocessing says. */
export type ImageDecoder<I> = (image: I, manifest: Manifest, what: string) => Promise<Pixels>;

/** What classify, stream and calibrate take: a preprocessed tensor, one image, or several. */
export type ModelInput<I> = TensorInput | I | readonly I[];

/** A labelled set for {@link AdaptiveModelBase.calibrate}. */
export interface LabelledSet<I> {
  input: ModelInput<I>;
  /** The true class index of each sample. */
  labels: ArrayLike<number>;
}

export interface CalibrateOptions<I> {
  /** Exit criterion of the new table. @defaultValue the manifest's */
  criterion?: ExitCriterion;
  /** Exit-distribution parameters p. @defaultValue 0.05, 0.10, … 2.00 (spec §6.2) */
  ps?: readonly number[];
  /** Accuracy points below the last exit the default policy may lose (on the calibration set). @defaultValue 0.5 */
  tolerance?: number;
  /** A second labelled set to report test accuracy on. @defaultValue the calibration set */
  test?: LabelledSet<I>;
  /** Samples per engine call. @defaultValue 256 */
  batchSize?: number;
  /** Called after each engine call with the samples done so far and the total (calibration set, then test set). */
  onProgress?: (done: number, total: number, set: 'calibration' | 'test') => void;
}

/** The table {@link AdaptiveModelBase.calibrate} computed and now uses. */
export interface CalibrationResult {
  exitPolicy: Manifest['exitPolicy'];
  calibration: Manifest['calibration'];
  /** Top-1 percent of each exit on the calibration set. */
  exitAccuracy: number[];
}

/**
 * Loads the engine of a platform model on `given` (a backend the caller passed) or `own` (one the
 * platform class made, released when the load fails).
 */
export async function loadModelEngine(source: EngineSource, given: StageBackend | undefined, own: StageBackend | undefined, options: EngineLoadOptions): Promise<EarlyExitEngine> {
  try {
    return await EarlyExitEngine.load(source, (given ?? own)!, { verify: options.verify ?? true, fused: options.fused ?? true });
  } catch (e) {
    await own?.release?.();
    throw e;
  }
}

function isTensorInput(x: unknown): x is TensorInput {
  if (typeof x !== 'object' || x === null || !('dims' in x) || !('data' in x)) return false;
  const data = (x as TensorInput).data;
  return data instanceof Float32Array || data instanceof BigInt64Array;
}

/**
 * The early-exit model API, independent of the inference library and platform.
 * @typeParam I the platform's image type (encoded bytes, a file path, an ImageBitmap, …).
 */
export class AdaptiveModelBase<I> {
  protected readonly engine: EarlyExitEngine;
  private readonly decode: ImageDecoder<I>;

  /**
   * @param ownBackend the backend the platform class made for this model (not one the caller
   *   passed): released on {@link close}.
   */
  protected constructor(
    engine: EarlyExitEngine,
    decode: ImageDecoder<I>,
    private readonly ownBackend?: StageBackend,
  ) {
    this.engine = engine;
    this.decode = decode;
  }

  /** The manifest, with the exit policy and calibration table in use. */
  get manifest(): Manifest {
    return this.engine.manifest;
  }

  /** How classify calls without a deadline run ('fused': one call of the fused graph per batch). */
  get execution(): Execution {
    return this.engine.execution;
  }

  /** Rows each stage received since load or the last {@link resetStats}. */
  get stats(): EngineStats {
    return this.engine.stats;
  }

  resetStats(): void {
    this.engine.resetStats();
  }

  /**
   * Classifies one image, several images, or a preprocessed tensor (dims [n, C, H, W] equal to
   * the manifest's input); one result per sample, in input order.
   * @throws InputError for an input that does not fit the model or an undecodable image;
   *   BudgetError for a budget that cannot be applied; InferenceError when a session fails;
   *   ModelClosedError after {@link close}.
   */
  async classify(input: ModelInput<I>, options: ClassifyOptions = {}): Promise<ClassifyResult[]> {
    this.assertOpen('classify');
    const { data, n } = await this.modelInput(input);
    return this.engine.classify(data, n, options);
  }

  /**
   * Yields, after every stage, the prediction of each sample that ran it, so a caller can show or
   * use each exit as it arrives; samples leaving there (under the budget) are marked `final`.
   * Pass `budget: { thresholds: Array(K).fill(Infinity) }` to see every exit. Breaking out of
   * the loop stops the computation.
   */
  async *stream(input: ModelInput<I>, options: ClassifyOptions = {}): AsyncGenerator<StageEvent, void, undefined> {
    this.assertOpen('stream');
    const { data, n } = await this.modelInput(input);
    yield* this.engine.stream(data, n, options);
  }

  /**
   * Recomputes the threshold table (budgeted batch, spec §6.2) on a labelled set: every exit runs
   * on every sample, thresholds are found per p, and the default policy is the cheapest point
   * within `tolerance` of the last exit's accuracy. The model uses the new table from then on
   * (the files on disk stay as they are).
   * @throws InputError for labels that do not fit the input or the classes.
   */
  async calibrate(set: LabelledSet<I>, options: CalibrateOptions<I> = {}): Promise<CalibrationResult> {
    this.assertOpen('calibrate');
    const criterion = options.criterion ?? this.manifest.exitPolicy.criterion;
    const progress = options.onProgress;
    const val = exitScores(await this.exitOutputs(set, options.batchSize ?? 256, 'calibration set', progress && ((d, t) => progress(d, t, 'calibration'))), criterion);
    const test = options.test ? exitScores(await this.exitOutputs(options.test, options.batchSize ?? 256, 'test set', progress && ((d, t) => progress(d, t, 'test'))), criterion) : val;
    const mflops = this.manifest.stages.map((s) => s.cumulativeMflops);
    const table: BudgetPoint[] = budgetedBatch({ val, test, mflops, ...(options.ps ? { ps: options.ps } : {}) });
    const exitAccuracy = val.predictions.map((pred) => (100 * pred.reduce((a, c, i) => a + (c === val.labels[i] ? 1 : 0), 0)) / Math.max(1, val.count));
    const testLast = test.predictions.at(-1)!;
    const chosen: DefaultPolicy = defaultPolicy(table, exitAccuracy.at(-1)!, options.tolerance ?? 0.5);
    const policy = manifestPolicy(criterion, table, chosen, {
      numExits: mflops.length,
      totalMflops: mflops.at(-1)!,
      valAccuracy: exitAccuracy.at(-1)!,
      testAccuracy: (100 * testLast.reduce((a, c, i) => a + (c === test.labels[i] ? 1 : 0), 0)) / Math.max(1, test.count),
    });
    this.engine.setPolicy(policy.exitPolicy, policy.calibration);
    return { ...policy, exitAccuracy };
  }

  /** Releases the stage sessions; later calls throw {@link ModelClosedError}. */
  async close(): Promise<void> {
    if (this.engine.closed) return;
    await this.engine.release();
    await this.ownBackend?.release?.();
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.engine.closed;
  }

  /** @throws ModelClosedError after {@link close} (checked before any image is decoded). */
  private assertOpen(what: string): void {
    if (this.engine.closed) throw new ModelClosedError(`${what}: the model was closed (its sessions are released); load it again.`);
  }

  /** Every exit's logits on a labelled set, in chunks of `batchSize`. */
  private async exitOutputs(set: LabelledSet<I>, batchSize: number, what: string, onProgress?: (done: number, total: number) => void) {
    // A list of images is decoded a chunk at a time (a whole calibration set of decoded images
    // would need n·C·H·W floats at once); a tensor is already in memory.
    const images = Array.isArray(set.input) ? (set.input as readonly I[]) : undefined;
    const whole = images ? undefined : await this.modelInput(set.input);
    const n = images ? images.length : whole!.n;
    const N = this.manifest.classNames.length;
    const K = this.manifest.stages.length;
    const labels = set.labels;
    if (!labels || labels.length !== n) throw new InputError(`${what}: expected ${n} labels (one per sample), got ${labels?.length}.`);
    const intLabels = Int32Array.from({ length: n }, (_, i) => {
      const l = labels[i]!;
      if (!Number.isInteger(l) || l < 0 || l >= N) throw new InputError(`${what}: label ${i} is ${l}; expected a class index in 0..${N - 1}.`);
      return l;
    });
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize: expected a positive integer, got ${batchSize}.`);
    const logits = Array.from({ length: K }, () => new Float32Array(n * N));
    const per = whole ? whole.data.length / Math.max(1, n) : 0;
    const everyExit = { thresholds: new Array<number>(K).fill(Infinity) };
    for (let o = 0; o < n; o += batchSize) {
      const m = Math.min(batchSize, n - o);
      const chunk = images ? (await this.modelInput(images.slice(o, o + m))).data : whole!.data.subarray(o * per, (o + m) * per);
      for await (const e of this.engine.stream(chunk, m, { budget: everyExit, topK: 0 })) {
        logits[e.exit - 1]!.set(e.logits, o * N);
      }
      onProgress?.(o + m, n);
    }
    return { numExits: K, numClasses: N, count: n, logits, labels: intLabels };
  }

  /**
   * The input as one preprocessed NCHW float32 batch, for image models (see {@link modelInput}
   * for any model).
   * @throws InputError for an input that does not fit the model, an undecodable image, or a model
   *   whose input is token ids.
   */
  async preprocess(input: ModelInput<I>): Promise<{ data: Float32Array; n: number }> {
    const { data, n } = await this.modelInput(input);
    if (!(data instanceof Float32Array)) throw new InputError(`input: this model takes ${this.manifest.input.dtype} token ids; use modelInput() for its batches.`);
    return { data, n };
  }

  /**
   * The input as one batch of what the engine takes (what classify feeds it): preprocessed NCHW
   * float32 images, or int64 token ids. For callers that gather several inputs into one batch
   * themselves, as the HTTP server does.
   * @throws InputError for an input that does not fit the model or an undecodable image.
   */
  async modelInput(input: ModelInput<I>): Promise<{ data: InputData; n: number }> {
    const { input: declared } = this.manifest;
    if (isTensorInput(input)) {
      const dims = input.dims;
      const want = sampleDims(this.manifest);
      if (!Array.isArray(dims) || dims.length !== want.length + 1 || want.some((d, i) => dims[i + 1] !== d) || !Number.isInteger(dims[0]) || dims[0]! < 0) {
        throw new InputError(`input.dims: expected [n, ${want.join(', ')}] (${declared.layout}, as manifest.input.dims ${JSON.stringify(declared.dims)}), got ${JSON.stringify(dims)}.`);
      }
      const n = dims[0]!;
      const count = n * want.reduce((x, y) => x * y, 1);
      if (input.data.length !== count) {
        throw new InputError(`input.data: expected ${n}×${want.join('×')} = ${count} values for dims ${JSON.stringify(dims)}, got ${input.data.length}.`);
      }
      checkInputBatch(this.manifest, input.data, n);
      return { data: input.data, n };
    }
    if (declared.layout !== 'NCHW') {
      throw new InputError(`input: this model takes ${declared.dtype} token ids, not images; pass { data: BigInt64Array, dims: [n, ${sampleDims(this.manifest).join(', ')}] }.`);
    }
    const [, C, H, W] = declared.dims;
    if (input === null || input === undefined) throw new InputError('input: expected an image, an array of images, or { data: Float32Array, dims: [n, C, H, W] }.');
    const images: readonly I[] = Array.isArray(input) ? (input as readonly I[]) : [input as I];
    const per = C * H * W;
    const data = new Float32Array(images.length * per);
    for (let i = 0; i < images.length; i++) {
      const what = images.length === 1 && !Array.isArray(input) ? 'image' : `images[${i}]`;
      writePixels(await this.decode(images[i]!, this.manifest, what), this.manifest, data, i * per, what);
    }
    return { data, n: images.length };
  }
}
