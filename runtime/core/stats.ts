/**
 * @module runtime/core/stats
 * The counters an engine keeps about the work it did ({@link EngineStats}).
 */

/** Rows each stage session received, summed over classify calls since the last reset. */
export interface EngineStats {
  /** rowsPerStage[k-1]: rows fed to stage k. */
  rowsPerStage: number[];
  /** callsPerStage[k-1]: session runs of stage k. */
  callsPerStage: number[];
  /** Samples classified. */
  samples: number;
  /**
   * Carried tensors (features a later stage reads) that reached host memory by any route: read
   * back to drop rows, or returned by the backend in CPU memory although it runs on a device.
   * Always 0 on CPU backends (there is no device) and on WebGPU, whose carried tensors stay in
   * GPU buffers; on CUDA every carried tensor comes back to the host and counts here.
   */
  deviceDownloads: number;
  /** Logits tensors a device backend returned to host memory (the exit decisions need them). */
  logitsDownloads: number;
  /** Classify calls that ran the fused graph (their rows are counted in rowsPerStage too). */
  fusedCalls: number;
}

export function newStats(stages: number): EngineStats {
  return { rowsPerStage: new Array<number>(stages).fill(0), callsPerStage: new Array<number>(stages).fill(0), samples: 0, deviceDownloads: 0, logitsDownloads: 0, fusedCalls: 0 };
}

export function resetStats(stats: EngineStats): void {
  stats.rowsPerStage.fill(0);
  stats.callsPerStage.fill(0);
  stats.samples = 0;
  stats.deviceDownloads = 0;
  stats.logitsDownloads = 0;
  stats.fusedCalls = 0;
}
