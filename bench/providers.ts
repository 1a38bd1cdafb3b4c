/**
 * @module bench/providers
 * `npm run bench:providers -- [--model DIR] [--providers cpu,webgpu,webgpu-fused,webgpu-nchw,webgpu-nhwc,cuda] [--images N]
 * [--batches 1,64,256,1024] [--cell-seconds S] [--threads T] [--out FILE.json]`:
 * the same model on each onnxruntime-node execution provider, the check to run on a lent GPU.
 *
 * `webgpu-fused` is WebGPU with the fused graph (`fusedOnGpu`) instead of stage by stage;
 * `webgpu-nchw` and `webgpu-nhwc` are WebGPU stage by stage with that `preferredLayout` (plain
 * `webgpu` takes onnxruntime's default, NHWC in 1.30). Graph capture has no setup: onnxruntime-node
 * cannot turn it on (docs/gpu.md).
 * For each provider: which one the sessions really got (a provider that cannot start falls back
 * to the CPU with a warning, which is recorded), agreement with the CPU provider (largest logit
 * difference per exit; exits and predictions under the default policy), and for each batch size
 * and mode (every stage without exit; the default policy): images/s, p50/p99 batch latency, the
 * carried tensors and logits read back to host memory per batch, and under the default policy
 * the early-exit speedup over all stages and its ratio to the FLOPs-predicted speedup. Each cell
 * runs the same fixed set of images once, stopped at `--cell-seconds` (then the images it got
 * through are counted). Prints a table, writes JSON and markdown. The bundled model by default;
 * its dataset's test set when installed, else the bundled samples (tiled) with no accuracy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { readManifest, trainingProvenance, type Manifest } from '../manifest/index.js';
import { AdaptiveModel, NODE_EXECUTION_PROVIDERS, type AdaptiveModelOptions, type Budget, type ClassifyResult, type NodeExecutionProvider } from '../runtime/node/index.js';
import { readTestTensor, type TestTensor } from './test-set.js';

const BUNDLED_MODEL = resolve(import.meta.dirname, '../models/msdnet-cifar10');
const { values: flags } = parseArgs({
  options: {
    model: { type: 'string', default: BUNDLED_MODEL },
    data: { type: 'string' },
    providers: { type: 'string', default: NODE_EXECUTION_PROVIDERS.join(',') },
    images: { type: 'string', default: '2048' },
    batches: { type: 'string', default: '1,64,256,1024' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'cell-seconds': { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/results/providers.json' },
  },
});
function fail(message: string): never {
  console.error(`bench:providers: ${message}`);
  process.exit(2);
}
function positiveList(name: string, v: string): number[] {
  const list = v.split(',').map(Number);
  if (list.length === 0 || list.some((x) => !Number.isInteger(x) || x < 1)) fail(`--${name} expects positive integers separated by commas, got ${JSON.stringify(v)}.`);
  return list;
}
/** What each `--providers` entry loads: a provider, or WebGPU with one of its options. */
const SETUP_OPTIONS = {
  ...(Object.fromEntries(NODE_EXECUTION_PROVIDERS.map((p) => [p, { executionProvider: p }])) as Record<NodeExecutionProvider, AdaptiveModelOptions>),
  'webgpu-fused': { executionProvider: 'webgpu', fusedOnGpu: true },
  'webgpu-nchw': { executionProvider: 'webgpu', preferredLayout: 'NCHW' },
  'webgpu-nhwc': { executionProvider: 'webgpu', preferredLayout: 'NHWC' },
} satisfies Record<string, AdaptiveModelOptions>;
type Setup = keyof typeof SETUP_OPTIONS;
const SETUPS = Object.keys(SETUP_OPTIONS) as Setup[];
const providers = flags.providers!.split(',') as Setup[];
for (const p of providers) if (!SETUPS.includes(p)) fail(`--providers: unknown provider ${JSON.stringify(p)}; known: ${SETUPS.join(', ')}.`);
if (providers[0] !== 'cpu') providers.unshift('cpu'); // the reference every other provider is compared with
const [count] = positiveList('images', flags.images!);
const batches = positiveList('batches', flags.batches!);
const [threads] = positiveList('threads', flags.threads!);
const cellSeconds = Number(flags['cell-seconds']);
if (!(cellSeconds > 0)) fail(`--cell-seconds expects a positive number, got ${JSON.stringify(flags['cell-seconds'])}.`);
const out = resolve(flags.out!);

const modelDir = flags.model!;
const manifest = await readManifest(modelDir).catch((e: Error) => fail(e.message));
const K = manifest.stages.length;
const NO_EXIT: Budget = { thresholds: new Array<number>(K).fill(Infinity) };

