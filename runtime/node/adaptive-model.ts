/**
 * @module runtime/node/adaptive-model
 * {@link AdaptiveModel}: an exported model directory (manifest.json + stage graphs) loaded with
 * onnxruntime-node, classifying preprocessed NCHW batches with per-sample early exit.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest, type Manifest } from '../../manifest/index.js';
import {
  EarlyExitEngine,
  InputError,
  type ClassifyOptions,
  type ClassifyResult,
  type EngineStats,
  type StageBackend,
} from '../core/index.js';
import { createNodeBackend, type NodeBackendOptions } from './backend.js';

export interface AdaptiveModelOptions extends NodeBackendOptions {
  /** Check each stage file's SHA-256 against the manifest. @defaultValue true */
  verify?: boolean;
  /** Another backend instead of onnxruntime-node (then `intraOpThreads` is ignored). */
  backend?: StageBackend;
}

/** A preprocessed input batch: NCHW float32 values and their dims [n, C, H, W]. */
export interface InputBatch {
  data: Float32Array;
  dims: readonly number[];
}

export class AdaptiveModel {
  readonly dir: string;
  private readonly engine: EarlyExitEngine;

  private constructor(dir: string, engine: EarlyExitEngine) {
    this.dir = dir;
    this.engine = engine;
  }

  /**
   * Loads a model directory written by `adaptive-exit export`.
   * @throws ManifestError for an invalid manifest; ModelLoadError naming the file for a missing,
   *   corrupt (SHA-256 mismatch) or unloadable stage graph.
   */
  static async load(dir: string, options: AdaptiveModelOptions = {}): Promise<AdaptiveModel> {
    const manifest = await readManifest(dir);
    const backend = options.backend ?? createNodeBackend(options);
    const engine = await EarlyExitEngine.load({ manifest, readFile: (file) => readFile(join(dir, file)) }, backend, { verify: options.verify ?? true });
    return new AdaptiveModel(dir, engine);
  }

  get manifest(): Manifest {
    return this.engine.manifest;
  }

  /** Rows each stage received since load or the last {@link resetStats}. */
  get stats(): EngineStats {
    return this.engine.stats;
  }

  resetStats(): void {
    this.engine.resetStats();
  }

  /**
   * Classifies a preprocessed batch (dims [n, C, H, W] equal to the manifest's input).
   * @throws InputError when dims or the data length do not fit the model.
   */
  async classify(input: InputBatch, options: ClassifyOptions = {}): Promise<ClassifyResult[]> {
    const [, C, H, W] = this.manifest.input.dims;
    const dims = input?.dims;
    if (!Array.isArray(dims) || dims.length !== 4 || dims[1] !== C || dims[2] !== H || dims[3] !== W || !Number.isInteger(dims[0]) || dims[0]! < 0) {
      throw new InputError(`input.dims: expected [n, ${C}, ${H}, ${W}] (NCHW, as manifest.input.dims ${JSON.stringify(this.manifest.input.dims)}), got ${JSON.stringify(dims)}.`);
    }
    const n = dims[0]!;
    if (!(input.data instanceof Float32Array) || input.data.length !== n * C * H * W) {
      throw new InputError(`input.data: expected a Float32Array of ${n}×${C}×${H}×${W} = ${n * C * H * W} values for dims ${JSON.stringify(dims)}, got ${input.data instanceof Float32Array ? input.data.length + ' values' : Object.prototype.toString.call(input.data)}.`);
    }
    return this.engine.classify(input.data, n, options);
  }

  /** Releases the stage sessions. */
  async close(): Promise<void> {
    await this.engine.release();
  }
}
