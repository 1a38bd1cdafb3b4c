/**
 * The early-exit runtime on a real exported model (a few training steps on Fashion-MNIST):
 * staged early exit equals "every exit on every sample (full.onnx), thresholds applied offline",
 * each stage receives only the rows still running, results stay in input order, budgets and
 * caps behave, and the error cases name what is wrong.
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, type Manifest } from '../../manifest/index.js';
import { AdaptiveModel, EarlyExitEngine, createNodeBackend, type ClassifyResult, type Execution } from '../../runtime/node/index.js';
import { rowConfidences, softmaxRows, argmaxRows } from '../../training/eval/index.js';
import { FASHION_MNIST_DIR } from '../../datasets/index.js';
import { HAVE_DATA, buildFixtureModel, testImages } from './fixture.js';
import { edgeBudgets } from './edge-budgets.js';

if (!HAVE_DATA) console.warn(`[runtime engine.test] skipped: ${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist)`);

const N = 64;
let root = '';
let modelDir = '';
let manifest: Manifest;
let models: Record<Execution, AdaptiveModel>;
let images: { data: Float32Array; dims: number[] };
/** Per exit: logits, confidences (training/eval's implementation) and predictions of all N samples from full.onnx. */
let full: { logits: Float32Array[]; confidences: Float32Array[]; predictions: Int32Array[] };
/** Thresholds between the median confidences of each exit (last: always exit). */
let mixedThresholds: number[];

/** Offline exits: first exit k with conf ≥ T_k, or the cap, or the last. */
function offlineExits(thresholds: readonly number[], lastExit = thresholds.length): number[] {
  return Array.from({ length: N }, (_, i) => {
    for (let k = 1; k <= lastExit; k++) if (k === lastExit || full.confidences[k - 1]![i]! >= thresholds[k - 1]!) return k;
    return lastExit;
  });
}
/** Rows each stage sees when samples leave at `exits`. */
const rowsPerStage = (exits: number[], K: number) => Array.from({ length: K }, (_, k) => exits.filter((e) => e >= k + 1).length);

/** A threshold near the median of `values`, halfway between two values that differ by > 1e-4 (robust to float noise). */
function medianThreshold(values: Float32Array): number {
  const s = Array.from(values).sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  for (let d = 0; d < s.length; d++) {
    for (const j of [mid + d, mid - d]) {
      if (j >= 1 && j < s.length && s[j]! - s[j - 1]! > 1e-4) return (s[j]! + s[j - 1]!) / 2;
    }
  }
  throw new Error('no usable threshold');
}

beforeAll(async () => {
  if (!HAVE_DATA) return;
  ({ root, model: modelDir } = await buildFixtureModel('ae-runtime-'));
  manifest = await readManifest(modelDir);
  images = await testImages(N);
  models = { fused: await AdaptiveModel.load(modelDir, { threads: 1 }), staged: await AdaptiveModel.load(modelDir, { threads: 1, fused: false }) };

  const session = await ort.InferenceSession.create(await readFile(join(modelDir, manifest.fullModel!.file)), { intraOpNumThreads: 1 });
  const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', images.data, images.dims) });
  await session.release();
  const C = manifest.classNames.length;
  const logits = manifest.fullModel!.outputs.map((name) => out[name]!.data as Float32Array);
  full = {
    logits,
    confidences: logits.map((z) => rowConfidences(softmaxRows(z, C), C, manifest.exitPolicy.criterion)),
    predictions: logits.map((z) => argmaxRows(z, C)),
  };
  mixedThresholds = full.confidences.map((c, k) => (k === full.confidences.length - 1 ? -1e8 : medianThreshold(c)));
}, 300_000);

