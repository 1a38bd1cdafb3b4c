/**
 * `adaptive-exit calibrate` on an imported PyTorch MSDNet (made at test time): CIFAR-10 when
 * `adaptive-exit data cifar10` has provided it, else Debian's Fashion-MNIST (the model resizes
 * the 28×28 grey images to its 32×32 RGB input). Untrained weights: accuracy is not asserted,
 * the table, the rewrite and budgets are.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_FILES, DEFAULT_CIFAR10_DIR, FASHION_MNIST_DIR, readDatasetSplit, type DatasetName } from '../../datasets/index.js';
import { readManifest } from '../../manifest/index.js';
import { AdaptiveModel, calibrateModelDir, InputError } from '../../runtime/node/index.js';
import { PEER_UNAVAILABLE, runPeer } from '../helpers/torch-peer.js';
import { images, python, runCli, TORCH_UNAVAILABLE } from './import-helpers.js';

const CIFAR = existsSync(join(DEFAULT_CIFAR10_DIR, CIFAR10_FILES.test[0]!));
const FASHION = existsSync(FASHION_MNIST_DIR);
const DATASET: DatasetName | undefined = CIFAR ? 'cifar10' : FASHION ? 'fashion-mnist' : undefined;
const UNAVAILABLE = TORCH_UNAVAILABLE ?? PEER_UNAVAILABLE ?? (DATASET ? undefined : `neither CIFAR-10 (${DEFAULT_CIFAR10_DIR}; run \`adaptive-exit data cifar10\`) nor Fashion-MNIST (${FASHION_MNIST_DIR}) is installed`);
if (UNAVAILABLE) console.warn(`[calibrate.test] skipped: ${UNAVAILABLE}`);

const CLASSES = 'airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck';
const LIMIT = 200;
let dir: string;
const at = (name: string) => join(dir, name);

describe.skipIf(UNAVAILABLE !== undefined)(`adaptive-exit calibrate (${DATASET})`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-calibrate-'));
    runPeer(['--export-onnx', at('msdnet.onnx'), '--opset', '17']);
    python('residual_cnn.py', [at('residual.onnx')]);
    await runCli(['import', at('msdnet.onnx'), '--out', at('msdnet'), '--image', '32x32', '--mean', '0.4914,0.4824,0.4467', '--std', '0.2471,0.2435,0.2616', '--classes', CLASSES]);
    await runCli(['import', at('residual.onnx'), '--out', at('tensors')]);
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the table and default policy, leaves the stages alone, and budgets then work', async () => {
    const before = await readManifest(at('msdnet'));
    const stageBytes = await Promise.all(before.stages.map((s) => readFile(at(`msdnet/${s.file}`))));
    const { stdout, stderr } = await runCli(['calibrate', at('msdnet'), '--dataset', DATASET!, '--limit', String(LIMIT), '--ps', '0.1,0.5,1,2', '--batch-size', '100']);
    expect(stderr).toMatch(new RegExp(`calibrating .* on ${LIMIT} ${DATASET} images`));
    expect(stderr).toMatch(new RegExp(`${LIMIT}/${LIMIT} images`));
    const printed = JSON.parse(stdout) as { images: number; exitAccuracy: number[]; points: number };
    expect(printed.images).toBe(LIMIT);
    expect(printed.exitAccuracy).toHaveLength(7);

    const after = await readManifest(at('msdnet'));
    expect(after.calibration.points.map((p) => p.p)).toEqual([0.1, 0.5, 1, 2]);
    expect(after.exitPolicy.default.p).toBeDefined();
    expect(after.exitPolicy.default.valAccuracy).toBeGreaterThanOrEqual(0);
    expect(after.stages).toEqual(before.stages);
    expect(after.provenance.commands).toHaveLength(2);
    expect(after.provenance.commands![1]).toMatch(/^adaptive-exit calibrate .* --dataset /);
    // Buffer.equals: a deep toEqual over megabytes of weights takes a minute.
    for (const [k, s] of after.stages.entries()) expect((await readFile(at(`msdnet/${s.file}`))).equals(stageBytes[k]!)).toBe(true);

    // On the calibration images, a point's thresholds spend what the point says, and an
    // avgMflops budget picks the dearest point within it.
    const data = await readDatasetSplit(DATASET!, { split: 'test' });
    const per = data.height * data.width * data.channels;
    const pixels = Array.from({ length: LIMIT }, (_, i) => ({ data: data.images.subarray(i * per, (i + 1) * per), width: data.width, height: data.height, channels: data.channels as 1 | 3 }));
    const model = await AdaptiveModel.load(at('msdnet'));
    try {
      const point = after.calibration.points[1]!;
      const results = await model.classify(pixels, { budget: { thresholds: point.thresholds } });
      const mean = results.reduce((a, r) => a + r.mflops, 0) / results.length;
      expect(mean).toBeCloseTo(point.expectedMflops, 3);
      const budget = (point.expectedMflops + after.calibration.points[2]!.expectedMflops) / 2;
      const budgeted = await model.classify(pixels, { budget: { avgMflops: budget } });
      expect(budgeted.reduce((a, r) => a + r.mflops, 0) / budgeted.length).toBeLessThanOrEqual(budget);
      expect(new Set(budgeted.map((r) => r.exit)).size).toBeGreaterThan(1);
    } finally {
      await model.close();
    }
  });

  it('reads a folder with one subfolder per class, matched to the model classes by name', async () => {
    const data = await readDatasetSplit(DATASET!, { split: 'test' });
    const per = data.height * data.width * data.channels;
    const names = CLASSES.split(',');
    for (const c of [names[3]!, names[0]!]) await mkdir(at(`folder/${c}`), { recursive: true });
    let written = 0;
    for (let i = 0; written < 12 && i < data.count; i++) {
      const label = data.labels[i]!;
      if (label !== 0 && label !== 3) continue;
      const raw = data.images.subarray(i * per, (i + 1) * per);
      await sharp(raw, { raw: { width: data.width, height: data.height, channels: data.channels as 1 | 3 } }).png().toFile(at(`folder/${names[label]}/${i}.png`));
      written++;
    }
    const { stdout } = await runCli(['calibrate', at('msdnet'), '--dataset', 'folder', '--data', at('folder'), '--ps', '1']);
    expect(JSON.parse(stdout).images).toBe(12);
    expect((await readManifest(at('msdnet'))).calibration.points).toHaveLength(1);

    await mkdir(at('folder/zebra'));
    await sharp(Buffer.alloc(32 * 32 * 3), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(at('folder/zebra/0.png'));
    await expect(runCli(['calibrate', at('msdnet'), '--dataset', 'folder', '--data', at('folder')])).rejects.toThrow(/subfolders "zebra" are not classes of the model/);
  });

  it('refuses a model that takes tensors only, naming --image, and writes nothing', async () => {
    const before = await readFile(at('tensors/manifest.json'), 'utf8');
    const data = await readDatasetSplit(DATASET!, { split: 'test' });
    await expect(calibrateModelDir(at('tensors'), { ...data, count: 2, images: data.images.subarray(0, 2 * data.height * data.width * data.channels), labels: data.labels.subarray(0, 2) }, false)).rejects.toThrow(InputError);
    await expect(runCli(['calibrate', at('tensors'), '--dataset', DATASET!, '--limit', '2'])).rejects.toThrow(/takes preprocessed tensors only.*--image/);
    expect(await readFile(at('tensors/manifest.json'), 'utf8')).toBe(before);
    // The uncalibrated model still runs tensors with explicit thresholds.
    const model = await AdaptiveModel.load(at('tensors'));
    try {
      const r = await model.classify({ data: images(2, [3, 32, 32]), dims: [2, 3, 32, 32] }, { budget: { thresholds: [-Infinity, 1, 1] } });
      expect(r.map((x) => x.exit)).toEqual([1, 1]);
    } finally {
      await model.close();
    }
  });
});
