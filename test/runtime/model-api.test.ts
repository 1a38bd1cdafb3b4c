/**
 * The embedded API on a real exported model: images in (PNG bytes, paths, raw pixels) equal the
 * preprocessed tensor, stream() yields each exit as it completes and equals full.onnx, deadlines
 * stop at the best exit reached, calibrate() equals the offline budgeted-batch table, concurrent
 * callers get their own results, unusable execution providers fall back to the CPU, and
 * runtime/web (WASM, in Node) returns what runtime/node returns.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readManifest, type Manifest } from '../../manifest/index.js';
import { AdaptiveModel, InputError, type ClassifyResult } from '../../runtime/node/index.js';
import { AdaptiveModel as WebAdaptiveModel } from '../../runtime/web/index.js';
import { argmaxRows, budgetedBatch, exitScores } from '../../training/eval/index.js';
import { readFashionMnist } from '../../datasets/index.js';
import { HAVE_DATA, buildFixtureModel, testImages } from './fixture.js';

const N = 48;
let root = '';
let modelDir = '';
let manifest: Manifest;
let model: AdaptiveModel;
let images: { data: Float32Array; labels: Uint8Array; dims: number[] };
let raw: Uint8Array;
/** Per exit, full.onnx logits of the N images. */
let fullLogits: Float32Array[];

const everyExit = () => ({ thresholds: new Array<number>(manifest.stages.length).fill(Infinity) });
const summary = (rs: ClassifyResult[]) => rs.map((r) => [r.exit, r.classIndex]);

beforeAll(async () => {
  if (!HAVE_DATA) return;
  ({ root, model: modelDir } = await buildFixtureModel('ae-model-api-'));
  manifest = await readManifest(modelDir);
  images = await testImages(N);
  raw = (await readFashionMnist({ split: 'test' })).images.slice(0, N * 784);
  model = await AdaptiveModel.load(modelDir);
  const session = await ort.InferenceSession.create(await readFile(join(modelDir, manifest.fullModel!.file)), { intraOpNumThreads: 1 });
  const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', images.data, images.dims) });
  await session.release();
  fullLogits = manifest.fullModel!.outputs.map((name) => out[name]!.data as Float32Array);
}, 300_000);