/** The dataset's test images, or the bundled samples tiled to `count` (no labels: no accuracy). */
async function images(m: Manifest): Promise<TestTensor & { labelled: boolean; source: string }> {
  try {
    return { ...(await readTestTensor(m, count!, flags.data)), labelled: true, source: `${trainingProvenance(m.provenance)?.dataset ?? 'the'} test set` };
  } catch (e) {
    const model = await AdaptiveModel.load(modelDir);
    const index = JSON.parse(await readFile(join(modelDir, 'samples', 'index.json'), 'utf8')) as Array<{ file: string }>;
    const { data, n } = await model.preprocess(index.map((s) => join(modelDir, 'samples', s.file)));
    await model.close();
    const per = data.length / n;
    const tiled = new Float32Array(count! * per);
    for (let i = 0; i < count!; i++) tiled.set(data.subarray((i % n) * per, ((i % n) + 1) * per), i * per);
    process.stderr.write(`bench:providers: ${(e as Error).message.split('\n')[0]}; using the ${n} bundled samples, tiled to ${count}.\n`);
    return { images: tiled, labels: new Uint8Array(count!), n: count!, per, chw: manifest.input.dims.slice(1) as [number, number, number], labelled: false, source: `${n} bundled samples, tiled` };
  }
}
const test = await images(manifest);
const slice = (o: number, size: number) => ({ data: test.images.subarray(o * test.per, (o + size) * test.per), dims: [size, ...test.chw] });

/** Every exit's logits for every image, exit-major: logits[k][i·N + c]. */
async function allExitLogits(model: AdaptiveModel): Promise<Float32Array[]> {
  const N = manifest.classNames.length;
  const logits = Array.from({ length: K }, () => new Float32Array(test.n * N));
  for (let o = 0; o < test.n; o += 256) {
    const size = Math.min(256, test.n - o);
    for await (const event of model.stream(slice(o, size), { budget: NO_EXIT })) logits[event.exit - 1]!.set(event.logits, o * N);
  }
  return logits;
}
async function classifyAll(model: AdaptiveModel): Promise<ClassifyResult[]> {
  const results: ClassifyResult[] = [];
  for (let o = 0; o < test.n; o += 256) results.push(...(await model.classify(slice(o, Math.min(256, test.n - o)), { topK: 1 })));
  return results;
}

