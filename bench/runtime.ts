/**
 * @module bench/runtime
 * `npm run bench:runtime -- --model DIR [--dataset fashion-mnist|cifar10] [--data DIR] [--images N]`:
 * does early exit turn saved FLOPs into saved wall-clock time? On an exported model and its test
 * set, images/s and p50/p99 latency at batch 1 and batch 64 for (a) full.onnx, (b) every stage
 * without early exit, (c) early exit at several budgets; for each the accuracy, mean MFLOPs, the
 * wall-clock speedup over (a) and that speedup divided by the FLOPs-predicted one.
 * Prints a table and writes JSON (and a markdown table) under bench/results/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { readManifest } from '../manifest/index.js';
import { AdaptiveModel, type Budget } from '../runtime/node/index.js';
import { CIFAR10_NORMALIZATION, FASHION_MNIST_NORMALIZATION, readCifar10, readFashionMnist } from '../training/data/index.js';

function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const modelDir = flag('--model');
if (!modelDir) {
  console.error('bench:runtime: expected --model DIR (a directory written by `adaptive-exit export`).');
  process.exit(2);
}
const dataset = flag('--dataset', 'fashion-mnist')!;
const count = Number(flag('--images', '2000'));
const threads = Number(flag('--threads', String(availableParallelism())));
const out = resolve(flag('--out', 'bench/results/runtime.json')!);

const manifest = await readManifest(modelDir);
const [C, H, W] = manifest.input.dims.slice(1) as [number, number, number];
const test = dataset === 'cifar10' ? await readCifar10(flag('--data')!, { split: 'test' }) : await readFashionMnist({ dir: flag('--data'), split: 'test' });
const norm = dataset === 'cifar10' ? CIFAR10_NORMALIZATION : FASHION_MNIST_NORMALIZATION;
const n = Math.min(count, test.count);
// NHWC uint8 to normalised NCHW float32, once.
const images = new Float32Array(n * C * H * W);
for (let i = 0; i < n; i++)
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < C; c++) images[((i * C + c) * H + y) * W + x] = (test.images[((i * H + y) * W + x) * C + c]! / 255 - norm.mean[c]!) / norm.std[c]!;
const labels = test.labels.subarray(0, n);
const per = C * H * W;
const K = manifest.stages.length;
const fullMflops = manifest.stages[K - 1]!.cumulativeMflops;

interface Row {
  mode: string;
  batch: number;
  imagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  accuracy: number;
  meanMflops: number;
  speedup?: number;
  flopsSpeedup?: number;
  efficiency?: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function timeBatches(batch: number, runBatch: (offset: number, size: number) => Promise<number[]>): Promise<{ latencies: number[]; preds: number[]; seconds: number }> {
  const preds: number[] = [];
  const latencies: number[] = [];
  await runBatch(0, Math.min(batch, n)); // warm-up
  const start = performance.now();
  for (let o = 0; o + batch <= n; o += batch) {
    const t = performance.now();
    preds.push(...(await runBatch(o, batch)));
    latencies.push(performance.now() - t);
  }
  return { latencies: latencies.sort((a, b) => a - b), preds, seconds: (performance.now() - start) / 1000 };
}

const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 };
const full = await ort.InferenceSession.create(readFileSync(join(modelDir, manifest.fullModel?.file ?? 'full.onnx')), sessionOptions);
const model = await AdaptiveModel.load(modelDir, { intraOpThreads: threads });
const budgets: Array<[string, Budget | undefined]> = [
  ['all stages, no early exit', { maxExit: K, thresholds: new Array(K).fill(1e8) }],
  ['early exit: default policy', undefined],
  ...manifest.calibration.points
    .filter((_, i, all) => i === Math.floor(all.length * 0.1) || i === Math.floor(all.length * 0.3) || i === Math.floor(all.length * 0.6) || i === all.length - 1)
    .map((p) => [`early exit: p = ${p.p.toFixed(2)}`, { thresholds: p.thresholds }] as [string, Budget]),
];

const rows: Row[] = [];
for (const batch of [1, 64]) {
  process.stderr.write(`batch ${batch}: full.onnx\n`);
  const f = await timeBatches(batch, async (o, size) => {
    const res = await full.run({ [manifest.input.name]: new ort.Tensor('float32', images.subarray(o * per, (o + size) * per), [size, C, H, W]) });
    const z = res[`logits_${K}`]!.data as Float32Array;
    const N = manifest.classNames.length;
    return Array.from({ length: size }, (_, i) => {
      let best = 0;
      for (let c = 1; c < N; c++) if (z[i * N + c]! > z[i * N + best]!) best = c;
      return best;
    });
  });
  const fullIps = f.preds.length / f.seconds;
  const acc = (p: number[]) => (100 * p.filter((v, i) => v === labels[i]).length) / p.length;
  rows.push({ mode: 'full.onnx', batch, imagesPerSecond: fullIps, p50Ms: quantile(f.latencies, 0.5), p99Ms: quantile(f.latencies, 0.99), accuracy: acc(f.preds), meanMflops: fullMflops });
  for (const [mode, budget] of budgets) {
    process.stderr.write(`batch ${batch}: ${mode}\n`);
    let mflopsSum = 0;
    const r = await timeBatches(batch, async (o, size) => {
      const res = await model.classify({ data: images.subarray(o * per, (o + size) * per), dims: [size, C, H, W] }, { budget, topK: 1 });
      mflopsSum += res.reduce((a, s) => a + s.mflops, 0);
      return res.map((s) => s.classIndex);
    });
    // The warm-up batch's MFLOPs are not part of the timed run.
    const meanMflops = mflopsSum / (r.preds.length + Math.min(batch, n));
    const ips = r.preds.length / r.seconds;
    const speedup = ips / fullIps;
    const flopsSpeedup = fullMflops / meanMflops;
    rows.push({ mode, batch, imagesPerSecond: ips, p50Ms: quantile(r.latencies, 0.5), p99Ms: quantile(r.latencies, 0.99), accuracy: acc(r.preds), meanMflops, speedup, flopsSpeedup, efficiency: speedup / flopsSpeedup });
  }
}
await model.close();
await full.release();

const fmt = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));
console.table(rows.map((r) => ({ mode: r.mode, batch: r.batch, 'img/s': fmt(r.imagesPerSecond, 0), 'p50 ms': fmt(r.p50Ms), 'p99 ms': fmt(r.p99Ms), 'acc %': fmt(r.accuracy), MFLOPs: fmt(r.meanMflops), speedup: fmt(r.speedup), 'FLOPs speedup': fmt(r.flopsSpeedup), 'speedup / FLOPs speedup': fmt(r.efficiency) })));
mkdirSync(resolve(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, threads, model: manifest.model, dataset, images: n, rows }, null, 2)}\n`);
const md = [
  '| mode | batch | img/s | p50 ms | p99 ms | acc % | MFLOPs | speedup | FLOPs speedup | ratio |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.mode} | ${r.batch} | ${fmt(r.imagesPerSecond, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.accuracy)} | ${fmt(r.meanMflops)} | ${fmt(r.speedup)} | ${fmt(r.flopsSpeedup)} | ${fmt(r.efficiency)} |`),
].join('\n');
writeFileSync(out.replace(/\.json$/, '.md'), `${md}\n`);
console.log(`wrote ${out}`);
