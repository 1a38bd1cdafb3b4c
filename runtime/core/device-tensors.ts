/**
 * @module runtime/core/device-tensors
 * {@link DeviceTensors}: the GPU buffers an onnxruntime WebGPU provider returns (onnxruntime-node
 * or onnxruntime-web), as the engine's {@link DeviceCoreTensor}s. It knows the library tensor
 * behind each one (to feed it to the next stage as it is), counts the live ones (each is
 * disposed exactly once), and runs the helper graphs of ./device-graphs.ts on the device: row
 * compaction, and the copy to host memory (onnxruntime-node's `Tensor.getData()` aborts the
 * process for a GPU buffer in 1.30, so downloads go through a session in both libraries).
 * It also converts feeds and outputs between the engine's tensors and the library's.
 * Library-agnostic: the platform backend supplies the `Tensor` class and how helper sessions are made.
 */
import type { Stage } from '../../manifest/index.js';
import type { StageSession } from './backend.js';
import { copyGraph, DEVICE_GRAPH_IO, rowGatherGraph } from './device-graphs.js';
import { queued } from './session-queue.js';
import { isDeviceTensor, type CoreTensor, type DeviceCoreTensor } from './tensor.js';

/** A session of a helper graph, in the library's own tensors. */
export interface HelperSession<T> {
  run(feeds: Record<string, T>): Promise<Record<string, T>> | Record<string, T>;
  release(): unknown;
}

/**
 * The part of onnxruntime-common's `Tensor` used here (onnxruntime-node and onnxruntime-web both
 * export that class; runtime/core imports neither).
 */
export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly location: string;
  dispose(): void;
}
/** The `Tensor` constructor, for host-memory tensors. */
export type OrtTensorConstructor<T> = new (type: 'float32' | 'float64' | 'int64', data: Float32Array | Float64Array | BigInt64Array, dims: readonly number[]) => T;

/** Tracks a backend's device tensors and runs its helper graphs. */
export class DeviceTensors<T extends OrtTensorLike> {
  private readonly behind = new WeakMap<DeviceCoreTensor, T>();
  private live = 0;
  /** Helper sessions by kind and rank, created on first use. */
  private readonly helpers = new Map<string, Promise<HelperSession<T>>>();

  /**
   * @param Tensor the library's tensor class
   * @param createSession makes a session of a helper graph on the device, its outputs placed in `location`
   */
  constructor(
    private readonly Tensor: OrtTensorConstructor<T>,
    private readonly createSession: (bytes: Uint8Array, location: 'gpu-buffer' | 'cpu') => Promise<HelperSession<T>>,
  ) {}

  /** A stage session's feeds as library tensors: device tensors as they are, the others wrapped. */
  toFeeds(feeds: Record<string, CoreTensor>): Record<string, T> {
    const out: Record<string, T> = {};
    for (const [name, t] of Object.entries(feeds)) out[name] = isDeviceTensor(t) ? this.unwrap(t, `input "${name}"`) : new this.Tensor(t.type, t.data, t.dims);
    return out;
  }

  /**
   * A stage session's outputs as the engine's tensors: GPU buffers as device tensors, the others
   * as typed arrays. On a bad output, every GPU buffer of the call is freed before the error.
   * @throws Error for an element type the engine does not use.
   */
  fromOutputs(out: Record<string, T>): Record<string, CoreTensor> {
    const result: Record<string, CoreTensor> = {};
    try {
      for (const [name, t] of Object.entries(out)) result[name] = this.toCore(name, t);
    } catch (e) {
      for (const [name, t] of Object.entries(out)) if (!result[name] && t.location === 'gpu-buffer') t.dispose();
      for (const t of Object.values(result)) if (isDeviceTensor(t)) t.dispose();
      throw e;
    }
    return result;
  }

