/**
 * The embedded API in one file: `node --conditions=source bin/run-ts.js examples/classify.ts [IMAGE ...]`
 * in a clone (the condition picks the TypeScript sources; without it, the build in dist/).
 * Loads the bundled model, classifies images (the model's samples by default) under three
 * budgets, streams the exits of one image, and closes the model.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdaptiveModel, bundledModelDir } from 'adaptive-exit';

const model = await AdaptiveModel.load(bundledModelDir); // or any directory written by `adaptive-exit export`
const files = process.argv.slice(2);
if (files.length === 0) {
  const dir = join(bundledModelDir, 'samples');
  files.push(...(await readdir(dir)).filter((f) => f.endsWith('.png')).map((f) => join(dir, f)));
}
const images = await Promise.all(files.map((f) => readFile(f)));
const K = model.manifest.stages.length;
// A target between the cheapest and the costliest calibration point of this model.
const points = model.manifest.calibration.points.map((p) => p.expectedMflops);
const target = Number(((Math.min(...points) + Math.max(...points)) / 2).toFixed(2));

for (const [name, budget] of [
  ['default policy', undefined],
  [`average ${target} MFLOPs`, { avgMflops: target }],
  ['at most exit 2', { maxExit: 2 }],
] as const) {
  const results = await model.classify(images, { budget, topK: 3 });
  const mean = results.reduce((a, r) => a + r.mflops, 0) / results.length;
  console.log(`${name}: ${results.map((r) => `${r.label}@${r.exit}`).join(', ')} (mean ${mean.toFixed(2)} MFLOPs)`);
}

// Anytime use: each exit's prediction as its stage completes (every exit: thresholds of Infinity).
for await (const event of model.stream(images[0]!, { budget: { thresholds: new Array(K).fill(Infinity) }, topK: 1 })) {
  const p = event.predictions[0]!;
  console.log(`exit ${event.exit}: ${p.label} ${(100 * p.confidence).toFixed(1)}% after ${p.mflops.toFixed(2)} MFLOPs (${event.stageMs.toFixed(2)} ms)`);
}
await model.close();
