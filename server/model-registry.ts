/**
 * @module server/model-registry
 * The models a server serves, each under its manifest id, with its dynamic batcher; the first is
 * the default (`POST /v1/classify`).
 */
import type { Manifest } from '../manifest/index.js';
import { AdaptiveModel, type NodeExecutionProvider } from '../runtime/node/index.js';
import { DynamicBatcher, type BatcherOptions } from './batcher.js';
import { findModelDir } from './model-dir.js';

export interface ServedModel {
  id: string;
  model: AdaptiveModel;
  batcher: DynamicBatcher;
  fullMflops: number;
}

export interface RegistryOptions extends Omit<BatcherOptions, 'onBatch'> {
  /** Intra-op threads per stage session. @defaultValue 1 */
  threads?: number;
  /** onnxruntime-node execution provider (falls back to the CPU with a warning). @defaultValue 'cpu' */
  executionProvider?: NodeExecutionProvider;
  /** Whether the fused session's threads spin between operators (see the runtime's `spinning`). @defaultValue true */
  spinning?: boolean;
  onBatch?: (model: string, size: number, ms: number) => void;
}

export class ModelRegistry {
  private readonly byId = new Map<string, ServedModel>();
  readonly defaultId: string;

  private constructor(models: ServedModel[]) {
    for (const m of models) this.byId.set(m.id, m);
    this.defaultId = models[0]!.id;
  }

  /**
   * Loads every model directory (or the one model folder inside it, see {@link findModelDir}).
   * @throws Error when two models share an id, or the loader's error naming the directory.
   */
  static async load(dirs: readonly string[], options: RegistryOptions = {}): Promise<ModelRegistry> {
    if (dirs.length === 0) throw new Error('no model to serve.');
    const served: ServedModel[] = [];
    try {
      for (const given of dirs) {
        const dir = await findModelDir(given);
        const model = await AdaptiveModel.load(dir, { intraOpThreads: options.threads ?? 1, executionProvider: options.executionProvider ?? 'cpu', spinning: options.spinning ?? true });
        const id = model.manifest.model.id;
        if (served.some((s) => s.id === id)) {
          await model.close();
          throw new Error(`${dir}: model id "${id}" is already served (from ${served.find((s) => s.id === id)!.model.dir}); ids must be unique.`);
        }
        const batcher = new DynamicBatcher(model, { ...options, onBatch: (size, ms) => options.onBatch?.(id, size, ms) });
        served.push({ id, model, batcher, fullMflops: model.manifest.stages.at(-1)!.cumulativeMflops });
      }
    } catch (e) {
      await Promise.all(served.map((s) => s.model.close()));
      throw e;
    }
    return new ModelRegistry(served);
  }

  get(id: string): ServedModel | undefined {
    return this.byId.get(id);
  }

  get all(): ServedModel[] {
    return [...this.byId.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((m) => m.model.close()));
  }
}

/** What `GET /v1/models/{id}` shows of a manifest. */
export function modelSummary(m: ServedModel, isDefault: boolean) {
  const man: Manifest = m.model.manifest;
  return {
    id: m.id,
    version: man.model.version,
    description: man.model.description ?? null,
    default: isDefault,
    executionProvider: m.model.executionProvider,
    execution: m.model.execution,
    dataset: man.provenance.dataset,
    classNames: man.classNames,
    input: { dims: man.input.dims, layout: man.input.layout },
    preprocessing: man.preprocessing,
    stages: man.stages.map((s) => ({ index: s.index, mflops: s.mflops, cumulativeMflops: s.cumulativeMflops, params: s.params })),
    fullMflops: m.fullMflops,
    perExitTestAccuracy: man.provenance.perExitTestAccuracy,
    exitPolicy: man.exitPolicy,
    calibration: man.calibration,
  };
}
