/**
 * Test fixture for the runtime: a real MSDNet run, trained for a few steps on Fashion-MNIST and
 * exported (3 stage graphs + full.onnx + manifest), plus real normalised test images.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportRun } from '../../export/index.js';
import { FASHION_MNIST_DIR, readFashionMnist } from '../../datasets/index.js';
import { evaluateRun, trainRun } from '../../training/trainer/index.js';
import { tinyFashionRun } from '../helpers/tiny-run.js';
import { useBackend } from '../helpers/backends.js';

export const HAVE_DATA = existsSync(FASHION_MNIST_DIR);

/** Fashion-MNIST normalisation used by the exporter's manifest. */
export const MEAN = 0.286;
export const STD = 0.353;

/** Trains a tiny 3-exit run, evaluates it and exports it; returns { root, model } directories. */
export async function buildFixtureModel(prefix: string): Promise<{ root: string; model: string }> {
  await useBackend('wasm');
  const root = await mkdtemp(join(tmpdir(), prefix));
  const run = join(root, 'run');
  await trainRun(run, tinyFashionRun({ limitTrain: 256 }));
  // eval.json gives the manifest a real calibration table (avgMflops budgets).
  await evaluateRun(run);
  const model = join(root, 'model');
  await exportRun(run, model);
  return { root, model };
}

/** The first `n` (from `offset`) Fashion-MNIST test images, normalised, NCHW [n, 1, 28, 28]. */
export async function testImages(n: number, offset = 0): Promise<{ data: Float32Array; labels: Uint8Array; dims: number[] }> {
  const ds = await readFashionMnist({ split: 'test' });
  const per = 28 * 28;
  const data = new Float32Array(n * per);
  for (let i = 0; i < n * per; i++) data[i] = (ds.images[offset * per + i]! / 255 - MEAN) / STD;
  return { data, labels: ds.labels.slice(offset, offset + n), dims: [n, 1, 28, 28] };
}
