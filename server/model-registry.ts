/**
 * @module server/model-registry
 * The models a server serves, each under its manifest id, with its dynamic batcher; the first is
 * the default (`POST /v1/classify`).
 */
import { trainingProvenance, type Manifest } from '../manifest/index.js';
import { AdaptiveModel, type NodeExecutionProvider } from '../runtime/node/index.js';
import { DynamicBatcher, type BatcherOptions } from './batcher.js';
import { findModelDir } from './model-dir.js';
import { WorkerModel } from './worker-model.js';

export interface ServedModel {
  id: string;
  model: AdaptiveModel;
  batcher: DynamicBatcher;
  /** The copy the batches run on, when they run in a worker thread. */
  worker: WorkerModel | undefined;
  fullMflops: number;
}

export interface RegistryOptions extends Omit<BatcherOptions, 'onBatch'> {
  /** Intra-op threads per stage session. @defaultValue 1 */
  threads?: number;
  /** onnxruntime-node execution provider (falls back to the CPU with a warning). @defaultValue 'cpu' */
  executionProvider?: NodeExecutionProvider;
  /** Whether the fused session's threads spin between operators (see the runtime's `spinning`). @defaultValue true */
  spinning?: boolean;
  /**
   * Run each model's batches in a worker thread (a second copy of its sessions), so that request
   * handling goes on while a batch runs; see ./worker-model.ts. The event-loop copy still serves
   * streamed (SSE) requests. @defaultValue true
   */
  inferenceWorker?: boolean;
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
        const sessionOptions = { threads: options.threads ?? 1, executionProvider: options.executionProvider ?? 'cpu', spinning: options.spinning ?? true } as const;
        const model = await AdaptiveModel.load(dir, sessionOptions);
        const id = model.manifest.model.id;
        if (served.some((s) => s.id === id)) {
          await model.close();
          throw new Error(`${dir}: model id "${id}" is already served (from ${served.find((s) => s.id === id)!.model.source}); ids must be unique.`);
        }
        let worker: WorkerModel | undefined;
        try {
          // The provider the event-loop copy ended up on (after any fallback), so both copies agree.
          const provider = model.executionProvider === 'custom' ? 'cpu' : model.executionProvider;
          worker = options.inferenceWorker === false ? undefined : await WorkerModel.start(dir, model, { ...sessionOptions, executionProvider: provider });
        } catch (e) {
          await model.close();
          throw e;
        }
        const batcher = new DynamicBatcher(worker ?? model, { ...options, maxInFlight: worker ? (options.maxInFlight ?? 1) : 1, onBatch: (size, ms) => options.onBatch?.(id, size, ms) });
        served.push({ id, model, batcher, worker, fullMflops: model.manifest.stages.at(-1)!.cumulativeMflops });
      }
    } catch (e) {
      await Promise.all(served.map((s) => Promise.all([s.model.close(), s.worker?.close()])));
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
    await Promise.all(this.all.map((m) => Promise.all([m.model.close(), m.worker?.close()])));
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
    dataset: trainingProvenance(man.provenance)?.dataset ?? null,
    classNames: man.classNames,
    input: { name: man.input.name, dims: man.input.dims, layout: man.input.layout, dtype: man.input.dtype },
    preprocessing: man.preprocessing ?? null,
    stages: man.stages.map((s) => ({ index: s.index, mflops: s.mflops, cumulativeMflops: s.cumulativeMflops, params: s.params })),
    fullMflops: m.fullMflops,
    perExitTestAccuracy: trainingProvenance(man.provenance)?.perExitTestAccuracy ?? null,
    exitPolicy: man.exitPolicy,
    calibration: man.calibration,
  };
}
