/**
 * @module runtime/node/device-tensors
 * {@link DeviceTensors}: the GPU buffers onnxruntime-node's WebGPU provider returns, as the
 * engine's {@link DeviceCoreTensor}s. It knows the onnxruntime tensor behind each one (to feed it
 * to the next stage as it is), counts the live ones (each must be disposed exactly once), and
 * runs the two helper graphs of runtime/core/device-graphs on the device: row compaction, and the
 * copy to host memory that replaces `Tensor.getData()` (which aborts the process for a GPU
 * buffer in onnxruntime-node 1.30).
 */
import * as ort from 'onnxruntime-node';
import { copyGraph, DEVICE_GRAPH_IO, rowGatherGraph, type DeviceCoreTensor } from '../core/index.js';
import { createOrtSession, type OrtRunner } from './native-session.js';

/** Tracks a backend's device tensors and runs its helper graphs. */
export class DeviceTensors {
  private readonly behind = new WeakMap<DeviceCoreTensor, ort.Tensor>();
  private live = 0;
  /** Helper sessions by kind and rank, created on first use. */
  private readonly helpers = new Map<string, Promise<OrtRunner>>();

  /** @param options the session options of the stage sessions (provider, threads). */
  constructor(private readonly options: ort.InferenceSession.SessionOptions) {}

  /** Device tensors handed out and not yet disposed. */
  get liveCount(): number {
    return this.live;
  }

  /** Wraps a GPU-buffer output; its `dispose` frees the buffer (once, however often called). */
  wrap(t: ort.Tensor): DeviceCoreTensor {
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

  /** The onnxruntime tensor behind a device tensor of this backend. @throws Error for another backend's. */
  unwrap(t: DeviceCoreTensor, what: string): ort.Tensor {
    const ortTensor = this.behind.get(t);
    if (!ortTensor) throw new Error(`${what}: a device tensor from another backend.`);
    return ortTensor;
  }

  /** The rows `rows` of `t`, gathered on the device into a new device tensor. */
  async selectRows(t: DeviceCoreTensor, rows: readonly number[]): Promise<DeviceCoreTensor> {
    const session = await this.helper('gather', t.dims.length, 'gpu-buffer');
    const out = await session.run({
      [DEVICE_GRAPH_IO.input]: this.unwrap(t, 'row compaction'),
      [DEVICE_GRAPH_IO.rows]: new ort.Tensor('int64', BigInt64Array.from(rows, (r) => BigInt(r)), [rows.length]),
    });
    const y = out[DEVICE_GRAPH_IO.output]!;
    if (y.location !== 'gpu-buffer') throw new Error(`row compaction returned its output in ${y.location} memory, not a GPU buffer.`);
    return this.wrap(y);
  }

  /** Copies `t` to host memory through the copy graph. */
  private async download(t: DeviceCoreTensor): Promise<Float32Array> {
    const session = await this.helper('copy', t.dims.length, 'cpu');
    const out = await session.run({ [DEVICE_GRAPH_IO.input]: this.unwrap(t, 'download') });
    return out[DEVICE_GRAPH_IO.output]!.data as Float32Array;
  }

  private helper(kind: 'gather' | 'copy', rank: number, location: 'gpu-buffer' | 'cpu'): Promise<OrtRunner> {
    const key = `${kind}:${rank}`;
    let session = this.helpers.get(key);
    if (!session) {
      session = createOrtSession(kind === 'gather' ? rowGatherGraph(rank) : copyGraph(rank), { ...this.options, preferredOutputLocation: location });
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