interface Cell {
  batch: number;
  mode: 'all stages' | 'default policy';
  images: number;
  /** True when the time cap stopped the cell before every image ran. */
  capped: boolean;
  imagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMflops: number;
  deviceDownloadsPerBatch: number;
  logitsDownloadsPerBatch: number;
  /** Default policy: images/s over all stages' images/s at this batch. */
  speedup?: number;
  /** Default policy: all stages' MFLOPs over the mean MFLOPs spent. */
  flopsSpeedup?: number;
  /** speedup / flopsSpeedup. */
  efficiency?: number;
}
interface ProviderReport {
  requested: Setup;
  active: string;
  execution: string;
  fallbackWarning?: string;
  loadMs: number;
  maxLogitDiff?: number[];
  defaultPolicyMismatches?: number;
  accuracy?: number;
  cells: Cell[];
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** One cell: the fixed images once, in batches, stopped at the time cap. */
async function cell(model: AdaptiveModel, batch: number, mode: Cell['mode']): Promise<Cell | undefined> {
  const usable = Math.floor(test.n / batch) * batch;
  if (usable === 0) return undefined;
  const budget = mode === 'all stages' ? NO_EXIT : undefined;
  await model.classify(slice(0, batch), { budget }); // warm-up: GPU kernels compile on first use
  model.resetStats();
  const latencies: number[] = [];
  let mflops = 0;
  let done = 0;
  const start = performance.now();
  while (done < usable && performance.now() - start < cellSeconds * 1000) {
    const t = performance.now();
    const r = await model.classify(slice(done, batch), { budget, topK: 1 });
    latencies.push(performance.now() - t);
    for (const x of r) mflops += x.mflops;
    done += batch;
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    batch,
    mode,
    images: done,
    capped: done < usable,
    imagesPerSecond: done / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    meanMflops: mflops / done,
    deviceDownloadsPerBatch: model.stats.deviceDownloads / latencies.length,
    logitsDownloadsPerBatch: model.stats.logitsDownloads / latencies.length,
  };
}

let cpuLogits: Float32Array[] | undefined;
let cpuResults: ClassifyResult[] | undefined;
const reports: ProviderReport[] = [];
const fullMflops = manifest.stages.at(-1)!.cumulativeMflops;
for (const requested of providers) {
  const warnings: string[] = [];
  const t0 = performance.now();
  const model = await AdaptiveModel.load(modelDir, { ...SETUP_OPTIONS[requested], threads, warn: (m) => warnings.push(m) });
  const loadMs = performance.now() - t0;
  process.stderr.write(`${requested}: sessions on ${model.executionProvider} (${model.execution})${warnings.length ? ` (${warnings[0]})` : ''}\n`);
  const logits = await allExitLogits(model);
  const results = await classifyAll(model);
  const report: ProviderReport = {
    requested,
    active: model.executionProvider,
    execution: model.execution,
    ...(warnings.length ? { fallbackWarning: warnings[0] } : {}),
    loadMs,
    ...(test.labelled ? { accuracy: (100 * results.filter((r, i) => r.classIndex === test.labels[i]).length) / test.n } : {}),
    cells: [],
  };
  if (!cpuLogits) {
    cpuLogits = logits;
    cpuResults = results;
  } else {
    report.maxLogitDiff = logits.map((l, k) => l.reduce((m, v, j) => Math.max(m, Math.abs(v - cpuLogits![k]![j]!)), 0));
    report.defaultPolicyMismatches = results.filter((r, i) => r.exit !== cpuResults![i]!.exit || r.classIndex !== cpuResults![i]!.classIndex).length;
  }
  for (const batch of batches) {
    const all = await cell(model, batch, 'all stages');
    const policy = await cell(model, batch, 'default policy');
    if (!all || !policy) continue;
    policy.speedup = policy.imagesPerSecond / all.imagesPerSecond;
    policy.flopsSpeedup = fullMflops / policy.meanMflops;
    policy.efficiency = policy.speedup / policy.flopsSpeedup;
    report.cells.push(all, policy);
    process.stderr.write(`${requested}: batch ${batch}: ${all.imagesPerSecond.toFixed(0)} img/s all stages, ${policy.imagesPerSecond.toFixed(0)} default policy\n`);
  }
  reports.push(report);
  await model.close();
}

const fmt = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));
const cpuAt = (batch: number, mode: Cell['mode']) => reports[0]!.cells.find((c) => c.batch === batch && c.mode === mode);
const rows = reports.flatMap((r) =>
  r.cells.map((c) => ({
    requested: r.requested,
    active: `${r.active} (${r.execution})`,
    batch: c.batch,
    mode: c.mode,
    images: `${c.images}${c.capped ? ' (capped)' : ''}`,
    'img/s': fmt(c.imagesPerSecond, 0),
    'vs cpu': fmt(c.imagesPerSecond / (cpuAt(c.batch, c.mode)?.imagesPerSecond ?? NaN)),
    'p50 ms': fmt(c.p50Ms),
    'p99 ms': fmt(c.p99Ms),
    MFLOPs: fmt(c.meanMflops),
    'exit speedup': fmt(c.speedup),
    'FLOPs speedup': fmt(c.flopsSpeedup),
    'speedup / FLOPs': fmt(c.efficiency),
    'carried reads / batch': fmt(c.deviceDownloadsPerBatch, 1),
    'logits reads / batch': fmt(c.logitsDownloadsPerBatch, 1),
  })),
);
console.table(rows);
for (const r of reports) if (r.fallbackWarning) console.log(`${r.requested}: ${r.fallbackWarning}`);
mkdirSync(resolve(out, '..'), { recursive: true });
const about = { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: availableParallelism(), model: manifest.model, images: test.n, imageSource: test.source, threads, cellSeconds };
writeFileSync(out, `${JSON.stringify({ ...about, reports }, null, 2)}\n`);
const header = Object.keys(rows[0] ?? {});
const md = [
  `Model \`${manifest.model.id}\` (${K} exits), ${test.n} images (${test.source}), cells capped at ${cellSeconds} s, ${threads} CPU intra-op thread(s), ${cpus()[0]?.model ?? 'CPU'}, ${about.date}.`,
  '',
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${Object.values(row).join(' | ')} |`),
  '',
  ...reports.map((r) => `- ${r.requested}: sessions on ${r.active}; load ${fmt(r.loadMs, 0)} ms${r.accuracy === undefined ? '' : `; accuracy ${fmt(r.accuracy)} %`}${r.maxLogitDiff ? `; max abs logit diff vs cpu ${Math.max(...r.maxLogitDiff).toExponential(1)}, default-policy exit/prediction mismatches ${r.defaultPolicyMismatches}` : ''}${r.fallbackWarning ? `; ${r.fallbackWarning}` : ''}`),
].join('\n');
writeFileSync(out.replace(/\.json$/, '.md'), `${md}\n`);
console.log(`wrote ${out}`);
