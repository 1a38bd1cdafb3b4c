/**
 * @module cli/quiet-backend
 * Commands that only build models (no training) use the CPU backend without logging a choice.
 */
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../training/backend/tf.js';

export async function useQuietBackend(): Promise<void> {
  await tf.setBackend('cpu');
}