afterAll(async () => {
  await models?.fused.close();
  await models?.staged.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.skipIf(!HAVE_DATA).each(['fused', 'staged'] as const)('runtime: early exit on a real exported model, %s', (execution) => {
  let model: AdaptiveModel;
  beforeAll(() => {
    model = models[execution];
  });

  it('runs as asked: the fused graph composed from the stage graphs, or stage by stage', () => {
    expect(model.execution).toBe(execution);
  });

  it('equals full.onnx with the thresholds applied offline, and each stage only gets the rows still running', async () => {
    const K = manifest.stages.length;
    expect(K).toBe(3);
    const expected = offlineExits(mixedThresholds);
    // Mixed: some leave at exit 1, some at 2, some at 3.
    for (let k = 1; k <= K; k++) expect(expected.filter((e) => e === k).length).toBeGreaterThan(0);

    model.resetStats();
    const results = await model.classify(images, { budget: { thresholds: mixedThresholds }, topK: 3 });
    expect(results).toHaveLength(N);
    results.forEach((r, i) => {
      const k = expected[i]!;
      expect(r.exit, `sample ${i}`).toBe(k);
      expect(r.classIndex, `sample ${i}`).toBe(full.predictions[k - 1]![i]);
      expect(r.label).toBe(manifest.classNames[r.classIndex]);
      expect(Math.abs(r.confidence - full.confidences[k - 1]![i]!)).toBeLessThan(1e-5);
      expect(r.mflops).toBe(manifest.stages[k - 1]!.cumulativeMflops);
      // Fused: one session call for the whole batch, so one time.
      expect(r.stageMs).toHaveLength(execution === 'fused' ? 1 : k);
      expect(r.topK).toHaveLength(3);
      expect(r.topK[0]!.classIndex).toBe(r.classIndex);
      expect(r.topK[0]!.probability).toBeGreaterThanOrEqual(r.topK[1]!.probability);
    });
    expect(model.stats.rowsPerStage).toEqual(rowsPerStage(expected, K));
    expect(model.stats.rowsPerStage[1]).toBeLessThan(N);
    expect(model.stats.callsPerStage).toEqual([1, 1, 1]);
    expect(model.stats.fusedCalls).toBe(execution === 'fused' ? 1 : 0);
  });

  it('the default policy matches the offline default policy too', async () => {
    model.resetStats();
    const results = await model.classify(images);
    const expected = offlineExits(manifest.exitPolicy.default.thresholds);
    expect(results.map((r) => r.exit)).toEqual(expected);
    expect(results.map((r) => r.classIndex)).toEqual(expected.map((k, i) => full.predictions[k - 1]![i]));
    expect(model.stats.rowsPerStage).toEqual(rowsPerStage(expected, 3));
  });

  it('keeps every sample in its place: a permuted batch gives the permuted results', async () => {
    const per = 28 * 28;
    const perm = Array.from({ length: N }, (_, i) => (i * 37 + 11) % N); // 37 is coprime to 64
    const shuffled = new Float32Array(N * per);
    perm.forEach((src, dst) => shuffled.set(images.data.subarray(src * per, (src + 1) * per), dst * per));
    const a = await model.classify(images, { budget: { thresholds: mixedThresholds } });
    const b = await model.classify({ data: shuffled, dims: images.dims }, { budget: { thresholds: mixedThresholds } });
    perm.forEach((src, dst) => {
      expect(b[dst]!.exit).toBe(a[src]!.exit);
      expect(b[dst]!.classIndex).toBe(a[src]!.classIndex);
      expect(Math.abs(b[dst]!.confidence - a[src]!.confidence)).toBeLessThan(1e-5);
    });
  });

  it('applies per-sample budgets within one batch', async () => {
    const never = [1e8, 1e8, 1e8];
    const budgets = Array.from({ length: N }, (_, i) =>
      i % 3 === 0 ? { maxExit: 1 } : i % 3 === 1 ? { thresholds: never, maxExit: 2 } : { thresholds: mixedThresholds },
    );
    model.resetStats();
    const results = await model.classify(images, { budget: budgets });
    const mixed = offlineExits(mixedThresholds);
    const want = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 2 : mixed[i]!));
    expect(results.map((r) => r.exit)).toEqual(want);
    expect(results.map((r) => r.classIndex)).toEqual(want.map((k, i) => full.predictions[k - 1]![i]));
    expect(model.stats.rowsPerStage).toEqual(rowsPerStage(want, 3));
  });

  it('a larger avgMflops never lowers the average exit; maxMflops and maxExit caps are never exceeded', async () => {
    const costs = manifest.stages.map((s) => s.cumulativeMflops);
    const points = manifest.calibration.points;
    expect(points.length).toBeGreaterThan(0);
    const targets = [...new Set(points.map((p) => p.expectedMflops))].sort((a, b) => a - b);
    targets.push(costs.at(-1)! * 2);
    let prevAvg = 0;
    let prevSpent = 0;
    for (const target of targets) {
      const r = await model.classify(images, { budget: { avgMflops: target } });
      const avgExit = r.reduce((s, x) => s + x.exit, 0) / N;
      const spent = r.reduce((s, x) => s + x.mflops, 0) / N;
      expect(avgExit).toBeGreaterThanOrEqual(prevAvg);
      expect(spent).toBeGreaterThanOrEqual(prevSpent);
      prevAvg = avgExit;
      prevSpent = spent;
    }
    await expect(model.classify(images, { budget: { avgMflops: Math.min(...targets) / 2 } })).rejects.toThrow(/avgMflops: .* is below the cheapest calibration point/);

    const never = [1e8, 1e8, 1e8];
    for (const [k, cost] of costs.entries()) {
      for (const budget of [{ maxMflops: cost }, { maxMflops: cost * 1.01 }, { maxExit: k + 1 }, { thresholds: never, maxExit: k + 1 }, { thresholds: never, maxMflops: cost }]) {
        model.resetStats();
        const r = await model.classify(images, { budget });
        for (const x of r) {
          expect(x.exit).toBeLessThanOrEqual(k + 1);
          expect(x.mflops).toBeLessThanOrEqual(cost);
        }
        expect(model.stats.rowsPerStage.slice(k + 1).every((rows) => rows === 0)).toBe(true);
        if (budget.thresholds) {
          // Never confident enough: everyone runs to the cap and exits there with that exit's prediction.
          expect(r.every((x) => x.exit === k + 1)).toBe(true);
          expect(r.map((x) => x.classIndex)).toEqual(Array.from(full.predictions[k]!));
        }
      }
    }
    await expect(model.classify(images, { budget: { maxMflops: costs[0]! / 2 } })).rejects.toThrow(/maxMflops: .* is below the cost of exit 1/);
  });

});

