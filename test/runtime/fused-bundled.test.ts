/**
 * The fused graph against the staged engine on the bundled model (models/msdnet-cifar10, 6
 * exits, no dataset needed): for every criterion, with thresholds equal to a sample's own
 * confidence (c ≥ T with equality) and per-sample caps, the batch and single forms take the
 * exits the staged engine takes, with the same classes and confidences.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveModel, EarlyExitEngine, EXIT_CRITERIA, createNodeBackend, rowConfidences, softmaxRows, type ClassifyResult } from '../../runtime/node/index.js';
import type { Manifest } from '../../manifest/index.js';
import { BUNDLED_MODEL_DIR, bundledBatch } from './bundled-model.js';
import { edgeBudgets } from './edge-budgets.js';

let manifest: Manifest;
let images: { data: Float32Array; dims: number[] };
let engine: EarlyExitEngine;
/** Per exit: the logits of every row, from the staged engine with every exit run. */
let logits: Float32Array[];

beforeAll(async () => {
  const model = await AdaptiveModel.load(BUNDLED_MODEL_DIR, { fused: false });
  manifest = model.manifest;
  images = await bundledBatch(model);
  const K = manifest.stages.length;
  const n = images.dims[0]!;
  logits = Array.from({ length: K }, () => new Float32Array(0));
  for await (const e of model.stream(images, { budget: { thresholds: new Array<number>(K).fill(Infinity) }, topK: 0 })) logits[e.exit - 1] = e.logits;
  await model.close();
  expect(logits.every((l) => l.length === n * manifest.classNames.length)).toBe(true);
  engine = await EarlyExitEngine.load({ manifest, readFile: (f) => readFile(join(BUNDLED_MODEL_DIR, f)) }, createNodeBackend({ threads: 1 }));
}, 120_000);

afterAll(async () => {
  await engine?.release();
});

const rowsPerStage = (exits: number[], K: number) => Array.from({ length: K }, (_, k) => exits.filter((e) => e >= k + 1).length);

describe('fused graph vs staged engine on the bundled model', () => {
  it('loads both fused forms', () => {
    expect(engine.execution).toBe('fused');
    expect(engine.fusedForms).toEqual(['batch', 'single']);
  });

  it.each(EXIT_CRITERIA)('decides exactly as the staged engine under %s, thresholds equal to confidences, batch and single form', async (criterion) => {
    const K = manifest.stages.length;
    const C = manifest.classNames.length;
    const n = images.dims[0]!;
    const per = images.data.length / n;
    engine.setPolicy({ ...manifest.exitPolicy, criterion }, { ...manifest.calibration, criterion });
    const conf = logits.map((z) => rowConfidences(softmaxRows(z, C), C, criterion));
    const { budgets, want } = edgeBudgets(conf, n, 3);
    expect(new Set(want).size, 'exits spread over several stages').toBeGreaterThanOrEqual(3);

    engine.resetStats();
    const got = await engine.classify(images.data, n, { budget: budgets });
    expect(engine.stats.fusedCalls).toBe(1);
    expect(got.map((r) => r.exit)).toEqual(want);
    got.forEach((r, i) => {
      const z = logits[r.exit - 1]!.subarray(i * C, (i + 1) * C);
      expect(r.classIndex, `sample ${i}`).toBe(z.indexOf(Math.max(...z)));
      expect(r.confidence, `sample ${i}`).toBe(conf[r.exit - 1]![i]);
    });
    expect(engine.stats.rowsPerStage).toEqual(rowsPerStage(want, K));

    engine.resetStats();
    const single: ClassifyResult[] = [];
    for (let i = 0; i < n; i++) single.push(...(await engine.classify(images.data.subarray(i * per, (i + 1) * per), 1, { budget: budgets[i]! })));
    expect(engine.stats.fusedCalls).toBe(n);
    expect(single.map((r) => [r.exit, r.classIndex, r.confidence])).toEqual(got.map((r) => [r.exit, r.classIndex, r.confidence]));
    expect(engine.stats.rowsPerStage).toEqual(rowsPerStage(want, K));
  });

  it('a call with a deadline runs stage by stage, with the staged exits', async () => {
    engine.setPolicy(manifest.exitPolicy, manifest.calibration);
    const n = images.dims[0]!;
    const fused = await engine.classify(images.data, n);
    engine.resetStats();
    const staged = await engine.classify(images.data, n, { budget: { deadlineMs: 600_000 } });
    expect(engine.stats.fusedCalls).toBe(0);
    expect(staged.map((r) => [r.exit, r.classIndex])).toEqual(fused.map((r) => [r.exit, r.classIndex]));
  });
});
