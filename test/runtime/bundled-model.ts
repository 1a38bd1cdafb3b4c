/**
 * Test inputs from the bundled model (models/msdnet-cifar10, shipped in the repository): its ten
 * sample images, preprocessed, plus mirrored and darkened copies so a batch has enough rows for
 * mixed exits. Needs no dataset package.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdaptiveModelBase } from '../../runtime/core/index.js';

export const BUNDLED_MODEL_DIR = new URL('../../models/msdnet-cifar10', import.meta.url).pathname;

/** The bundled sample images (file paths), in name order. */
export async function bundledSamples(): Promise<string[]> {
  const dir = join(BUNDLED_MODEL_DIR, 'samples');
  return (await readdir(dir)).filter((f) => f.endsWith('.png')).sort().map((f) => join(dir, f));
}

/** The samples preprocessed by `model`, then each mirrored, then each darkened: 30 rows [n, C, H, W]. */
export async function bundledBatch(model: AdaptiveModelBase<string>): Promise<{ data: Float32Array; dims: number[] }> {
  const { data, n } = await model.preprocess(await bundledSamples());
  const [, C, H, W] = model.manifest.input.dims as [string, number, number, number]; // an image model
  const per = C * H * W;
  const out = new Float32Array(3 * n * per);
  out.set(data);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const src = i * per + (c * H + y) * W + x;
          out[(n + i) * per + (c * H + y) * W + (W - 1 - x)] = data[src]!;
          out[(2 * n + i) * per + (c * H + y) * W + x] = data[src]! * 0.6 - 0.4;
        }
  }
  return { data: out, dims: [3 * n, C, H, W] };
}
