/**
 * @module runtime/core/backend
 * What the engine needs from an inference library: one session per stage graph, run with named
 * feeds. runtime/node implements it with onnxruntime-node; a browser build can do the same with
 * onnxruntime-web, and tests can fake it.
 */
import type { Stage } from '../../manifest/index.js';
import type { CoreTensor, DeviceCoreTensor } from './tensor.js';

/** A loaded stage graph. */
export interface StageSession {
  /** Runs the graph; returns every output by name. */
  run(feeds: Record<string, CoreTensor>): Promise<Record<string, CoreTensor>>;
  /** Frees the session. */
  release(): Promise<void> | void;
}

/** Creates stage sessions from ONNX bytes. */
export interface StageBackend {
  /** @param stage the manifest's entry for this graph (index, inputs and outputs with their roles). */
  createSession(bytes: Uint8Array, stage: Stage): Promise<StageSession>;
  /**
   * Loads the fused early-exit graph (see runtime/core/fuse-stages.ts: one call runs every stage
   * and makes the exit decisions in the graph). Optional: a backend without it, or one whose
   * provider cannot run the graph's control flow well (WebGPU), leaves the engine staged.
   * @returns null when the backend's provider should not run fused graphs.
   */
  createFusedSession?(bytes: Uint8Array): Promise<StageSession | null>;
  /**
   * True while the sessions run on a device and return carried tensors in its memory
   * ({@link DeviceCoreTensor}): the engine then counts every carried tensor that reaches host
   * memory in `stats.deviceDownloads` and every logits read in `stats.logitsDownloads`. Read at
   * each call (a provider may fall back to the CPU at load). Absent: a CPU backend.
   */
  readonly deviceResident?: boolean;
  /**
   * The rows `rows` (ascending indices into axis 0) of a device tensor, as a new device tensor,
   * computed on the device. Optional: without it, the engine reads the tensor back to drop rows.
   */
  selectDeviceRows?(tensor: DeviceCoreTensor, rows: readonly number[]): Promise<DeviceCoreTensor>;
  /** Frees what the backend holds besides the stage sessions (its helper sessions). */
  release?(): Promise<void> | void;
}
