/**
 * @module runtime/node/backend
 * A {@link StageBackend} on onnxruntime-node.
 *
 * - Execution providers: CPU by default; `cuda` (when the install has onnxruntime-node's CUDA
 *   binaries) and `webgpu` (bundled for Linux x64; needs a Vulkan driver Dawn accepts) on request.
 *   A provider that cannot create a session falls back to CPU with one warning.
 * - Threads are set explicitly: the engine holds one session per stage and each session has its
 *   own intra-op pool, so K pools of the default size would oversubscribe the cores. Stage
 *   sessions never spin for the same reason (a pool spinning after its stage would take the core
 *   the next stage's pool needs). The fused session is the only one running, so its threads may
 *   spin between operators (see {@link NodeBackendOptions.spinning}).
 * - Runs are synchronous calls into the native session (see ./native-session.ts): the public
 *   `run()` defers every call by one event-loop turn, which costs more than a small stage.
 * - On WebGPU the carried tensors stay in GPU buffers from stage to stage (`preferredOutputLocation`
 *   'gpu-buffer' for every output but the logits, which decide the exits); rows are dropped on
 *   the GPU too (./device-tensors.ts). Only the logits come back to host memory.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Stage } from '../../manifest/index.js';
import { DeviceTensors, deviceOutputLocations, deviceStageSession, type DeviceCoreTensor, type StageBackend, type StageSession } from '../core/index.js';
import { createOrtSession, type OrtRunner } from './native-session.js';

/** Execution providers this backend can ask onnxruntime-node for. */
export const NODE_EXECUTION_PROVIDERS = Object.freeze(['cpu', 'cuda', 'webgpu'] as const);
export type NodeExecutionProvider = (typeof NODE_EXECUTION_PROVIDERS)[number];

export interface NodeBackendOptions {
  /**
   * Threads of each session (onnxruntime's intra-op threads; the same name as runtime/web's
   * option). @defaultValue 1: lowest latency; more threads help large batches.
   */
  threads?: number;
  /** @defaultValue 'cpu' */
  executionProvider?: NodeExecutionProvider;
  /** Where the CPU-fallback warning goes. @defaultValue console.warn */
  warn?: (message: string) => void;
  /**
   * Whether the fused session's intra-op threads spin while waiting for the next operator instead
   * of sleeping (only matters with `threads` > 1). Spinning saves the wake-up of a sleeping
   * thread at each of the fused graph's many small operators (measured here at batch 64 on 2
   * threads: about 10% faster), at the price of a core kept busy for a moment after each call:
   * turn it off when other work shares the cores. Stage sessions never spin.
   * @defaultValue true
   */
  spinning?: boolean;
  /**
   * On WebGPU, also run the fused graph (one session call per batch; onnxruntime places its
   * decisions and control flow on the CPU and the stage work on the GPU, with a few small copies
   * per exit: see docs/gpu.md). Off by default: not yet measured to pay on a real GPU.
   * @defaultValue false
   */
  fusedOnGpu?: boolean;
  /**
   * On WebGPU, the layout onnxruntime's WebGPU provider runs convolutions and pooling in.
   * onnxruntime-node 1.30 picks 'NHWC' when none is given, and then wraps the layout-sensitive
   * nodes of each stage in `Transpose` dispatches (checked here: 5 of the 38 dispatches of the
   * bundled model's stage 1 per run); 'NCHW', the exported graphs' own layout, needs none (33).
   * Both give the CPU's results (tested on SwiftShader); which is faster on a real GPU is not
   * measured yet (`bench:providers --providers cpu,webgpu,webgpu-nchw`). Ignored on other providers.
   * @defaultValue onnxruntime's choice (NHWC in 1.30)
   */
  preferredLayout?: WebGpuLayout;
}

/** The layouts {@link NodeBackendOptions.preferredLayout} accepts. */
export const WEBGPU_LAYOUTS = Object.freeze(['NCHW', 'NHWC'] as const);
export type WebGpuLayout = (typeof WEBGPU_LAYOUTS)[number];

/** A {@link StageBackend} that also says which execution provider its sessions got. */
export interface NodeStageBackend extends StageBackend {
  /** The provider sessions run on: the one asked for, or 'cpu' after a fallback. */
  readonly activeProvider: NodeExecutionProvider;
  /** GPU buffers (WebGPU) handed to the engine and not yet freed: 0 between calls. */
  readonly liveDeviceTensors: number;
  /** Frees the backend's helper sessions (row compaction, copies); the model's close() calls it. */
  release(): Promise<void>;
}

/** Session options of this backend; exported so that a benchmark can run a baseline graph the same way. */
export function nodeSessionOptions(provider: NodeExecutionProvider, threads: number, spinning: boolean, layout?: WebGpuLayout): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider === 'webgpu' && layout ? { name: 'webgpu', preferredLayout: layout } : provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

