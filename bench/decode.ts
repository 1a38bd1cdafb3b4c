/**
 * @module bench/decode
 * `node bin/run-ts.js bench/decode.ts [--model DIR] [--rounds 2000]`: the per-image cost of the
 * server's decode and preprocessing steps on the model's sample PNGs, one at a time: sharp (the
 * path every image took before), fast-png, the small-PNG fast path (node:zlib) and writePixels.
 * Prints a table (µs per image, median of 5 passes); the figures in docs/server-profile.md.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decode as fastPng } from 'fast-png';
import { readManifest } from '../manifest/index.js';
import { decodeSmallPng, decodeWithSharp, imagePreprocessing, writePixels } from '../runtime/node/index.js';
import { DEFAULT_MODEL_DIR } from '../server/default-model.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: DEFAULT_MODEL_DIR }, rounds: { type: 'string', default: '2000' } } });
const dir = resolve(values.model!);
const manifest = await readManifest(dir);
const { width, height } = imagePreprocessing(manifest).resize;
const pngs = readdirSync(join(dir, 'samples')).filter((f) => f.endsWith('.png')).map((f) => new Uint8Array(readFileSync(join(dir, 'samples', f))));
const rounds = Number(values.rounds);
const [, C, H, W] = manifest.input.dims as number[];
const out = new Float32Array(C! * H! * W!);
const pixels = decodeSmallPng(pngs[0]!, width, height)!;

async function time(step: (png: Uint8Array) => unknown): Promise<number> {
  const passes: number[] = [];
  for (let pass = 0; pass < 5; pass++) {
    const t = performance.now();
    for (let i = 0; i < rounds; i++) await step(pngs[i % pngs.length]!);
    passes.push(((performance.now() - t) * 1000) / rounds);
  }
  return passes.sort((a, b) => a - b)[2]!;
}

const rows = {
  'sharp (decodeWithSharp)': await time((png) => decodeWithSharp(png, manifest, 'image')),
  'fast-png decode': await time((png) => fastPng(png)),
  'small-PNG fast path (decodeSmallPng)': await time((png) => decodeSmallPng(png, width, height)),
  'writePixels (preprocess into the tensor)': await time(() => writePixels(pixels, manifest, out, 0)),
};
console.table(Object.entries(rows).map(([step, us]) => ({ step, 'µs per image': us.toFixed(1) })));
