/**
 * @module runtime/core/backend
 * What the engine needs from an inference library: one session per stage graph, run with named
 * feeds. runtime/node implements it with onnxruntime-node; a browser build can do the same with
 * onnxruntime-web, and tests can fake it.
 */
import type { Stage } from '../../manifest/index.js';
import type { CoreTensor } from './tensor.js';

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
}
