/**
 * @module runtime/web/backend
 * A {@link StageBackend} on onnxruntime-web: WebGPU when the platform gives an adapter, else
 * WASM (multi-threaded where the page is cross-origin isolated). Works in browsers and in Node
 * (WASM only there). Sessions of onnxruntime-web are not re-entrant; the engine queues runs.
 * On WebGPU the carried tensors stay in GPU buffers from stage to stage and rows are dropped on
 * the GPU (runtime/core/device-tensors.ts); only the logits, which decide the exits, are read.
 */
import * as ort from 'onnxruntime-web';
import type { Stage } from '../../manifest/schema.js';
import { DeviceTensors, deviceOutputLocations, deviceStageSession, type DeviceCoreTensor, type StageBackend, type StageSession } from '../core/index.js';

export const WEB_EXECUTION_PROVIDERS = Object.freeze(['auto', 'webgpu', 'wasm'] as const);
export type WebExecutionProvider = (typeof WEB_EXECUTION_PROVIDERS)[number];

export interface WebBackendOptions {
  /** 'auto': WebGPU when an adapter exists, else WASM. @defaultValue 'auto' */
  executionProvider?: WebExecutionProvider;
  /**
   * WASM threads (ort.env.wasm.numThreads, process-wide): more than 1 needs cross-origin isolation
   * in a browser. @defaultValue 1 in Node; in a browser min(4, cores) when isolated, else 1
   */
  threads?: number;
  /** Where a WebGPU-fallback warning goes. @defaultValue console.warn */
  warn?: (message: string) => void;
  /**
   * onnxruntime-web's log level. Its warnings (e.g. shape ops placed on the CPU under WebGPU) go
   * to console.error in browsers, so only errors are logged by default. @defaultValue 'error'
   */
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
}

/** A {@link StageBackend} that says which provider its sessions run on. */
export interface WebStageBackend extends StageBackend {
  readonly activeProvider: 'webgpu' | 'wasm';
  /** GPU buffers handed to the engine and not yet freed: 0 between calls. */
  readonly liveDeviceTensors: number;
  /** Frees the backend's helper sessions (row compaction, copies); the model's close() calls it. */
  release(): Promise<void>;
}

interface NavigatorWithGpu {
  gpu?: { requestAdapter(): Promise<unknown> };
  hardwareConcurrency?: number;
}

/** True when a WebGPU adapter can be had here. */
export async function webGpuAvailable(): Promise<boolean> {
  const nav = (globalThis as { navigator?: NavigatorWithGpu }).navigator;
  if (!nav?.gpu) return false;
  try {
    return (await nav.gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/** ort.env.logLevel as the session's severity (0 verbose … 4 fatal). */
const LOG_SEVERITY = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 } as const;

function defaultThreads(): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: NavigatorWithGpu; process?: unknown };
  if (g.process) return 1;
  return g.crossOriginIsolated ? Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1)) : 1;
}

/** A helper graph's session on WebGPU, its outputs placed in `location`. */
async function helperSession(bytes: Uint8Array, location: 'gpu-buffer' | 'cpu') {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], preferredOutputLocation: location, logSeverityLevel: LOG_SEVERITY[ort.env.logLevel ?? 'error'] });
  return { run: (feeds: Record<string, ort.Tensor>) => session.run(feeds), release: () => session.release() };
}

/**
 * Creates stage sessions with onnxruntime-web.
 * @throws RangeError for an unknown provider or a bad thread count.
 */
export async function createWebBackend(options: WebBackendOptions = {}): Promise<WebStageBackend> {
  const requested = options.executionProvider ?? 'auto';
  if (!(WEB_EXECUTION_PROVIDERS as readonly string[]).includes(requested)) {
    throw new RangeError(`executionProvider: expected one of ${WEB_EXECUTION_PROVIDERS.join(', ')}, got ${JSON.stringify(requested)}.`);
  }
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads: expected a positive integer, got ${threads}.`);
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = options.logLevel ?? 'error';
  const warn = options.warn ?? ((m: string) => console.warn(m));
  let provider: 'webgpu' | 'wasm' = 'wasm';
  if (requested !== 'wasm') {
    if (await webGpuAvailable()) provider = 'webgpu';
    else if (requested === 'webgpu') warn('onnxruntime-web: no WebGPU adapter here; running on WASM instead.');
  }
  const device = new DeviceTensors(ort.Tensor, helperSession);
  return {
    get activeProvider() {
      return provider;
    },
    get deviceResident() {
      return provider === 'webgpu';
    },
    get liveDeviceTensors() {
      return device.liveCount;
    },
    selectDeviceRows(t: DeviceCoreTensor, rows: readonly number[]): Promise<DeviceCoreTensor> {
      return device.selectRows(t, rows);
    },
    release: () => device.release(),
    async createSession(bytes: Uint8Array, stage: Stage): Promise<StageSession> {
      // On WebGPU the carried features stay in GPU buffers for the next stage; only the logits,
      // which decide the exits, are read back.
      const preferredOutputLocation = provider === 'webgpu' ? deviceOutputLocations(stage) : undefined;
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        logSeverityLevel: LOG_SEVERITY[ort.env.logLevel ?? 'error'],
        ...(preferredOutputLocation ? { preferredOutputLocation } : {}),
      });
      return deviceStageSession(session, device);
    },
    async createFusedSession(bytes: Uint8Array): Promise<StageSession | null> {
      // WebGPU keeps carried features on the GPU stage by stage; the fused graph's data-dependent
      // shapes (NonZero, If) would read them back. WASM gains one call per batch instead of K.
      if (provider !== 'wasm') return null;
      return deviceStageSession(await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: LOG_SEVERITY[ort.env.logLevel ?? 'error'] }), device);
    },
  };
}

