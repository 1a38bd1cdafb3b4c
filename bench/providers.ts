/**
 * @module bench/providers
 * `npm run bench:providers -- --model DIR [--providers cpu,webgpu,cuda] [--images N] [--batches 1,64,256]`:
 * the same model on each onnxruntime-node execution provider. For each provider: which one the
 * sessions really got (a provider that cannot start falls back to the CPU with a warning, which is
 * recorded), agreement with the CPU provider (largest logit difference per exit, predictions and
 * exits under the default policy), and images/s with and without early exit per batch size.
 * It is the check to run on a machine with a GPU. Prints a table, writes JSON and markdown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { readManifest } from '../manifest/index.js';
import { AdaptiveModel, NODE_EXECUTION_PROVIDERS, type Budget, type ClassifyResult, type NodeExecutionProvider } from '../runtime/node/index.js';
import { readTestTensor } from './test-set.js';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    providers: { type: 'string', default: NODE_EXECUTION_PROVIDERS.join(',') },
    images: { type: 'string', default: '2048' },
    batches: { type: 'string', default: '1,64,256' },
    threads: { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '3' },
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
if (!flags.model) fail('expected --model DIR (a directory written by `adaptive-exit export`).');
const providers = flags.providers!.split(',') as NodeExecutionProvider[];
for (const p of providers) if (!(NODE_EXECUTION_PROVIDERS as readonly string[]).includes(p)) fail(`--providers: unknown provider ${JSON.stringify(p)}; known: ${NODE_EXECUTION_PROVIDERS.join(', ')}.`);
if (providers[0] !== 'cpu') providers.unshift('cpu'); // the reference every other provider is compared with
const [count] = positiveList('images', flags.images!);
const batches = positiveList('batches', flags.batches!);
const [threads] = positiveList('threads', flags.threads!);
const [rounds] = positiveList('rounds', flags.rounds!);
const out = resolve(flags.out!);

const modelDir = flags.model;
const manifest = await readManifest(modelDir);
const test = await readTestTensor(manifest, count!, flags.data).catch((e: Error) => fail(e.message));
const K = manifest.stages.length;
const NO_EXIT: Budget = { thresholds: new Array<number>(K).fill(Infinity) };
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

interface ProviderReport {
  requested: NodeExecutionProvider;
  active: string;
  fallbackWarning?: string;
  loadMs: number;
  /** Largest |logit − CPU logit| per exit. */
  maxLogitDiff?: number[];
  /** Samples whose exit or prediction under the default policy differs from the CPU's. */
  defaultPolicyMismatches?: number;
  accuracy: number;
  rows: Array<{ batch: number; mode: string; imagesPerSecond: number; p50Ms: number }>;
}

let cpuLogits: Float32Array[] | undefined;
let cpuResults: ClassifyResult[] | undefined;
const reports: ProviderReport[] = [];
for (const requested of providers) {
  const warnings: string[] = [];
  const t0 = performance.now();
  const model = await AdaptiveModel.load(modelDir, { executionProvider: requested, intraOpThreads: threads, warn: (m) => warnings.push(m) });
  const loadMs = performance.now() - t0;
  process.stderr.write(`${requested}: sessions on ${model.executionProvider}${warnings.length ? ` (${warnings[0]})` : ''}\n`);
  const logits = await allExitLogits(model);
  const results = await classifyAll(model);
  const report: ProviderReport = {
    requested,
    active: model.executionProvider,
    ...(warnings.length ? { fallbackWarning: warnings[0] } : {}),
    loadMs,
    accuracy: (100 * results.filter((r, i) => r.classIndex === test.labels[i]).length) / test.n,
    rows: [],
  };
  if (!cpuLogits) {
    cpuLogits = logits;
    cpuResults = results;
  } else {
    report.maxLogitDiff = logits.map((l, k) => l.reduce((m, v, j) => Math.max(m, Math.abs(v - cpuLogits![k]![j]!)), 0));
    report.defaultPolicyMismatches = results.filter((r, i) => r.exit !== cpuResults![i]!.exit || r.classIndex !== cpuResults![i]!.classIndex).length;
  }
  for (const batch of batches) {
    for (const [mode, budget] of [['all stages', NO_EXIT], ['default policy', undefined]] as const) {
      const usable = Math.floor(test.n / batch) * batch;
      if (usable === 0) continue;
      await model.classify(slice(0, batch), { budget }); // warm-up (GPU kernels compile on first use)
      const seconds: number[] = [];
      const latencies: number[] = [];
      for (let r = 0; r < rounds!; r++) {
        const start = performance.now();
        for (let o = 0; o < usable; o += batch) {
          const t = performance.now();
          await model.classify(slice(o, batch), { budget });
          latencies.push(performance.now() - t);
        }
        seconds.push((performance.now() - start) / 1000);
      }
      seconds.sort((a, b) => a - b);
      latencies.sort((a, b) => a - b);
      report.rows.push({ batch, mode, imagesPerSecond: usable / seconds[Math.floor(seconds.length / 2)]!, p50Ms: latencies[Math.floor(latencies.length / 2)]! });
      process.stderr.write(`${requested}: batch ${batch}, ${mode}: ${report.rows.at(-1)!.imagesPerSecond.toFixed(0)} img/s\n`);
    }
  }
  reports.push(report);
  await model.close();
}

const fmt = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));
console.table(
  reports.flatMap((r) =>
    r.rows.map((row) => ({ requested: r.requested, active: r.active, batch: row.batch, mode: row.mode, 'img/s': fmt(row.imagesPerSecond, 0), 'p50 ms': fmt(row.p50Ms), 'acc %': fmt(r.accuracy), 'max |Δlogit| vs cpu': r.maxLogitDiff ? Math.max(...r.maxLogitDiff).toExponential(1) : '-', 'exit/prediction mismatches': r.defaultPolicyMismatches ?? '-' })),
  ),
);
for (const r of reports) if (r.fallbackWarning) console.log(`${r.requested}: ${r.fallbackWarning}`);
mkdirSync(resolve(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: availableParallelism(), model: manifest.model, images: test.n, threads, reports }, null, 2)}\n`);
const md = [
  `Model \`${manifest.model.id}\` (${K} exits), ${test.n} test images, ${threads} intra-op thread(s), ${cpus()[0]?.model ?? 'CPU'}.`,
  '',
  '| requested | sessions ran on | batch | mode | img/s | p50 ms | acc % | max abs logit diff vs cpu | default-policy mismatches |',
  '|---|---|---|---|---|---|---|---|---|',
  ...reports.flatMap((r) => r.rows.map((row) => `| ${r.requested} | ${r.active} | ${row.batch} | ${row.mode} | ${fmt(row.imagesPerSecond, 0)} | ${fmt(row.p50Ms)} | ${fmt(r.accuracy)} | ${r.maxLogitDiff ? Math.max(...r.maxLogitDiff).toExponential(1) : '-'} | ${r.defaultPolicyMismatches ?? '-'} |`)),
  '',
  ...reports.filter((r) => r.fallbackWarning).map((r) => `- ${r.requested}: ${r.fallbackWarning}`),
].join('\n');
writeFileSync(out.replace(/\.json$/, '.md'), `${md}\n`);
console.log(`wrote ${out}`);
