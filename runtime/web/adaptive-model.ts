/**
 * @module runtime/web/adaptive-model
 * {@link AdaptiveModel} on onnxruntime-web: the same API as runtime/node's, loading a model from
 * a URL (browser) or a directory (Node).
 */
import { AdaptiveModelBase, EarlyExitEngine, loadModelEngine, readManifestWith, urlFileReader, type ModelFileReader, type EngineLoadOptions, type StageBackend } from '../core/index.js';
import { createWebBackend, type WebBackendOptions, type WebStageBackend } from './backend.js';
import { decodeWebImage, type WebImage } from './decode-image.js';

export interface WebAdaptiveModelOptions extends WebBackendOptions, EngineLoadOptions {
  /** Another backend instead of onnxruntime-web. */
  backend?: StageBackend;
  /** How to fetch model files. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

/** Reads files of a model given by URL (fetch) or, in Node, by directory. */
async function fileReader(base: string, fetchImpl: typeof fetch | undefined): Promise<ModelFileReader> {
  if (isUrl(base)) return urlFileReader(base, fetchImpl, (globalThis as { location?: { href: string } }).location?.href);
  // Node: a directory. The specifier is built at run time so browser bundles do not pull in fs.
  const fsName = 'node:fs/promises';
  const { readFile } = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
  return async (file) => new Uint8Array(await readFile(`${base.replace(/\/$/, '')}/${file}`));
}

export class AdaptiveModel extends AdaptiveModelBase<WebImage> {
  /** The base URL (or, in Node, directory) the model was loaded from. */
  readonly source: string;
  readonly executionProvider: 'webgpu' | 'wasm' | 'custom';

  private constructor(
    source: string,
    engine: EarlyExitEngine,
    provider: 'webgpu' | 'wasm' | 'custom',
    private readonly web: WebStageBackend | undefined,
  ) {
    super(engine, decodeWebImage, web);
    this.source = source;
    this.executionProvider = provider;
  }

  /** GPU buffers (WebGPU) the model holds now: 0 between calls. Always 0 on WASM. */
  get liveDeviceTensors(): number {
    return this.web?.liveDeviceTensors ?? 0;
  }

  /**
   * Loads a model from a base URL (or a directory in Node) holding manifest.json and the stage graphs.
   * @throws ManifestError for an invalid manifest; ModelLoadError for a missing or corrupt file.
   */
  static async load(dirOrUrl: string, options: WebAdaptiveModelOptions = {}): Promise<AdaptiveModel> {
    const read = await fileReader(dirOrUrl, options.fetch);
    const manifest = await readManifestWith(read, dirOrUrl);
    const web = options.backend ? undefined : await createWebBackend(options);
    const engine = await loadModelEngine({ manifest, readFile: read }, options.backend, web, options);
    return new AdaptiveModel(dirOrUrl, engine, web ? web.activeProvider : 'custom', web);
  }
}
