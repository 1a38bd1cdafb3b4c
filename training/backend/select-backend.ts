/**
 * @module training/backend/select-backend
 * Picks the TensorFlow.js backend for training: tfjs-node-gpu when the user has installed it
 * (CUDA), else WebGPU on Dawn when a hardware adapter exists, else tfjs-node (native TensorFlow
 * on the CPU), else WASM with the training kernels it lacks, else CPU.
 */
import { tf } from './tf.js';
import { availableParallelism } from 'node:os';
import { registerWasmTrainingKernels } from './wasm-kernels/register-wasm-training-kernels.js';
import { enableWasmThreads } from './wasm-threads.js';
import { heapWorkers } from './wasm-kernels/simd/heap-workers.js';
import { loadWebGpuBackend, type WebGpuLoadOptions } from './webgpu-backend.js';

/**
 * Backends a user can ask for. `auto` tries tfjs-node-gpu, then WebGPU on a hardware adapter,
 * then tfjs-node, wasm and cpu.
 */
export const TRAINING_BACKENDS = Object.freeze(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const);
export type TrainingBackendName = (typeof TRAINING_BACKENDS)[number];

/** Environment variable that overrides the backend when no flag is given. */
export const BACKEND_ENV_VAR = 'ADAPTIVE_EXIT_BACKEND';

/** What was chosen, and why. */
export interface BackendInfo {
  /** tfjs backend name as registered (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  name: string;
  /** Package that provides it. */
  provider: string;
  /** Threads the backend computes with (1 for WebGPU: one thread drives the GPU). */
  threads: number;
  /** The WebGPU adapter, e.g. `NVIDIA H200 (nvidia hopper)`; only for `webgpu`. */
  adapter?: string;
  /** How the choice was made: `flag`, `env` or `auto`. */
  source: 'flag' | 'env' | 'auto';
  /** Backends that were tried and failed before this one, with the reason. */
  skipped: string[];
}

export interface SelectBackendOptions {
  /** Backend requested on the command line; wins over the environment variable. @defaultValue 'auto' */
  backend?: string;
  /** Environment to read {@link BACKEND_ENV_VAR} from. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Threads for the WASM backend. @defaultValue the machine's available parallelism */
  threads?: number;
  /** Called once with a human-readable line describing the choice. */
  log?: (line: string) => void;
}

/** Native TensorFlow bindings, most capable first. Optional: never installed by this project. */
const NATIVE_GPU = '@tensorflow/tfjs-node-gpu';
const NATIVE_CPU = '@tensorflow/tfjs-node';
const NATIVE_PACKAGES = [NATIVE_GPU, NATIVE_CPU] as const;

function parseBackendName(value: string, where: string): TrainingBackendName {
  if ((TRAINING_BACKENDS as readonly string[]).includes(value)) return value as TrainingBackendName;
  throw new RangeError(`${where}: expected one of ${TRAINING_BACKENDS.join(', ')}, got "${value}".`);
}

type LoadResult = { provider: string; adapter?: string } | { error: string };

