/**
 * @module training/backend/webgpu-backend
 * Loads tfjs-backend-webgpu on Dawn in Node. Its own kernels cover a training step, forward and
 * backward (test/training/backend/webgpu-kernels.webgpu.test.ts checks each against the CPU backend).
 */
import { findBackendFactory } from '@tensorflow/tfjs-core';
import { describeWebGpuAdapter, probeWebGpuAdapter, type WebGpuAdapterSummary } from './webgpu-device.js';

/**
 * tfjs-backend-webgpu reads a GPU buffer synchronously by drawing it into an `OffscreenCanvas`,
 * which Node lacks: `dataSync()` would fail with "OffscreenCanvas is not defined". This makes
 * that failure say what to do instead (training code reads with `await data()`). Data still on
 * the CPU side is read as before: tfjs itself reads such small tensors synchronously (its Concat
 * of small CPU-resident inputs, for one, as in the BatchNorm running-statistic update).
 */
function explainSyncReads(proto: { readSync(dataId: object): unknown }): void {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return;
  const readSync = proto.readSync;
  proto.readSync = function (this: { tensorMap: { get(dataId: object): { values?: unknown; dtype?: string } | undefined } }, dataId: object) {
    const data = this.tensorMap.get(dataId);
    if (data !== undefined && (data.values != null || data.dtype === 'string')) return readSync.call(this, dataId);
    throw new Error('webgpu backend in Node: synchronous reads (dataSync, arraySync) are unavailable; read tensors with await data()');
  };
}

export interface WebGpuLoadOptions {
  /**
   * Refuse software adapters (SwiftShader, llvmpipe, fallback adapters): `auto` selection sets
   * it, since those train slower than WASM; an explicit `--backend webgpu` does not.
   */
  requireHardware: boolean;
}

/**
 * Installs `navigator.gpu` from Dawn, imports tfjs-backend-webgpu (which registers the `webgpu`
 * backend only when `navigator.gpu` exists at import).
 * With `requireHardware`, the adapter is first described from a child process, so that a
 * machine without a GPU driver never loads Dawn into this one.
 * @returns The adapter tfjs will run on.
 * @throws Error naming the reason when there is no adapter, or only a software one with `requireHardware`.
 */
export async function loadWebGpuBackend(options: WebGpuLoadOptions): Promise<WebGpuAdapterSummary> {
  if (options.requireHardware) {
    const probed = await probeWebGpuAdapter();
    if ('error' in probed) throw new Error(probed.error);
    if (probed.software) throw new Error(`adapter ${probed.name} is ${probed.software}: auto never trains on it (--backend webgpu forces it)`);
  }
  const adapter = await describeWebGpuAdapter();
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  if (!findBackendFactory('webgpu')) {
    throw new Error('@tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed, so it registered no backend');
  }
  explainSyncReads(WebGPUBackend.prototype);
  return adapter;
}
