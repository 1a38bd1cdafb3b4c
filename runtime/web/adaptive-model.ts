/**
 * @module runtime/web/adaptive-model
 * {@link AdaptiveModel} on onnxruntime-web: the same API as runtime/node's, loading a model from
 * a URL (browser) or a directory (Node).
 */
// manifest/parse (not manifest/index) so browser bundles carry no node built-ins.
import { MANIFEST_FILE, parseManifest } from '../../manifest/parse.js';
import { AdaptiveModelBase, EarlyExitEngine, ModelLoadError, type StageBackend } from '../core/index.js';
import { createWebBackend, type WebBackendOptions } from './backend.js';
import { decodeWebImage, type WebImage } from './decode-image.js';

export interface WebAdaptiveModelOptions extends WebBackendOptions {
  /** Check each stage file's SHA-256 against the manifest. @defaultValue true */
  verify?: boolean;
  /** Another backend instead of onnxruntime-web. */
  backend?: StageBackend;
  /** How to fetch model files. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

/** Reads files of a model given by URL (fetch) or, in Node, by directory. */
async function fileReader(base: string, fetchImpl: typeof fetch | undefined): Promise<(file: string) => Promise<Uint8Array>> {
  if (isUrl(base)) {
    const root = new URL(base.endsWith('/') ? base : `${base}/`, (globalThis as { location?: { href: string } }).location?.href);
    const f = fetchImpl ?? globalThis.fetch.bind(globalThis);
    return async (file) => {
      const url = new URL(file, root);
      const res = await f(url);
      if (!res.ok) throw new ModelLoadError(`${url.href}: HTTP ${res.status} ${res.statusText}`.trim());
      return new Uint8Array(await res.arrayBuffer());
    };
  }
  // Node: a directory. The specifier is built at run time so browser bundles do not pull in fs.
  const fsName = 'node:fs/promises';
  const { readFile } = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
  return async (file) => new Uint8Array(await readFile(`${base.replace(/\/$/, '')}/${file}`));
}

export class AdaptiveModel extends AdaptiveModelBase<WebImage> {
  readonly source: string;
  readonly executionProvider: 'webgpu' | 'wasm' | 'custom';

  private constructor(source: string, engine: EarlyExitEngine, provider: 'webgpu' | 'wasm' | 'custom') {
    super(engine, decodeWebImage);
    this.source = source;
    this.executionProvider = provider;
  }

  /**
   * Loads a model from a base URL (or a directory in Node) holding manifest.json and the stage graphs.
   * @throws ManifestError for an invalid manifest; ModelLoadError for a missing or corrupt file.
   */
  static async load(dirOrUrl: string, options: WebAdaptiveModelOptions = {}): Promise<AdaptiveModel> {
    const read = await fileReader(dirOrUrl, options.fetch);
    let text: string;
    try {
      text = new TextDecoder().decode(await read(MANIFEST_FILE));
    } catch (e) {
      throw new ModelLoadError(`${dirOrUrl}: cannot read ${MANIFEST_FILE}: ${(e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ModelLoadError(`${dirOrUrl}/${MANIFEST_FILE}: not valid JSON: ${(e as Error).message}`);
    }
    const manifest = parseManifest(json, `${dirOrUrl}/${MANIFEST_FILE}`);
    const web = options.backend ? undefined : await createWebBackend(options);
    const engine = await EarlyExitEngine.load({ manifest, readFile: read }, options.backend ?? web!, { verify: options.verify ?? true });
    return new AdaptiveModel(dirOrUrl, engine, web ? web.activeProvider : 'custom');
  }
}