async function tryNative(packages: readonly string[] = NATIVE_PACKAGES): Promise<LoadResult> {
  const errors: string[] = [];
  for (const pkg of packages) {
    try {
      // A variable specifier keeps bundlers and tsc from requiring the optional package.
      const specifier: string = pkg;
      await import(specifier);
      if (tf.findBackend('tensorflow')) return { provider: pkg };
      errors.push(`${pkg}: loaded but registered no 'tensorflow' backend`);
    } catch (err) {
      const code = (err as { code?: string }).code;
      errors.push(code === 'ERR_MODULE_NOT_FOUND' ? `${pkg} is not installed` : `${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { error: errors.join('; ') };
}

async function tryWasm(threads: number): Promise<LoadResult> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    // The threaded build must be registered before the backend first initialises; when it cannot
    // be loaded the stock single-threaded build stays (a slower but correct fallback).
    if (threads > 1) await enableWasmThreads(threads);
    registerWasmTrainingKernels();
    return { provider: '@tensorflow/tfjs-backend-wasm' };
  } catch (err) {
    return { error: `@tensorflow/tfjs-backend-wasm: ${(err as Error).message}` };
  }
}

async function tryWebGpu(options: WebGpuLoadOptions): Promise<LoadResult> {
  try {
    const adapter = await loadWebGpuBackend(options);
    const note = adapter.software ? `; ${adapter.software}, expect it slower than wasm` : '';
    return { provider: `@tensorflow/tfjs-backend-webgpu on Dawn`, adapter: `${adapter.name}${note}` };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function tryCpu(): Promise<LoadResult> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    return { provider: '@tensorflow/tfjs-backend-cpu' };
  } catch (err) {
    return { error: `@tensorflow/tfjs-backend-cpu: ${(err as Error).message}` };
  }
}

/** One attempt: the tfjs backend it registers, and how to load it. */
interface Attempt {
  name: Exclude<TrainingBackendName, 'auto'>;
  load: (threads: number) => Promise<LoadResult>;
}

const EXPLICIT: Record<Attempt['name'], Attempt> = {
  tensorflow: { name: 'tensorflow', load: () => tryNative() },
  webgpu: { name: 'webgpu', load: () => tryWebGpu({ requireHardware: false }) },
  wasm: { name: 'wasm', load: (threads) => tryWasm(threads) },
  cpu: { name: 'cpu', load: () => tryCpu() },
};

/**
 * `auto`: CUDA TensorFlow first; WebGPU only on a hardware adapter (a software one such as
 * SwiftShader trains slower than WASM); native TensorFlow on the CPU; WASM; the plain CPU backend.
 */
const AUTO_ORDER: readonly Attempt[] = [
  { name: 'tensorflow', load: () => tryNative([NATIVE_GPU]) },
  { name: 'webgpu', load: () => tryWebGpu({ requireHardware: true }) },
  { name: 'tensorflow', load: () => tryNative([NATIVE_CPU]) },
  EXPLICIT.wasm,
  EXPLICIT.cpu,
];

async function threadCount(name: string): Promise<number> {
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    return wasm.getThreadsCount();
  }
  if (name === 'cpu' || name === 'webgpu') return 1;
  // Native TensorFlow sizes its own intra-op pool from the machine's cores.
  const os = await import('node:os');
  return os.availableParallelism();
}

let selected: Promise<BackendInfo> | undefined;
let selectedRequest: string | undefined;

/**
 * Selects and initialises the training backend once per process; later calls return the same
 * promise (a different request after the first is an error, since tfjs has one global backend).
 * @throws RangeError when the flag or environment names an unknown backend.
 * @throws Error when the requested backend cannot be loaded (the message lists each reason).
 */
export function selectTrainingBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const request = JSON.stringify([options.backend ?? 'auto', options.threads ?? null]);
  if (selected && request !== selectedRequest) {
    // tfjs has one global backend, and the threaded WASM build cannot be swapped once loaded.
    return Promise.reject(new Error(`selectTrainingBackend: already initialised with ${selectedRequest}, asked again with ${request}.`));
  }
  selectedRequest = request;
  selected ??= doSelect(options);
  return selected;
}

async function doSelect(options: SelectBackendOptions): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  let requested: TrainingBackendName = 'auto';
  let source: BackendInfo['source'] = 'auto';
  if (options.backend !== undefined && options.backend !== 'auto') {
    requested = parseBackendName(options.backend, '--backend');
    source = 'flag';
  } else if (env[BACKEND_ENV_VAR]) {
    requested = parseBackendName(env[BACKEND_ENV_VAR], BACKEND_ENV_VAR);
    source = 'env';
  }
  const order = requested === 'auto' ? AUTO_ORDER : [EXPLICIT[requested]];
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`--threads: expected a whole number >= 1, got ${options.threads}.`);
  const skipped: string[] = [];
  for (const { name, load } of order) {
    const result = await load(threads);
    if ('error' in result) {
      skipped.push(`[${name}] ${result.error}`);
      continue;
    }
    const ok = await tf.setBackend(name);
    if (!ok) {
      skipped.push(`[${name}] tf.setBackend('${name}') failed to initialise`);
      continue;
    }
    await tf.ready();
    // The SIMD kernels' helper threads (threaded wasm build only), started before the first step.
    if (name === 'wasm') await heapWorkers(tf.backend() as never)?.started;
    const info: BackendInfo = {
      name,
      provider: result.provider,
      threads: await threadCount(name),
      source,
      skipped,
      ...(result.adapter === undefined ? {} : { adapter: result.adapter }),
    };
    const where = info.adapter === undefined ? `${info.threads} thread${info.threads === 1 ? '' : 's'}` : `adapter ${info.adapter}`;
    options.log?.(`training backend: ${name} (${info.provider}, ${where}, chosen by ${source})`);
    return info;
  }
  selected = undefined;
  selectedRequest = undefined;
  throw new Error(`no training backend could be initialised: ${skipped.join(', ')}`);
}
