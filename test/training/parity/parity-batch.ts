/**
 * Test helper: the batch both sides of the step parity train on: the first images of CIFAR-10's
 * test split where `adaptive-exit data cifar10` has put it in its default folder, else random
 * CIFAR-shaped bytes (seeded), normalised the same way either way.
 */
import { existsSync } from 'node:fs';
import {
  CIFAR10_CLASSES,
  CIFAR10_NORMALIZATION,
  CIFAR_IMAGE_SIZE,
  DEFAULT_CIFAR10_DIR,
  SeededRng,
  epochBatches,
  readCifar10,
  type Uint8Dataset,
} from '../../../datasets/index.js';
import type { ParityBatch } from './step-runners.js';

function randomCifar(count: number, seed: number): Uint8Dataset {
  const rng = new SeededRng(seed);
  const images = new Uint8Array(count * CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE * 3).map(() => rng.nextInt(256));
  const labels = new Uint8Array(count).map(() => rng.nextInt(CIFAR10_CLASSES.length));
  return { images, labels, count, height: CIFAR_IMAGE_SIZE, width: CIFAR_IMAGE_SIZE, channels: 3, classNames: CIFAR10_CLASSES.slice() };
}

/** `size` images with their labels, and where they came from. */
export async function parityBatch(size: number, dir = DEFAULT_CIFAR10_DIR): Promise<ParityBatch & { source: string }> {
  const real = existsSync(dir);
  const dataset = real ? await readCifar10(dir, { split: 'test' }) : randomCifar(size, 23);
  const indices = Array.from({ length: size }, (_, i) => i);
  const [batch] = [...epochBatches(dataset, { batchSize: size, normalization: CIFAR10_NORMALIZATION, indices })];
  return {
    images: batch!.images,
    labels: batch!.labels,
    shape: batch!.shape,
    source: real ? `CIFAR-10 test images 0..${size - 1} from ${dir}` : `random CIFAR-shaped bytes (no CIFAR-10 at ${dir})`,
  };
}
