/**
 * @module runtime/node/adaptive-model
 * {@link AdaptiveModel}: an exported model directory (manifest.json + stage graphs) loaded with
 * onnxruntime-node; classifies images (bytes, paths, pixels) or preprocessed tensors with
 * per-sample early exit.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from '../../manifest/index.js';
import { AdaptiveModelBase, EarlyExitEngine, loadModelEngine, readManifestWith, urlFileReader, type EngineLoadOptions, type StageBackend } from '../core/index.js';
import { createNodeBackend, type NodeBackendOptions, type NodeExecutionProvider, type NodeStageBackend } from './backend.js';
import { decodeNodeImage, type NodeImage } from './decode-image.js';

export interface AdaptiveModelOptions extends NodeBackendOptions, EngineLoadOptions {
  /** Another backend instead of onnxruntime-node (then the thread and provider options are ignored). */
  backend?: StageBackend;
}

/**
 * @example
 * const model = await AdaptiveModel.load('models/msdnet-cifar10');
 * const [r] = await model.classify(await readFile('cat.png'), { budget: { avgMflops: 15 } });
 * console.log(r.label, r.exit, r.mflops);
 * await model.close();
 */
export class AdaptiveModel extends AdaptiveModelBase<NodeImage> {
  /** The directory or base URL the model was loaded from (the same name as runtime/web's). */
  readonly source: string;
  /** The execution provider the stages run on ('cpu' after a fallback), or 'custom' for a given backend. */
  readonly executionProvider: NodeExecutionProvider | 'custom';

  private constructor(
    dir: string,
    engine: EarlyExitEngine,
    provider: NodeExecutionProvider | 'custom',
    private readonly node: NodeStageBackend | undefined,
  ) {
    super(engine, decodeNodeImage, node);
    this.source = dir;
    this.executionProvider = provider;
  }

  /**
   * GPU buffers (WebGPU) the model holds now: 0 between calls, since every carried tensor is
   * freed when its call ends, fails or its `stream` stops. Always 0 on the CPU.
   */
  get liveDeviceTensors(): number {
    return this.node?.liveDeviceTensors ?? 0;
  }

  /**
   * Loads a model directory written by `adaptive-exit export`, or the same files published at a
   * base URL (`https://host/models/x/`).
   * @throws ManifestError for an invalid manifest; ModelLoadError naming the file for a missing,
   *   corrupt (SHA-256 mismatch) or unloadable stage graph.
   */
  static async load(dirOrUrl: string, options: AdaptiveModelOptions = {}): Promise<AdaptiveModel> {
    const remote = /^https?:\/\//i.test(dirOrUrl);
    const read = remote ? urlFileReader(dirOrUrl) : (file: string) => readFile(join(dirOrUrl, file));
    const manifest = remote ? await readManifestWith(read, dirOrUrl) : await readManifest(dirOrUrl);
    const node = options.backend ? undefined : createNodeBackend(options);
    const engine = await loadModelEngine({ manifest, readFile: read }, options.backend, node, options);
    return new AdaptiveModel(dirOrUrl, engine, node ? node.activeProvider : 'custom', node);
  }
}