afterAll(async () => {
  await model?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.skipIf(!HAVE_DATA)('runtime: the embedded API', () => {
  it('classifies PNG bytes, file paths and raw pixels like the preprocessed tensor', async () => {
    const byTensor = await model.classify(images, { topK: 3 });
    const pngs = await Promise.all(Array.from({ length: 6 }, (_, i) => sharp(raw.subarray(i * 784, (i + 1) * 784), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer()));
    const byPng = await model.classify(pngs, { topK: 3 });
    await mkdir(join(root, 'png'), { recursive: true });
    const path = join(root, 'png', 'zero.png');
    await writeFile(path, pngs[0]!);
    const [byPath] = await model.classify(path);
    const byPixels = await model.classify({ data: raw.subarray(784, 2 * 784), width: 28, height: 28, channels: 1 });
    byPng.forEach((r, i) => {
      expect([r.exit, r.classIndex]).toEqual([byTensor[i]!.exit, byTensor[i]!.classIndex]);
      expect(Math.abs(r.confidence - byTensor[i]!.confidence)).toBeLessThan(1e-5);
    });
    expect([byPath!.exit, byPath!.classIndex]).toEqual([byTensor[0]!.exit, byTensor[0]!.classIndex]);
    expect([byPixels[0]!.exit, byPixels[0]!.classIndex]).toEqual([byTensor[1]!.exit, byTensor[1]!.classIndex]);
    // An RGB image of another size is resized and converted to grey.
    const rgb = await sharp({ create: { width: 50, height: 40, channels: 3, background: { r: 200, g: 30, b: 90 } } }).jpeg().toBuffer();
    const [r] = await model.classify(rgb);
    expect(r!.exit).toBeGreaterThanOrEqual(1);
  });

  it('names undecodable, empty and unsupported images', async () => {
    await expect(model.classify(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/image: cannot decode the image/);
    await expect(model.classify(new Uint8Array(0))).rejects.toThrow('image: empty image (0 bytes).');
    await expect(model.classify([images.data.subarray(0, 10) as never])).rejects.toThrow(InputError);
    await expect(model.classify(42 as never)).rejects.toThrow(/image: expected encoded image bytes/);
    await expect(model.classify({ data: new Uint8Array(5), width: 2, height: 2, channels: 1 })).rejects.toThrow(/raw pixels need width × height × channels/);
    // A decompression bomb: a few kilobytes of PNG describing 60 megapixels.
    const bomb = await sharp({ create: { width: 10_000, height: 6_000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(1_000_000);
    await expect(model.classify(bomb)).rejects.toThrow(/image: cannot decode the image: .*pixel limit/);
    // The model stays usable.
    expect(await model.classify(images)).toHaveLength(N);
  });

  it('stream() yields every exit in order, equal to full.onnx, and its final predictions equal classify()', async () => {
    const K = manifest.stages.length;
    const exits: number[] = [];
    for await (const e of model.stream(images, { budget: everyExit(), topK: 1 })) {
      exits.push(e.exit);
      expect(e.predictions.map((p) => p.index)).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(e.predictions.map((p) => p.classIndex)).toEqual(Array.from(argmaxRows(fullLogits[e.exit - 1]!, 10)));
      expect(e.predictions.every((p) => p.final === (e.exit === K))).toBe(true);
    }
    expect(exits).toEqual(Array.from({ length: K }, (_, k) => k + 1));

    const finals: ClassifyResult[] = new Array(N);
    for await (const e of model.stream(images)) for (const p of e.predictions) if (p.final) finals[p.index] = p;
    expect(summary(finals)).toEqual(summary(await model.classify(images)));
  });

  it('stopping a stream stops the computation', async () => {
    model.resetStats();
    for await (const e of model.stream(images, { budget: everyExit() })) if (e.exit === 1) break;
    expect(model.stats.rowsPerStage).toEqual([N, 0, 0]);
  });

  it('deadlineMs: an expired deadline leaves at exit 1 (which always runs); a generous one changes nothing', async () => {
    const tight = await model.classify(images, { budget: { ...everyExit(), deadlineMs: 1e-9 } });
    expect(tight.every((r) => r.exit === 1)).toBe(true);
    const loose = await model.classify(images, { budget: { ...everyExit(), deadlineMs: 60_000 } });
    expect(loose.every((r) => r.exit === manifest.stages.length)).toBe(true);
    const perSample = await model.classify(images, { budget: Array.from({ length: N }, (_, i) => ({ ...everyExit(), deadlineMs: i % 2 === 0 ? 1e-9 : 60_000 })) });
    expect(perSample.map((r) => r.exit)).toEqual(Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 1 : manifest.stages.length)));
    await expect(model.classify(images, { budget: { deadlineMs: 0 } })).rejects.toThrow(/budget\.deadlineMs: expected a positive finite number, got 0/);
  });

  it('calibrate() equals the offline budgeted-batch table and is used by later budgets', async () => {
    const labels = Array.from(images.labels);
    // Its own instance: calibration changes the model's policy, and the other tests use the exported one.
    const model = await AdaptiveModel.load(modelDir);
    onTestFinished(() => model.close());
    const result = await model.calibrate({ input: images, labels }, { criterion: 'margin', ps: [0.2, 0.6, 1.2] });
    const offline = budgetedBatch({
      val: exitScores({ numExits: 3, numClasses: 10, count: N, logits: fullLogits, labels: Int32Array.from(labels) }, 'margin'),
      test: exitScores({ numExits: 3, numClasses: 10, count: N, logits: fullLogits, labels: Int32Array.from(labels) }, 'margin'),
      mflops: manifest.stages.map((s) => s.cumulativeMflops),
      ps: [0.2, 0.6, 1.2],
    });
    expect(result.calibration.criterion).toBe('margin');
    expect(result.calibration.points.map((p) => p.p)).toEqual([0.2, 0.6, 1.2]);
    result.calibration.points.forEach((p, i) => {
      p.thresholds.forEach((t, k) => expect(Math.abs(t - offline[i]!.thresholds[k]!)).toBeLessThan(1e-4));
      expect(Math.abs(p.expectedMflops - offline[i]!.valExpectedMflops)).toBeLessThan(1e-6 + 0.05 * p.expectedMflops);
    });
    expect(model.manifest.exitPolicy.criterion).toBe('margin');
    // The costliest point within the budget is used: its realised cost on the same set is what it promised.
    const target = result.calibration.points[1]!.expectedMflops;
    const rs = await model.classify(images, { budget: { avgMflops: target + 1e-9 } });
    const mean = rs.reduce((a, r) => a + r.mflops, 0) / N;
    expect(Math.abs(mean - target)).toBeLessThan(0.15 * target);
    await expect(model.calibrate({ input: images, labels: labels.slice(1) })).rejects.toThrow(/expected 48 labels/);
    await expect(model.calibrate({ input: images, labels: labels.map(() => 12) })).rejects.toThrow(/label 0 is 12/);
  });

  it('serves concurrent callers: 16 interleaved calls equal sequential ones', async () => {
    const per = 784;
    const slices = Array.from({ length: 16 }, (_, i) => ({ data: images.data.subarray(i * 3 * per, (i + 1) * 3 * per), dims: [3, 1, 28, 28] }));
    const sequential: ClassifyResult[][] = [];
    for (const s of slices) sequential.push(await model.classify(s));
    const parallel = await Promise.all(slices.map((s) => model.classify(s)));
    expect(parallel.map(summary)).toEqual(sequential.map(summary));
  });

  it('falls back to the CPU with a warning when CUDA or WebGPU cannot run here', async () => {
    for (const executionProvider of ['cuda', 'webgpu'] as const) {
      const warnings: string[] = [];
      const m = await AdaptiveModel.load(modelDir, { executionProvider, warn: (w) => warnings.push(w) });
      try {
        if (m.executionProvider === 'cpu') expect(warnings.join('\n')).toMatch(new RegExp(`the ${executionProvider} execution provider is not usable here .*running on the CPU instead`));
        else expect(m.executionProvider).toBe(executionProvider);
        expect(summary(await m.classify(images))).toEqual(summary(await model.classify(images)));
      } finally {
        await m.close();
      }
    }
    await expect(AdaptiveModel.load(modelDir, { executionProvider: 'tpu' as never })).rejects.toThrow(/executionProvider: expected one of cpu, cuda, webgpu, got "tpu"/);
  });

  it('runs fused on two threads with and without spinning alike, and rejects a spinning flag that is not a boolean', async () => {
    const results = [];
    for (const spinning of [true, false]) {
      const m = await AdaptiveModel.load(modelDir, { threads: 2, spinning });
      try {
        expect(m.execution).toBe('fused');
        results.push(summary(await m.classify(images)));
      } finally {
        await m.close();
      }
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]).toEqual(summary(await model.classify(images)));
    await expect(AdaptiveModel.load(modelDir, { spinning: 'yes' as never })).rejects.toThrow(/spinning: expected true or false, got "yes"/);
  });

  it('runtime/web (WASM, in Node) returns what runtime/node returns, but within 1e-4 of a threshold', async () => {
    const web = await WebAdaptiveModel.load(modelDir);
    try {
      expect(web.executionProvider).toBe('wasm');
      const thresholds = manifest.exitPolicy.default.thresholds;
      const fresh = await AdaptiveModel.load(modelDir);
      const a = await fresh.classify(images);
      await fresh.close();
      const b = await web.classify(images);
      let compared = 0;
      const streamed: number[] = [];
      for await (const e of web.stream(images, { budget: everyExit() })) streamed.push(e.exit);
      expect(streamed).toEqual([1, 2, 3]);
      a.forEach((r, i) => {
        const nearThreshold = r.stageMs.some((_, k) => Math.abs(fullConfidence(k, i) - thresholds[k]!) < 1e-4);
        if (nearThreshold) return;
        compared++;
        expect([b[i]!.exit, b[i]!.classIndex]).toEqual([r.exit, r.classIndex]);
        expect(Math.abs(b[i]!.confidence - r.confidence)).toBeLessThan(1e-4);
      });
      expect(compared).toBeGreaterThan(N - 5);
    } finally {
      await web.close();
    }
  });
});

/** max-softmax confidence of sample i at exit k+1 from full.onnx. */
function fullConfidence(k: number, i: number): number {
  const z = fullLogits[k]!.subarray(i * 10, (i + 1) * 10);
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - m));
  return Math.max(...e) / e.reduce((a, b) => a + b, 0);
}