/**
 * Creates stage sessions with onnxruntime-node.
 * @throws RangeError for a thread count that is not a positive integer or an unknown provider.
 */
export function createNodeBackend(options: NodeBackendOptions = {}): NodeStageBackend {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > availableParallelism() * 4) {
    throw new RangeError(`threads: expected a positive integer (this machine has ${availableParallelism()} cores), got ${threads}.`);
  }
  const requested = options.executionProvider ?? 'cpu';
  if (!(NODE_EXECUTION_PROVIDERS as readonly string[]).includes(requested)) {
    throw new RangeError(`executionProvider: expected one of ${NODE_EXECUTION_PROVIDERS.join(', ')}, got ${JSON.stringify(requested)}.`);
  }
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const spinning = options.spinning ?? true;
  if (typeof spinning !== 'boolean') throw new RangeError(`spinning: expected true or false, got ${JSON.stringify(spinning)}.`);
  if (options.fusedOnGpu !== undefined && typeof options.fusedOnGpu !== 'boolean') throw new RangeError(`fusedOnGpu: expected true or false, got ${JSON.stringify(options.fusedOnGpu)}.`);
  const layout = options.preferredLayout;
  if (layout !== undefined && !(WEBGPU_LAYOUTS as readonly string[]).includes(layout)) throw new RangeError(`preferredLayout: expected one of ${WEBGPU_LAYOUTS.join(', ')}, got ${JSON.stringify(layout)}.`);
  let provider: NodeExecutionProvider = requested;
  const helperOptions = nodeSessionOptions(requested, threads, false);
  /** Stages loaded on the device provider so far. */
  let deviceStages = 0;
  const device = new DeviceTensors(ort.Tensor, (bytes, location) => createOrtSession(bytes, { ...helperOptions, preferredOutputLocation: location }));
  return {
    get activeProvider() {
      return provider;
    },
    // CUDA returns every output in host memory (onnxruntime-node has no CUDA buffers for
    // JavaScript): it runs on a device but its carried tensors come back, and are counted.
    get deviceResident() {
      return provider !== 'cpu';
    },
    get liveDeviceTensors() {
      return device.liveCount;
    },
    async createSession(bytes: Uint8Array, stage: Stage): Promise<StageSession> {
      if (provider !== 'cpu') {
        const options = nodeSessionOptions(provider, threads, false, layout);
        try {
          const session = deviceStageSession(await createOrtSession(bytes, provider === 'webgpu' ? { ...options, preferredOutputLocation: deviceOutputLocations(stage) } : options), device);
          deviceStages++;
          return session;
        } catch (e) {
          // The graph's fault (an output the manifest lists but the graph lacks makes the output
          // locations invalid) is an error; only a provider that cannot run falls back.
          const cpu = await createOrtSession(bytes, nodeSessionOptions('cpu', threads, false));
          const missing = stage.outputs.find((o) => !cpu.outputNames.includes(o.name));
          if (missing) {
            await cpu.release();
            throw new Error(`the manifest lists output "${missing.name}", which the graph does not have (outputs: ${cpu.outputNames.join(', ')}).`, { cause: e });
          }
          // Earlier stages already hold device buffers for their outputs: a CPU session for this
          // one would mix the two, so only the first stage may fall back.
          if (deviceStages > 0) {
            await cpu.release();
            throw new Error(`the ${provider} execution provider loaded ${deviceStages} stage(s) but not stage ${stage.index} (${(e as Error).message.split('\n')[0]}).`, { cause: e });
          }
          warn(`onnxruntime-node: the ${provider} execution provider is not usable here (${(e as Error).message.split('\n')[0]}); running on the CPU instead.`);
          provider = 'cpu';
          return deviceStageSession(cpu, device);
        }
      }
      return deviceStageSession(await createOrtSession(bytes, nodeSessionOptions('cpu', threads, false)), device);
    },
    async createFusedSession(bytes: Uint8Array): Promise<StageSession | null> {
      // On a GPU provider the fused graph's decisions (NonZero, Compress, If) run on the CPU with
      // copies at every exit; by default the stage-by-stage engine with device tensors runs there.
      // Its CPU-placed decision nodes are by design: onnxruntime's warning about them is not logged.
      if (provider === 'webgpu' && options.fusedOnGpu) return deviceStageSession(await createOrtSession(bytes, { ...nodeSessionOptions('webgpu', threads, false, layout), logSeverityLevel: 3 }), device);
      if (provider !== 'cpu') return null;
      return deviceStageSession(await createOrtSession(bytes, nodeSessionOptions('cpu', threads, spinning)), device);
    },
    selectDeviceRows(t: DeviceCoreTensor, rows: readonly number[]): Promise<DeviceCoreTensor> {
      return device.selectRows(t, rows);
    },
    release: () => device.release(),
  };
}
