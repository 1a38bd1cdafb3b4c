/**
 * Test helper: switch the tfjs backend within one test file (cpu or wasm with the training
 * kernels), so results of the two can be compared on the same inputs.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../training/backend/tf.js';
import { registerWasmTrainingKernels } from '../../training/backend/wasm-kernels/register-wasm-training-kernels.js';

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') registerWasmTrainingKernels();
  if (tf.getBackend() === name) return;
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`test helper: backend ${name} did not initialise`);
  await tf.ready();
}

/** Largest |a - b| divided by the largest |b| (1 when b is all zeros). */
export function relativeMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}