describe.skipIf(!HAVE_DATA)('runtime: EarlyExitEngine on a real exported model', () => {
  let model: AdaptiveModel;
  beforeAll(() => {
    model = models.fused;
  });

  it('names a stage file whose SHA-256 does not match the manifest', async () => {
    const bad = join(root, 'corrupt');
    await cp(modelDir, bad, { recursive: true });
    const file = join(bad, 'stage_2.onnx');
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(file, bytes);
    await expect(AdaptiveModel.load(bad)).rejects.toThrow(/stage_2\.onnx: SHA-256 mismatch: the manifest expects [0-9a-f]{64}, the file has [0-9a-f]{64}/);
    // Without verification, onnxruntime's own error still names the file.
    await expect(AdaptiveModel.load(bad, { verify: false })).rejects.toThrow(/stage_2\.onnx: cannot load stage 2's graph/);
    await cp(join(modelDir, 'stage_2.onnx'), file);
    await rm(join(bad, 'stage_3.onnx'));
    await expect(AdaptiveModel.load(bad)).rejects.toThrow(/stage_3\.onnx: cannot read stage 3's graph/);
  });

  it('names unknown budget fields, bad budgets and wrong input sizes', async () => {
    await expect(model.classify(images, { budget: { avgMflop: 3 } as never })).rejects.toThrow(
      'budget: unknown field "avgMflop"; allowed fields are thresholds, avgMflops, maxMflops, maxExit, deadlineMs.',
    );
    const budgets = Array.from({ length: N }, (_, i) => (i === 5 ? ({ maxexit: 1 } as never) : {}));
    await expect(model.classify(images, { budget: budgets })).rejects.toThrow(/budget\[5\]: unknown field "maxexit"/);
    await expect(model.classify(images, { budget: [{}] })).rejects.toThrow(/one per sample \(64\), got 1/);
    await expect(model.classify(images, { budget: { thresholds: [0.5] } })).rejects.toThrow(/budget\.thresholds: expected 3 numbers/);
    await expect(model.classify(images, { budget: { thresholds: mixedThresholds, avgMflops: 1 } })).rejects.toThrow(/either thresholds or avgMflops/);
    await expect(model.classify(images, { budget: { maxExit: 4 } })).rejects.toThrow(/maxExit: expected an integer in 1\.\.3, got 4/);

    await expect(model.classify({ data: images.data, dims: [N, 3, 28, 28] })).rejects.toThrow('input.dims: expected [n, 1, 28, 28]');
    await expect(model.classify({ data: images.data.subarray(1), dims: images.dims })).rejects.toThrow(/input\.data: expected 64×1×28×28 = 50176 values .* got 50175/);
    await expect(model.classify({ data: images.data, dims: [N + 1, 1, 28, 28] })).rejects.toThrow(/input\.data: expected/);
  });

  it('the core engine checks the flat input size too, handles an empty batch and single samples', async () => {
    const engine = await EarlyExitEngine.load({ manifest, readFile: (f) => readFile(join(modelDir, f)) }, createNodeBackend({ threads: 1 }));
    try {
      await expect(engine.classify(images.data, N + 1)).rejects.toThrow(/input: expected 65 × 1×28×28 = 50960 float32 values .* got 50176/);
      expect(await engine.classify(new Float32Array(0), 0)).toEqual([]);
      const one: ClassifyResult[] = [];
      for (const i of [0, 1, 2, 3]) one.push(...(await engine.classify(images.data.subarray(i * 784, (i + 1) * 784), 1, { budget: { thresholds: mixedThresholds } })));
      const batch = await engine.classify(images.data.subarray(0, 4 * 784), 4, { budget: { thresholds: mixedThresholds } });
      expect(one.map((r) => [r.exit, r.classIndex])).toEqual(batch.map((r) => [r.exit, r.classIndex]));
    } finally {
      await engine.release();
    }
  });

  it('the fused graph decides exactly as the staged engine, at thresholds equal to a confidence, for every criterion', async () => {
    const read = (f: string) => readFile(join(modelDir, f));
    const backend = createNodeBackend({ threads: 1 });
    const fused = await EarlyExitEngine.load({ manifest, readFile: read }, backend);
    const K = manifest.stages.length;
    const C = manifest.classNames.length;
    try {
      expect(fused.execution).toBe('fused');
      expect(fused.fusedForms).toEqual(['batch', 'single']);
      for (const criterion of ['max-softmax', 'entropy', 'margin'] as const) {
        fused.setPolicy({ ...manifest.exitPolicy, criterion }, { ...manifest.calibration, criterion });
        const conf = full.logits.map((z) => rowConfidences(softmaxRows(z, C), C, criterion));
        const { budgets, want } = edgeBudgets(conf, N, 2);
        fused.resetStats();
        const got = await fused.classify(images.data, N, { budget: budgets });
        expect(fused.stats.fusedCalls, criterion).toBe(1);
        expect(got.map((r) => r.exit), criterion).toEqual(want);
        expect(got.map((r) => r.classIndex), criterion).toEqual(want.map((k, i) => full.predictions[k - 1]![i]));
        got.forEach((r, i) => expect(r.confidence, `${criterion} sample ${i}`).toBe(conf[r.exit - 1]![i]));

        // One sample per call runs the single form (no compaction): the same decisions, one
        // fused call each, and each stage counted once for every sample that reached it.
        fused.resetStats();
        const single: ClassifyResult[] = [];
        for (let i = 0; i < N; i++) single.push(...(await fused.classify(images.data.subarray(i * 784, (i + 1) * 784), 1, { budget: budgets[i]! })));
        expect(fused.stats.fusedCalls, criterion).toBe(N);
        expect(single.map((r) => r.exit), criterion).toEqual(want);
        expect(single.map((r) => [r.classIndex, r.confidence, r.mflops]), criterion).toEqual(got.map((r) => [r.classIndex, r.confidence, r.mflops]));
        expect(fused.stats.rowsPerStage, criterion).toEqual(rowsPerStage(want, K));
        expect(fused.stats.callsPerStage, criterion).toEqual(rowsPerStage(want, K));
      }
      // A deadline needs per-stage timing: that call runs stage by stage.
      fused.resetStats();
      await fused.classify(images.data, N, { budget: { deadlineMs: 60_000 } });
      expect(fused.stats.fusedCalls).toBe(0);
    } finally {
      await fused.release();
    }
  });
});
