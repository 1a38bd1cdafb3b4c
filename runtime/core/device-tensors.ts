/**
 * @module runtime/core/device-tensors
 * {@link DeviceTensors}: the GPU buffers an onnxruntime WebGPU provider returns (onnxruntime-node
 * or onnxruntime-web), as the engine's {@link DeviceCoreTensor}s. It knows the library tensor
 * behind each one (to feed it to the next stage as it is), counts the live ones (each is
 * disposed exactly once), and runs the helper graphs of ./device-graphs.ts on the device: row
 * compaction, and the copy to host memory (onnxruntime-node's `Tensor.getData()` aborts the
 * process for a GPU buffer in 1.30, so downloads go through a session in both libraries).
 * Library-agnostic: the platform backend supplies a {@link DeviceLibrary}.
 */
import { copyGraph, DEVICE_GRAPH_IO, rowGatherGraph } from './device-graphs.js';
import type { DeviceCoreTensor } from './tensor.js';

/** A session of a helper graph, in the library's own tensors. */
export interface HelperSession<T> {
  run(feeds: Record<string, T>): Promise<Record<string, T>> | Record<string, T>;
  release(): unknown;
}

/** What {@link DeviceTensors} needs from the inference library, for its tensor type T. */
export interface DeviceLibrary<T> {
  /** A session of `bytes` on the device, its outputs placed in `location`. */
  createSession(bytes: Uint8Array, location: 'gpu-buffer' | 'cpu'): Promise<HelperSession<T>>;
  /** An int64 tensor in host memory. */
  int64(data: BigInt64Array, dims: readonly number[]): T;
  /** Where a tensor's data lives. */
  location(t: T): string;
  dims(t: T): readonly number[];
  /** The data of a float32 tensor in host memory. */
  hostData(t: T): Float32Array;
  dispose(t: T): void;
}

/** Tracks a backend's device tensors and runs its helper graphs. */
export class DeviceTensors<T> {
  private readonly behind = new WeakMap<DeviceCoreTensor, T>();
  private live = 0;
  /** Helper sessions by kind and rank, created on first use. */
  private readonly helpers = new Map<string, Promise<HelperSession<T>>>();

  constructor(private readonly lib: DeviceLibrary<T>) {}

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
      dims: this.lib.dims(t),
      download: () => this.download(device),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.live--;
        this.lib.dispose(t);
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
      [DEVICE_GRAPH_IO.rows]: this.lib.int64(BigInt64Array.from(rows, (r) => BigInt(r)), [rows.length]),
    });
    const y = out[DEVICE_GRAPH_IO.output]!;
    if (this.lib.location(y) !== 'gpu-buffer') throw new Error(`row compaction returned its output in ${this.lib.location(y)} memory, not a GPU buffer.`);
    return this.wrap(y);
  }

  /** Copies `t` to host memory through the copy graph. */
  private async download(t: DeviceCoreTensor): Promise<Float32Array> {
    const session = await this.helper('copy', t.dims.length);
    const out = await session.run({ [DEVICE_GRAPH_IO.input]: this.unwrap(t, 'download') });
    return this.lib.hostData(out[DEVICE_GRAPH_IO.output]!);
  }

  private helper(kind: 'gather' | 'copy', rank: number): Promise<HelperSession<T>> {
    const key = `${kind}:${rank}`;
    let session = this.helpers.get(key);
    if (!session) {
      session = kind === 'gather' ? this.lib.createSession(rowGatherGraph(rank), 'gpu-buffer') : this.lib.createSession(copyGraph(rank), 'cpu');
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
