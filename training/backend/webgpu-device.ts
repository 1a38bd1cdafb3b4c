/**
 * @module training/backend/webgpu-device
 * WebGPU in Node through Dawn (the npm package `webgpu`): installs `navigator.gpu` the way
 * tfjs-backend-webgpu expects it, describes the adapter Dawn picks, and tells hardware adapters
 * from software ones (SwiftShader, llvmpipe/lavapipe, fallback adapters).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** The adapter fields this project reports (a subset of the WebGPU `GPUAdapterInfo`). */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Set by the implementation for an adapter that trades performance for availability. */
  isFallbackAdapter: boolean;
}

/** An adapter as this project reports it. */
export interface WebGpuAdapterSummary extends WebGpuAdapterInfo {
  /** One line naming the adapter, e.g. `SwiftShader driver 5.0.0 (google swiftshader)`. */
  name: string;
  /** Why the adapter is a software rasteriser, or undefined for a hardware adapter. */
  software?: string;
}

/** tfjs-backend-webgpu asks for this power preference; the description must name the same adapter. */
const ADAPTER_OPTIONS = { powerPreference: 'high-performance' } as const;

/** Names of CPU implementations of Vulkan/WebGPU: training on them is slower than WASM. */
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|software/i;

/** Why `info` is a software adapter, or undefined for a hardware one. */
export function softwareAdapterReason(info: WebGpuAdapterInfo): string | undefined {
  if (info.isFallbackAdapter) return 'a fallback adapter';
  const field = [info.description, info.device, info.architecture, info.vendor].find((v) => SOFTWARE_NAMES.test(v));
  return field === undefined ? undefined : `a software rasteriser ("${field}")`;
}

/** Builds the summary of an adapter from the fields Dawn reports (absent fields become ''). */
export function summariseAdapter(raw: Partial<Record<keyof WebGpuAdapterInfo, unknown>>): WebGpuAdapterSummary {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const info: WebGpuAdapterInfo = {
    vendor: text(raw.vendor),
    architecture: text(raw.architecture),
    device: text(raw.device),
    description: text(raw.description),
    isFallbackAdapter: raw.isFallbackAdapter === true,
  };
  const detail = [info.vendor, info.architecture].filter(Boolean).join(' ');
  const name = [info.description || info.device || 'unnamed adapter', detail && `(${detail})`].filter(Boolean).join(' ');
  return { ...info, name, software: softwareAdapterReason(info) };
}

type Gpu = { requestAdapter(options?: object): Promise<{ info?: Record<string, unknown> } | null> };
let installed: Gpu | undefined;

/**
 * Creates Dawn's `GPU` once per process and exposes it as `navigator.gpu`, with the WebGPU
 * constants (`GPUBufferUsage`, ...) as globals: tfjs-backend-webgpu reads both, and registers
 * its backend at import only when `navigator.gpu` exists. Node 20 has no `navigator`; Node 21+
 * has one without `gpu`.
 * @throws Error when the `webgpu` package or its native module cannot be loaded.
 */
export async function installNavigatorGpu(): Promise<Gpu> {
  if (installed) return installed;
  const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): Gpu; globals: object };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav && typeof nav === 'object') Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  installed = gpu;
  return gpu;
}

/**
 * Describes the adapter tfjs-backend-webgpu will use in this process.
 * @throws Error when Dawn finds no adapter (no Vulkan/Metal/D3D driver, or none it supports).
 */
export async function describeWebGpuAdapter(): Promise<WebGpuAdapterSummary> {
  const gpu = await installNavigatorGpu();
  const adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
  if (!adapter) throw new Error('Dawn found no WebGPU adapter (is a Vulkan driver installed? see docs/training-gpu.md)');
  return summariseAdapter(adapter.info ?? {});
}

/** Seconds the out-of-process probe may take (Dawn enumerates every driver it finds). */
const PROBE_TIMEOUT_MS = 30_000;

/**
 * Describes the adapter from a child process, so that a machine without a GPU driver costs the
 * caller neither Dawn's driver warnings on stderr nor a native crash in a broken driver: `auto`
 * backend selection asks this before it loads Dawn into the training process.
 * @returns The adapter, or an error message saying why there is none.
 */
export function probeWebGpuAdapter(): Promise<WebGpuAdapterSummary | { error: string }> {
  let url: string;
  try {
    url = pathToFileURL(require.resolve('webgpu')).href;
  } catch {
    return Promise.resolve({ error: 'the webgpu package is not installed' });
  }
  const script = [
    `const { create } = await import(${JSON.stringify(url)});`,
    `const a = await create([]).requestAdapter(${JSON.stringify(ADAPTER_OPTIONS)});`,
    'const i = a?.info;',
    "const f = ['vendor', 'architecture', 'device', 'description', 'isFallbackAdapter'];",
    'process.stdout.write(JSON.stringify(i ? Object.fromEntries(f.map((k) => [k, i[k]])) : null));',
    'process.exit(0);',
  ].join('\n');
  return new Promise((resolvePromise) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.split('\n').find((l) => l.trim()) ?? err.message;
        resolvePromise({ error: `Dawn could not start: ${why.trim()}` });
        return;
      }
      try {
        const raw = JSON.parse(stdout) as Record<string, unknown> | null;
        resolvePromise(raw ? summariseAdapter(raw) : { error: 'Dawn found no WebGPU adapter' });
      } catch {
        resolvePromise({ error: `the adapter probe printed no JSON: ${stdout.slice(0, 200)}` });
      }
    });
  });
}
