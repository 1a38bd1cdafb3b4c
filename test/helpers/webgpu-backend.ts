/**
 * Test helper: switch to the `webgpu` backend (Dawn, whatever adapter it finds: SwiftShader in
 * CI) or to cpu/wasm within one test file. Needs VK_ICD_FILENAMES and LD_LIBRARY_PATH set by
 * `npm run test:webgpu-train` for SwiftShader.
 */
import { tf } from '../../training/backend/tf.js';
import { loadWebGpuBackend } from '../../training/backend/webgpu-backend.js';
import type { WebGpuAdapterSummary } from '../../training/backend/webgpu-device.js';
import { useBackend } from './backends.js';

let adapter: Promise<WebGpuAdapterSummary> | undefined;

/** Loads the webgpu backend once (software adapters allowed) and returns its adapter. */
export function webGpuAdapter(): Promise<WebGpuAdapterSummary> {
  adapter ??= loadWebGpuBackend({ requireHardware: false });
  return adapter;
}

export async function useTestBackend(name: 'cpu' | 'wasm' | 'webgpu'): Promise<void> {
  if (name !== 'webgpu') return useBackend(name);
  await webGpuAdapter();
  if (tf.getBackend() === name) return;
  if (!(await tf.setBackend(name))) throw new Error('test helper: backend webgpu did not initialise');
  await tf.ready();
}