  private toCore(name: string, t: T): CoreTensor {
    if (t.location === 'gpu-buffer') {
      if (t.type !== 'float32') throw new Error(`output "${name}": a ${t.type} GPU buffer; the engine carries float32 tensors only.`);
      return this.wrap(t);
    }
    if (t.type === 'float32') return { type: 'float32', data: t.data as Float32Array, dims: t.dims };
    if (t.type === 'float64') return { type: 'float64', data: t.data as Float64Array, dims: t.dims };
    if (t.type === 'int64') return { type: 'int64', data: t.data as BigInt64Array, dims: t.dims };
    throw new Error(`output "${name}": unsupported element type ${t.type}.`);
  }

  /** Device tensors handed out and not yet disposed. */
  get liveCount(): number {
    return this.live;
  }

  /** Wraps a GPU-buffer tensor; its `dispose` frees the buffer (once, however often called). */
  wrap(t: T): DeviceCoreTensor {
    let disposed = false;
    this.live++;
    const device: DeviceCoreTensor = {
      type: 'float32',
      location: 'device',
      dims: t.dims,
      download: () => this.download(device),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.live--;
        t.dispose();
      },
    };
    this.behind.set(device, t);
    return device;
  }

  /** The library tensor behind a device tensor of this backend. @throws Error for another backend's. */
  unwrap(t: DeviceCoreTensor, what: string): T {
    const tensor = this.behind.get(t);
    if (tensor === undefined) throw new Error(`${what}: a device tensor from another backend.`);
    return tensor;
  }

  /** The rows `rows` of `t`, gathered on the device into a new device tensor. */
  async selectRows(t: DeviceCoreTensor, rows: readonly number[]): Promise<DeviceCoreTensor> {
    const session = await this.helper('gather', t.dims.length);
    const out = await session.run({
      [DEVICE_GRAPH_IO.input]: this.unwrap(t, 'row compaction'),
      [DEVICE_GRAPH_IO.rows]: new this.Tensor('int64', BigInt64Array.from(rows, (r) => BigInt(r)), [rows.length]),
    });
    const y = out[DEVICE_GRAPH_IO.output]!;
    if (y.location !== 'gpu-buffer') throw new Error(`row compaction returned its output in ${y.location} memory, not a GPU buffer.`);
    return this.wrap(y);
  }

  /** Copies `t` to host memory through the copy graph. */
  private async download(t: DeviceCoreTensor): Promise<Float32Array> {
    const session = await this.helper('copy', t.dims.length);
    const out = await session.run({ [DEVICE_GRAPH_IO.input]: this.unwrap(t, 'download') });
    return out[DEVICE_GRAPH_IO.output]!.data as Float32Array;
  }

  private helper(kind: 'gather' | 'copy', rank: number): Promise<HelperSession<T>> {
    const key = `${kind}:${rank}`;
    let session = this.helpers.get(key);
    if (!session) {
      const created = kind === 'gather' ? this.createSession(rowGatherGraph(rank), 'gpu-buffer') : this.createSession(copyGraph(rank), 'cpu');
      // Concurrent calls share the helper; onnxruntime-web sessions are not re-entrant.
      session = created.then((s) => queued(s));
      // A failed creation is not cached: the next call tries again and reports its own error.
      session.catch(() => this.helpers.delete(key));
      this.helpers.set(key, session);
    }
    return session;
  }

  /** Releases the helper sessions. */
  async release(): Promise<void> {
    const sessions = [...this.helpers.values()];
    this.helpers.clear();
    await Promise.all(sessions.map(async (s) => (await s.catch(() => null))?.release()));
  }
}

/**
 * Where a device backend asks onnxruntime to leave each stage output: every carried tensor in a
 * GPU buffer for the next stage, the logits (which decide the exits) in host memory.
 */
export function deviceOutputLocations(stage: Stage): Record<string, 'cpu' | 'gpu-buffer'> {
  return Object.fromEntries(stage.outputs.map((o) => [o.name, o.role.kind === 'logits' ? 'cpu' : 'gpu-buffer']));
}

/** A {@link StageSession} over an onnxruntime session (Node or web): device tensors go in and come out as they are. */
export function deviceStageSession<T extends OrtTensorLike>(session: HelperSession<T>, device: DeviceTensors<T>): StageSession {
  return {
    run: async (feeds) => device.fromOutputs(await session.run(device.toFeeds(feeds))),
    release: async () => {
      await session.release();
    },
  };
}
